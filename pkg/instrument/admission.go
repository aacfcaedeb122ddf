package instrument

import "context"

// QueueBypassed records a zero wait in orchestrator.run.queue_wait for a run
// that started without waiting for admission. Together with QueueLeft it
// makes the histogram count every run that passed admission control, so its
// count equals the admitted runs and its quantiles say what share waited.
func (r *Recorder) QueueBypassed(ctx context.Context) { r.inst.queueWait.Record(ctx, 0) }

// ExposeZeroes adds 0 to the series whose label values are known in
// advance, orchestrator_run_queue_depth and
// orchestrator_label_overflow_total{label="workflow_name"|"model"}, so that
// they exist from the start: dashboards then show 0 rather than no data, and
// rate() and increase() count their first increments. Call it once after
// New (orchestrator serve does); calling it again changes nothing.
func (r *Recorder) ExposeZeroes(ctx context.Context) {
	r.inst.queueDepth.Add(ctx, 0)
	r.inst.overflow.Add(ctx, 0, r.overflowWorkflow...)
	r.inst.overflow.Add(ctx, 0, r.overflowModel...)
}
