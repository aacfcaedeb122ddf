package instrument_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
)

var genAIDurBounds = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
var genAITokBounds = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}

func TestGenAISemconv(t *testing.T) {
	ctx := context.Background()
	rec, reader := newRecorder(t)
	e := observe.ProviderRequest{Provider: "gpt", ProviderKind: "openai", ServerAddress: "api.openai.com",
		ServerPort: 443, Operation: observe.OpChat, Model: "gpt-4o", ResponseModel: "gpt-4o-2024-08-06",
		Status: ok, Duration: 1500 * ms, Stream: true, TimeToFirstChunk: 300 * ms, InputTokens: 100, OutputTokens: 50}
	rec.ProviderRequestFinished(ctx, e)
	e.Status, e.ErrorType, e.Stream, e.TimeToFirstChunk, e.InputTokens, e.OutputTokens, e.ResponseModel =
		fail, errtype.RateLimit, false, 0, 0, 0, ""
	rec.ProviderRequestFinished(ctx, e)
	emb := observe.ProviderRequest{Provider: "local", ProviderKind: "simulated", Operation: observe.OpEmbeddings,
		Model: "sim-embed", Status: ok, Duration: 5 * ms, InputTokens: 7}
	rec.ProviderRequestFinished(ctx, emb)

	base := attrs(s("gen_ai.operation.name", "chat"), s("gen_ai.provider.name", "openai"),
		s("gen_ai.request.model", "gpt-4o"), s("server.address", "api.openai.com"), attribute.Int("server.port", 443))
	okAttrs := append(slices.Clone(base), s("gen_ai.response.model", "gpt-4o-2024-08-06"))
	failAttrs := append(slices.Clone(base), s("error.type", "rate_limit"))
	embAttrs := attrs(s("gen_ai.operation.name", "embeddings"), s("gen_ai.provider.name", "simulated"),
		s("gen_ai.request.model", "sim-embed"))
	tok := func(a []kv, typ string, v int64) metricdata.HistogramDataPoint[int64] {
		return histPoint(genAITokBounds, append(slices.Clone(a), s("gen_ai.token.type", typ)), v)
	}
	got := collect(t, reader)
	assertMetrics(t, map[string]metricdata.Metrics{
		"gen_ai.client.operation.duration":            got["gen_ai.client.operation.duration"],
		"gen_ai.client.token.usage":                   got["gen_ai.client.token.usage"],
		"gen_ai.client.operation.time_to_first_chunk": got["gen_ai.client.operation.time_to_first_chunk"],
	},
		hist("gen_ai.client.operation.duration",
			hp(genAIDurBounds, okAttrs, 1.5), hp(genAIDurBounds, failAttrs, 1.5), hp(genAIDurBounds, embAttrs, 0.005)),
		metricdata.Metrics{Name: "gen_ai.client.token.usage", Unit: "{token}", Data: metricdata.Histogram[int64]{
			Temporality: metricdata.CumulativeTemporality,
			DataPoints:  []metricdata.HistogramDataPoint[int64]{tok(okAttrs, "input", 100), tok(okAttrs, "output", 50), tok(embAttrs, "input", 7)},
		}},
		hist("gen_ai.client.operation.time_to_first_chunk", hp(genAIDurBounds, okAttrs, 0.3)),
	)
}

func TestCost(t *testing.T) {
	ctx := context.Background()
	price := func(e observe.ProviderRequest) float64 {
		if e.Model != "gpt-4o-mini" {
			return 0 // unknown price: no cost
		}
		return float64(e.InputTokens)*0.15/1e6 + float64(e.OutputTokens)*0.6/1e6
	}
	rec, reader := newRecorder(t, instrument.WithGenAI(false), instrument.WithCost(price))
	rec.ProviderRequestFinished(ctx, chat("openai", "gpt-4o-mini", ok, "", 10*ms, 1_000_000, 1_000_000))
	rec.ProviderRequestFinished(ctx, chat("openai", "mystery", ok, "", 10*ms, 1000, 1000))
	rec.RunStarted(ctx, runStart("triage"))
	end := runEnd("triage", ok, "", 20*ms)
	end.CostUSD = 0.75
	rec.RunFinished(ctx, end)
	got := collect(t, reader)
	assertMetrics(t, map[string]metricdata.Metrics{
		"orchestrator.llm.cost_usd": got["orchestrator.llm.cost_usd"], "orchestrator.workflow.cost_usd": got["orchestrator.workflow.cost_usd"],
	},
		fcounter("orchestrator.llm.cost_usd", "{USD}", fpt(0.75, s("provider", "openai"), s("model", "gpt-4o-mini"))),
		fcounter("orchestrator.workflow.cost_usd", "{USD}", fpt(0.75, s("workflow_name", "triage"))),
	)
}

func TestQueue(t *testing.T) {
	ctx := context.Background()
	rec, reader := newRecorder(t)
	rec.QueueEntered(ctx)
	rec.QueueEntered(ctx)
	rec.QueueLeft(ctx, 20*ms)
	assertMetrics(t, collect(t, reader),
		updown("orchestrator.run.queue_depth", "{run}", pt(1)),
		hist("orchestrator.run.queue_wait", hp([]float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30}, nil, 0.02)),
	)
}

// TestBoundedLabels: workflow names and models past their limits become
// _other, counted in orchestrator.label.overflow; allowed names never do.
func TestBoundedLabels(t *testing.T) {
	ctx := context.Background()
	rec, reader := newRecorder(t, instrument.WithGenAI(false), instrument.WithMaxWorkflowNames(2), instrument.WithMaxModels(1))
	rec.AllowWorkflowNames("preloaded")
	for _, wf := range []string{"a", "preloaded", "b", "c", "a", "d", "preloaded"} {
		rec.RunStarted(ctx, runStart(wf))
		rec.RunFinished(ctx, runEnd(wf, ok, "", 200*ms))
	}
	for _, m := range []string{"m1", "m2", "m1", "m3"} {
		rec.ProviderRequestFinished(ctx, chat("openai", m, ok, "", 200*ms, 0, 0))
	}
	wfp := func(n int64, wf string) metricdata.DataPoint[int64] {
		return pt(n, s("status", "success"), s("workflow_name", wf))
	}
	wfh := func(wf string, n int) metricdata.HistogramDataPoint[float64] {
		v := make([]float64, n)
		for i := range v {
			v[i] = 0.2
		}
		return hp(workflowBounds, attrs(s("workflow_name", wf)), v...)
	}
	reqp := func(n int64, m string) metricdata.DataPoint[int64] {
		return pt(n, s("provider", "openai"), s("model", m), s("status", "success"))
	}
	assertMetrics(t, collect(t, reader),
		counter(mWfExec, "{execution}", wfp(2, "a"), wfp(2, "preloaded"), wfp(1, "b"), wfp(2, instrument.OverflowValue)),
		hist(mWfDur, wfh("a", 2), wfh("preloaded", 2), wfh("b", 1), wfh(instrument.OverflowValue, 2)),
		updown(mActive, "{workflow}", pt(0)),
		counter(mLLMReq, "{request}", reqp(2, "m1"), reqp(2, instrument.OverflowValue)),
		hist(mLLMDur, hp(llmBounds, attrs(s("provider", "openai"), s("model", "m1")), 0.2, 0.2),
			hp(llmBounds, attrs(s("provider", "openai"), s("model", instrument.OverflowValue)), 0.2, 0.2)),
		counter("orchestrator.label.overflow", "{measurement}", pt(2, s("label", "workflow_name")), pt(2, s("label", "model"))),
	)
}

// TestCardinalityAttack: 100,000 distinct workflow names keep the series
// count bounded and never reach the SDK's own overflow series.
func TestCardinalityAttack(t *testing.T) {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithView(instrument.Views()...),
		sdkmetric.WithCardinalityLimit(2000))
	t.Cleanup(func() { _ = mp.Shutdown(ctx) })
	rec, err := instrument.New(mp)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100_000 {
		wf := fmt.Sprintf("wf-%d", i)
		rec.RunStarted(ctx, runStart(wf))
		rec.RunFinished(ctx, runEnd(wf, ok, "", ms))
	}
	got := collect(t, reader)
	pts := got[mWfExec].Data.(metricdata.Sum[int64]).DataPoints
	if len(pts) != 201 {
		t.Errorf("workflow executions series = %d, want 201 (200 names + _other)", len(pts))
	}
	var total int64
	for _, p := range pts {
		total += p.Value
		if p.Attributes.HasValue("otel.metric.overflow") {
			t.Errorf("SDK overflow series present: %v", p.Attributes)
		}
	}
	if total != 100_000 {
		t.Errorf("executions = %d, want 100000", total)
	}
	ov := got["orchestrator.label.overflow"].Data.(metricdata.Sum[int64]).DataPoints
	if len(ov) != 1 || ov[0].Value != 100_000-200 {
		t.Errorf("overflow = %v, want one point of %d", ov, 100_000-200)
	}
}

// TestCacheBound: past the cache size attribute sets are built per call,
// with the same values.
func TestCacheBound(t *testing.T) {
	ctx := context.Background()
	rec, reader := newRecorder(t, instrument.WithGenAI(false), instrument.WithCacheSize(1))
	for _, typ := range []string{"llm", "transform", "http", "transform", "llm"} {
		rec.StepFinished(ctx, stepEnd("s", typ, fail, errtype.Validation, 1, 10*ms))
	}
	exec := func(n int64, typ string) metricdata.DataPoint[int64] {
		return pt(n, s("step_type", typ), s("status", "failure"))
	}
	dur := func(typ string, n int) metricdata.HistogramDataPoint[float64] {
		v := make([]float64, n)
		for i := range v {
			v[i] = 0.01
		}
		return hp(stepBounds, attrs(s("step_type", typ)), v...)
	}
	assertMetrics(t, collect(t, reader),
		counter(mStepExec, "{execution}", exec(2, "llm"), exec(2, "transform"), exec(1, "http")),
		hist(mStepDur, dur("llm", 2), dur("transform", 2), dur("http", 1)),
		counter(mErrors, "{error}", pt(5, s("error_type", "validation"), s("component", "step_executor"))),
	)
}

// TestBuckets checks every histogram's boundaries, both through Views and
// through the instruments' advice alone (a MeterProvider without Views).
func TestBuckets(t *testing.T) {
	want := map[string][]float64{
		mWfDur:                                        workflowBounds,
		mLLMDur:                                       llmBounds,
		mStepDur:                                      stepBounds,
		"orchestrator.llm.time_to_first_token":        ttftBounds,
		"orchestrator.step.backoff":                   waitBounds,
		"orchestrator.llm.rate_limit_wait":            waitBounds,
		"orchestrator.run.queue_wait":                 {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30},
		"gen_ai.client.operation.duration":            genAIDurBounds,
		"gen_ai.client.token.usage":                   genAITokBounds,
		"gen_ai.client.operation.time_to_first_chunk": genAIDurBounds,
	}
	if n := len(instrument.Views()); n != len(want) {
		t.Errorf("Views() = %d views, want %d", n, len(want))
	}
	for _, views := range []bool{true, false} {
		t.Run(fmt.Sprintf("views=%t", views), func(t *testing.T) {
			ctx := context.Background()
			reader := sdkmetric.NewManualReader()
			opts := []sdkmetric.Option{sdkmetric.WithReader(reader)}
			if views {
				opts = append(opts, sdkmetric.WithView(instrument.Views()...))
			}
			mp := sdkmetric.NewMeterProvider(opts...)
			t.Cleanup(func() { _ = mp.Shutdown(ctx) })
			rec, err := instrument.New(mp)
			if err != nil {
				t.Fatal(err)
			}
			feedAll(ctx, rec)
			got := collect(t, reader)
			for name, b := range want {
				var bounds []float64
				switch d := got[name].Data.(type) {
				case metricdata.Histogram[float64]:
					bounds = d.DataPoints[0].Bounds
				case metricdata.Histogram[int64]:
					bounds = d.DataPoints[0].Bounds
				default:
					t.Errorf("%s: not a histogram: %T", name, got[name].Data)
					continue
				}
				if !slices.Equal(bounds, b) {
					t.Errorf("%s bounds = %v, want %v", name, bounds, b)
				}
			}
		})
	}
}

// feedAll records at least one point on every instrument.
func feedAll(ctx context.Context, rec *instrument.Recorder) {
	rec.RunStarted(ctx, runStart("triage"))
	e := chat("openai", "gpt-4o-mini", fail, errtype.RateLimit, 100*ms, 0, 0)
	rec.ProviderRequestFinished(ctx, e)
	rec.StepRetrying(ctx, observe.StepRetry{StepType: "llm", Attempt: 1, ErrorType: errtype.RateLimit,
		Wait: time.Second, Provider: "openai", RetryAfter: true})
	e = chat("openai", "gpt-4o-mini", ok, "", 900*ms, 10, 20)
	e.Stream, e.TimeToFirstChunk = true, 200*ms
	rec.ProviderRequestFinished(ctx, e)
	rec.StepFinished(ctx, stepEnd("classify", "llm", ok, "", 2, 2*time.Second))
	rec.StepFinished(ctx, stepEnd("bad", "transform", fail, errtype.Template, 1, ms))
	rec.StepFinished(ctx, skipped("later", "transform"))
	end := runEnd("triage", fail, errtype.StepFailed, 2*time.Second)
	end.CostUSD = 0.01
	rec.RunFinished(ctx, end)
	rec.QueueEntered(ctx)
	rec.QueueLeft(ctx, 5*ms)
}
