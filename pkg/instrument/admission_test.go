package instrument_test

import (
	"context"
	"testing"
)

// TestQueueBypassedAndZeroes: runs admitted at once record a zero wait, and
// ExposeZeroes makes the queue depth and both overflow series exist at 0.
func TestQueueBypassedAndZeroes(t *testing.T) {
	ctx := context.Background()
	rec, reader := newRecorder(t)
	rec.ExposeZeroes(ctx)
	rec.ExposeZeroes(ctx)
	rec.QueueBypassed(ctx)
	rec.QueueBypassed(ctx)
	rec.QueueEntered(ctx)
	rec.QueueLeft(ctx, 20*ms)
	assertMetrics(t, collect(t, reader),
		updown("orchestrator.run.queue_depth", "{run}", pt(0)),
		hist("orchestrator.run.queue_wait", hp([]float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30}, nil, 0, 0, 0.02)),
		counter("orchestrator.label.overflow", "{measurement}", pt(0, s("label", "workflow_name")), pt(0, s("label", "model"))),
	)
}
