package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
)

const observedWF = `
name: obs
steps:
  - {id: ask, type: fake, provider: myfake, model: ok}
  - {id: bad, type: fake, fail: auth, depends_on: [ask]}
`

func TestSpans(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	e, _ := newEngine(t, nil, engine.WithTracerProvider(tp))
	mustRun(t, t.Context(), e, load(t, e, observedWF), nil)
	var got []string
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range sr.Ended() {
		got = append(got, fmt.Sprintf("%s %s", s.Name(), s.Status().Code))
		byName[s.Name()+s.Status().Code.String()] = s
	}
	slices.Sort(got)
	diff(t, got, []string{"llm.request Unset", "step.execute Error", "step.execute Unset", "workflow.execute Error"})
	wfSpan := byName["workflow.executeError"]
	llm := byName["llm.requestUnset"]
	if llm == nil || wfSpan == nil || llm.SpanContext().TraceID() != wfSpan.SpanContext().TraceID() {
		t.Fatal("llm.request is not in the workflow's trace")
	}
	attrs := map[string]string{}
	for _, kv := range llm.Attributes() {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	for k, v := range map[string]string{"gen_ai.operation.name": "chat", "gen_ai.request.model": "ok", "gen_ai.response.model": "ok-v2",
		"gen_ai.usage.input_tokens": "10", "server.address": "127.0.0.1", "server.port": "8089", "orchestrator.provider": "myfake"} {
		if attrs[k] != v {
			t.Errorf("llm.request %s = %q, want %q", k, attrs[k], v)
		}
	}
	if d := byName["step.executeError"].Status().Description; d != "fake failure on attempt 1" || byName["step.executeError"].Status().Code != codes.Error {
		t.Errorf("failed step span status %q", d)
	}
}

func TestLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, _ := newEngine(t, nil, engine.WithLogger(log))
	res, err := e.Run(t.Context(), load(t, e, observedWF), nil, engine.WithRunID("r-42"))
	if err != nil {
		t.Fatal(err)
	}
	var warns []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["run_id"] != "r-42" || rec["workflow_name"] != "obs" {
			t.Errorf("log line without run_id/workflow_name: %s", line)
		}
		if rec["level"] == "WARN" {
			warns = append(warns, fmt.Sprintf("%s step_id=%v error_type=%v", rec["msg"], rec["step_id"], rec["error_type"]))
		}
	}
	diff(t, warns, []string{"step failed step_id=bad error_type=auth", "workflow failed step_id=<nil> error_type=step_failed"})
	if res.Status != "failure" {
		t.Errorf("status %s", res.Status)
	}
}

func TestMeterProvider(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	e, _ := newEngine(t, nil, engine.WithMeterProvider(mp))
	p := load(t, e, observedWF)
	for range 3 {
		mustRun(t, t.Context(), e, p, nil)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	sums := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if s, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range s.DataPoints {
					sums[m.Name] += dp.Value
				}
			}
		}
	}
	for name, want := range map[string]int64{
		"orchestrator.workflow.executions": 3, "orchestrator.active_workflows": 0, "orchestrator.llm.requests": 3,
		"orchestrator.llm.tokens": 45, "orchestrator.step.executions": 6, "orchestrator.errors": 6,
	} {
		if sums[name] != want {
			t.Errorf("%s = %d, want %d", name, sums[name], want)
		}
	}
}

func TestCost(t *testing.T) {
	price := func(r observe.ProviderRequest) float64 {
		return float64(r.InputTokens)*0.01 + float64(r.OutputTokens)*0.02
	}
	var ends []float64
	obs := &costObserver{ends: &ends}
	e, _ := newEngine(t, nil, engine.WithCost(price), engine.WithObserver(obs))
	res := mustRun(t, t.Context(), e, load(t, e, observedWF), nil)
	if res.CostUSD != 0.2 || res.Steps["ask"].CostUSD != 0.2 || len(ends) != 1 || ends[0] != 0.2 {
		t.Errorf("cost run %v step %v event %v, want 0.2", res.CostUSD, res.Steps["ask"].CostUSD, ends)
	}
}

type costObserver struct {
	observe.Nop
	ends *[]float64
}

func (c *costObserver) RunFinished(_ context.Context, e observe.RunEnd) {
	*c.ends = append(*c.ends, e.CostUSD)
}

func TestResultJSON(t *testing.T) {
	e, _ := newEngine(t, nil)
	res := mustRun(t, t.Context(), e, load(t, e, observedWF), nil)
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Status string
		Error  struct{ Type, Message string }
		Steps  map[string]struct {
			Status   string
			Attempts int
			Error    *struct{ Type string }
			Output   map[string]any
		}
		Outputs map[string]any
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Status != "failure" || doc.Error.Type != "step_failed" || doc.Steps["ask"].Output["text"] != "hello" ||
		doc.Steps["bad"].Error.Type != "auth" || doc.Outputs == nil {
		t.Errorf("json %s", b)
	}
}
