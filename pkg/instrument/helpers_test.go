package instrument_test

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
)

// newRecorder returns a Recorder on a fresh SDK MeterProvider with a
// ManualReader and the package's Views.
func newRecorder(t testing.TB, opts ...instrument.Option) (*instrument.Recorder, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithView(instrument.Views()...),
		sdkmetric.WithExemplarFilter(exemplar.AlwaysOffFilter))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	rec, err := instrument.New(mp, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return rec, reader
}

func collect(t testing.TB, r sdkmetric.Reader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != instrument.ScopeName {
			t.Fatalf("unexpected scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// assertMetrics checks that got holds exactly the metrics of want (by name),
// each equal by value. Descriptions are not part of the contract and are
// copied from got.
func assertMetrics(t *testing.T, got map[string]metricdata.Metrics, want ...metricdata.Metrics) {
	t.Helper()
	var names []string
	for _, w := range want {
		names = append(names, w.Name)
		g, ok := got[w.Name]
		if !ok {
			t.Errorf("metric %s missing", w.Name)
			continue
		}
		w.Description = g.Description
		metricdatatest.AssertEqual(t, w, g, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	}
	var gotNames []string
	for n := range got {
		gotNames = append(gotNames, n)
	}
	sort.Strings(names)
	sort.Strings(gotNames)
	if !slices.Equal(names, gotNames) {
		t.Errorf("metrics = %v, want %v", gotNames, names)
	}
}

type kv = attribute.KeyValue

func s(k, v string) kv { return attribute.String(k, v) }

func pt(v int64, attrs ...kv) metricdata.DataPoint[int64] {
	return metricdata.DataPoint[int64]{Attributes: attribute.NewSet(attrs...), Value: v}
}

func fpt(v float64, attrs ...kv) metricdata.DataPoint[float64] {
	return metricdata.DataPoint[float64]{Attributes: attribute.NewSet(attrs...), Value: v}
}

func counter(name, unit string, pts ...metricdata.DataPoint[int64]) metricdata.Metrics {
	return metricdata.Metrics{Name: name, Unit: unit, Data: metricdata.Sum[int64]{
		Temporality: metricdata.CumulativeTemporality, IsMonotonic: true, DataPoints: pts}}
}

func fcounter(name, unit string, pts ...metricdata.DataPoint[float64]) metricdata.Metrics {
	return metricdata.Metrics{Name: name, Unit: unit, Data: metricdata.Sum[float64]{
		Temporality: metricdata.CumulativeTemporality, IsMonotonic: true, DataPoints: pts}}
}

func updown(name, unit string, pts ...metricdata.DataPoint[int64]) metricdata.Metrics {
	return metricdata.Metrics{Name: name, Unit: unit, Data: metricdata.Sum[int64]{
		Temporality: metricdata.CumulativeTemporality, IsMonotonic: false, DataPoints: pts}}
}

func hist(name string, pts ...metricdata.HistogramDataPoint[float64]) metricdata.Metrics {
	return metricdata.Metrics{Name: name, Unit: "s", Data: metricdata.Histogram[float64]{
		Temporality: metricdata.CumulativeTemporality, DataPoints: pts}}
}

// hp builds the expected histogram point of values with the given bounds.
func hp(bounds []float64, attrs []kv, values ...float64) metricdata.HistogramDataPoint[float64] {
	return histPoint(bounds, attrs, values...)
}

func histPoint[N int64 | float64](bounds []float64, attrs []kv, values ...N) metricdata.HistogramDataPoint[N] {
	p := metricdata.HistogramDataPoint[N]{
		Attributes:   attribute.NewSet(attrs...),
		Bounds:       bounds,
		BucketCounts: make([]uint64, len(bounds)+1),
		Count:        uint64(len(values)),
	}
	for i, v := range values {
		p.Sum += v
		if lo, _ := p.Min.Value(); i == 0 || v < lo {
			p.Min = metricdata.NewExtrema(v)
		}
		if hi, _ := p.Max.Value(); i == 0 || v > hi {
			p.Max = metricdata.NewExtrema(v)
		}
		b, _ := slices.BinarySearch(bounds, float64(v)) // first bound >= v: buckets are (prev, bound]
		p.BucketCounts[b]++
	}
	return p
}

func attrs(a ...kv) []kv { return a }

// Bucket boundaries from the contract (docs/metrics.md).
var (
	workflowBounds = []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
	llmBounds      = []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60}
	stepBounds     = []float64{0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30}
)

// Event builders.

func runStart(wf string) observe.RunStart { return observe.RunStart{RunID: "r1", Workflow: wf} }

func runEnd(wf, status string, et errtype.Type, d time.Duration) observe.RunEnd {
	return observe.RunEnd{RunID: "r1", Workflow: wf, Status: status, ErrorType: et, Duration: d}
}

func stepEnd(id, typ, status string, et errtype.Type, attempts int, d time.Duration) observe.StepEnd {
	return observe.StepEnd{RunID: "r1", Workflow: "wf", StepID: id, StepType: typ, Status: status,
		ErrorType: et, Attempts: attempts, Duration: d}
}

func skipped(id, typ string) observe.StepEnd {
	return observe.StepEnd{RunID: "r1", Workflow: "wf", StepID: id, StepType: typ,
		Status: observe.StatusSkipped, SkipReason: "condition false"}
}

func chat(provider, model, status string, et errtype.Type, d time.Duration, in, out int64) observe.ProviderRequest {
	return observe.ProviderRequest{RunID: "r1", Workflow: "wf", StepID: "s", Provider: provider,
		ProviderKind: provider, Operation: observe.OpChat, Model: model, Status: status, ErrorType: et,
		Duration: d, InputTokens: in, OutputTokens: out}
}

const (
	ok   = observe.StatusSuccess
	fail = observe.StatusFailure
	skip = observe.StatusSkipped
	ms   = time.Millisecond
)

// Metric names.
const (
	mWfExec   = "orchestrator.workflow.executions"
	mWfDur    = "orchestrator.workflow.duration"
	mActive   = "orchestrator.active_workflows"
	mLLMReq   = "orchestrator.llm.requests"
	mLLMTok   = "orchestrator.llm.tokens"
	mLLMDur   = "orchestrator.llm.request.duration"
	mStepExec = "orchestrator.step.executions"
	mStepDur  = "orchestrator.step.duration"
	mErrors   = "orchestrator.errors"
)
