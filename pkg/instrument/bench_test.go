package instrument_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
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

// llmSteps is the event pairs of 50 workflows x 5 models, in rotation so
// that the attribute cache and the SDK's series maps are exercised.
func llmSteps() (prs []observe.ProviderRequest, ses []observe.StepEnd) {
	for w := range 50 {
		for m := range 5 {
			pr, se := llmStep(fmt.Sprintf("workflow-%02d", w), fmt.Sprintf("gpt-4o-%d", m))
			prs, ses = append(prs, pr), append(ses, se)
		}
	}
	return prs, ses
}

// BenchmarkRecordLLMStep measures the recording path of one llm step, 50
// workflows x 5 models in rotation, with the cache's cost included:
//
//   - genai=false: the 6 measurements of the nine metrics, on the real SDK
//     (ManualReader, our Views, exemplars off). Target: <= 1 us/op, 0 allocs;
//   - genai=true: the same plus the 3 GenAI semantic-convention measurements
//     (the default);
//   - sdk=noop: genai=true on a no-op MeterProvider: our own share (cache
//     lookups, label limits, event decoding) without the SDK.
//
// BenchmarkSDKFloor is the SDK's own cost of the same 6 measurements.
func BenchmarkRecordLLMStep(b *testing.B) {
	prs, ses := llmSteps()
	for _, bc := range []struct {
		name  string
		genAI bool
		noop  bool
	}{{"genai=false", false, false}, {"genai=true", true, false}, {"sdk=noop", true, true}} {
		b.Run(bc.name, func(b *testing.B) {
			var rec *instrument.Recorder
			if bc.noop {
				var err error
				if rec, err = instrument.New(noop.NewMeterProvider()); err != nil {
					b.Fatal(err)
				}
			} else {
				rec, _ = newRecorder(b, instrument.WithGenAI(bc.genAI))
			}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := i % len(prs)
				rec.ProviderRequestFinished(ctx, prs[k])
				rec.StepFinished(ctx, ses[k])
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

// BenchmarkSDKFloor is the SDK's own cost for the same 6 measurements as
// BenchmarkRecordLLMStep/genai=false, on instruments of the same kinds and
// buckets, with the same 250 label tuples in rotation and every option
// built once, outside the loop: the floor the recorder is compared against.
func BenchmarkSDKFloor(b *testing.B) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithView(instrument.Views()...),
		sdkmetric.WithExemplarFilter(exemplar.AlwaysOffFilter))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	m := mp.Meter("floor")
	c, _ := m.Int64Counter("c")
	h, _ := m.Float64Histogram("h", metric.WithExplicitBucketBoundaries(0.1, 0.5, 1, 2, 5, 10, 30, 60))
	opt := func(kv ...attribute.KeyValue) metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(kv...))
	}
	type opts struct {
		req, in, out, se []metric.AddOption
		pm, sd           []metric.RecordOption
	}
	prs, _ := llmSteps()
	all := make([]opts, len(prs))
	for i, pr := range prs {
		p, mo := attribute.String("provider", pr.Provider), attribute.String("model", pr.Model)
		all[i] = opts{
			req: []metric.AddOption{opt(p, mo, attribute.String("status", "success"))},
			pm:  []metric.RecordOption{opt(p, mo)},
			in:  []metric.AddOption{opt(p, mo, attribute.String("type", "input"))},
			out: []metric.AddOption{opt(p, mo, attribute.String("type", "output"))},
			se:  []metric.AddOption{opt(attribute.String("step_type", "llm"), attribute.String("status", "success"))},
			sd:  []metric.RecordOption{opt(attribute.String("step_type", "llm"))},
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		o := &all[i%len(all)]
		c.Add(ctx, 1, o.req...)
		h.Record(ctx, 0.842, o.pm...)
		c.Add(ctx, 512, o.in...)
		c.Add(ctx, 128, o.out...)
		c.Add(ctx, 1, o.se...)
		h.Record(ctx, 0.845, o.sd...)
		i++
	}
}
