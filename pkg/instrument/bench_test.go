package instrument_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
)

// llmStep is the event pair of one llm step: the provider request (request
// count, duration, input and output tokens) and the step end (step count
// and duration). With the nine metrics only, that is 6 measurements.
func llmStep(wf, model string) (observe.ProviderRequest, observe.StepEnd) {
	return observe.ProviderRequest{
			RunID: "0123456789abcdef", Workflow: wf, StepID: "summarize", Provider: "openai",
			ProviderKind: "openai", ServerAddress: "api.openai.com", ServerPort: 443,
			Operation: observe.OpChat, Model: model, ResponseModel: model, Status: observe.StatusSuccess,
			Duration: 842 * time.Millisecond, InputTokens: 512, OutputTokens: 128,
		}, observe.StepEnd{
			RunID: "0123456789abcdef", Workflow: wf, StepID: "summarize", StepType: "llm",
			Status: observe.StatusSuccess, Attempts: 1, Duration: 845 * time.Millisecond,
		}
}

// BenchmarkRecordLLMStep measures the recording path of one llm step on the
// real SDK (ManualReader, our Views), 50 workflows x 5 models in rotation so
// the attribute cache is exercised. Target: <= 1 us/op, 0 allocs/op.
func BenchmarkRecordLLMStep(b *testing.B) {
	for _, genAI := range []bool{false, true} {
		b.Run(fmt.Sprintf("genai=%t", genAI), func(b *testing.B) {
			rec, _ := newRecorder(b, instrument.WithGenAI(genAI))
			ctx := context.Background()
			type pair struct {
				pr observe.ProviderRequest
				se observe.StepEnd
			}
			var events []pair
			for w := range 50 {
				for m := range 5 {
					pr, se := llmStep(fmt.Sprintf("workflow-%02d", w), fmt.Sprintf("gpt-4o-%d", m))
					events = append(events, pair{pr, se})
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e := &events[i%len(events)]
				rec.ProviderRequestFinished(ctx, e.pr)
				rec.StepFinished(ctx, e.se)
				i++
			}
		})
	}
}

// BenchmarkRecordRun measures the run-level events (start and end).
func BenchmarkRecordRun(b *testing.B) {
	rec, _ := newRecorder(b)
	ctx := context.Background()
	start := observe.RunStart{RunID: "0123456789abcdef", Workflow: "ticket-triage"}
	end := observe.RunEnd{RunID: "0123456789abcdef", Workflow: "ticket-triage", Status: observe.StatusSuccess,
		Duration: 1200 * time.Millisecond}
	b.ReportAllocs()
	for b.Loop() {
		rec.RunStarted(ctx, start)
		rec.RunFinished(ctx, end)
	}
}

// BenchmarkRecordLLMStepParallel is BenchmarkRecordLLMStep from all cores.
func BenchmarkRecordLLMStepParallel(b *testing.B) {
	rec, _ := newRecorder(b, instrument.WithGenAI(false))
	ctx := context.Background()
	pr, se := llmStep("ticket-triage", "gpt-4o-mini")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec.ProviderRequestFinished(ctx, pr)
			rec.StepFinished(ctx, se)
		}
	})
}

// BenchmarkSDKFloor is the SDK's own cost for the same 6 measurements with
// attribute options built once: the floor BenchmarkRecordLLMStep is compared
// against.
func BenchmarkSDKFloor(b *testing.B) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithView(instrument.Views()...),
		sdkmetric.WithExemplarFilter(exemplar.AlwaysOffFilter))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	m := mp.Meter("floor")
	c, _ := m.Int64Counter("c")
	h, _ := m.Float64Histogram("h")
	opt := func(kv ...attribute.KeyValue) metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(kv...))
	}
	p, mo := attribute.String("provider", "openai"), attribute.String("model", "gpt-4o-mini")
	req := []metric.AddOption{opt(p, mo, attribute.String("status", "success"))}
	pm := []metric.RecordOption{opt(p, mo)}
	in := []metric.AddOption{opt(p, mo, attribute.String("type", "input"))}
	out := []metric.AddOption{opt(p, mo, attribute.String("type", "output"))}
	se := []metric.AddOption{opt(attribute.String("step_type", "llm"), attribute.String("status", "success"))}
	sd := []metric.RecordOption{opt(attribute.String("step_type", "llm"))}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c.Add(ctx, 1, req...)
		h.Record(ctx, 0.842, pm...)
		c.Add(ctx, 512, in...)
		c.Add(ctx, 128, out...)
		c.Add(ctx, 1, se...)
		h.Record(ctx, 0.845, sd...)
	}
}
