package instrument_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestNine feeds the event sequences the engine emits for each kind of run
// and checks every one of the nine metrics by value.
func TestNine(t *testing.T) {
	ctx := context.Background()
	wfSuccess := attrs(s("status", "success"), s("workflow_name", "triage"))
	wfFailure := attrs(s("status", "failure"), s("workflow_name", "triage"))
	wf := attrs(s("workflow_name", "triage"))
	oa := attrs(s("provider", "openai"), s("model", "gpt-4o-mini"))
	active0 := updown(mActive, "{workflow}", pt(0))

	tests := []struct {
		name string
		feed func(r observe.Observer)
		want []metricdata.Metrics
	}{
		{
			name: "success",
			feed: func(r observe.Observer) {
				r.RunStarted(ctx, runStart("triage"))
				r.StepStarted(ctx, observe.StepStart{StepID: "classify", StepType: "llm"})
				r.ProviderRequestFinished(ctx, chat("openai", "gpt-4o-mini", ok, "", 800*ms, 100, 20))
				r.StepFinished(ctx, stepEnd("classify", "llm", ok, "", 1, 1200*ms))
				r.StepFinished(ctx, stepEnd("shape", "transform", ok, "", 1, 3*ms))
				r.RunFinished(ctx, runEnd("triage", ok, "", 1500*ms))
			},
			want: []metricdata.Metrics{
				counter(mWfExec, "{execution}", pt(1, wfSuccess...)),
				hist(mWfDur, hp(workflowBounds, wf, 1.5)),
				active0,
				counter(mLLMReq, "{request}", pt(1, append(oa, s("status", "success"))...)),
				counter(mLLMTok, "{token}", pt(100, append(oa, s("type", "input"))...), pt(20, append(oa, s("type", "output"))...)),
				hist(mLLMDur, hp(llmBounds, oa, 0.8)),
				counter(mStepExec, "{execution}", pt(1, s("step_type", "llm"), s("status", "success")),
					pt(1, s("step_type", "transform"), s("status", "success"))),
				hist(mStepDur, hp(stepBounds, attrs(s("step_type", "llm")), 1.2),
					hp(stepBounds, attrs(s("step_type", "transform")), 0.003)),
			},
		},
		{
			name: "failure with skipped dependant",
			feed: func(r observe.Observer) {
				r.RunStarted(ctx, runStart("triage"))
				r.StepFinished(ctx, stepEnd("render", "transform", fail, errtype.Template, 1, 2*ms))
				r.StepFinished(ctx, skipped("after", "llm"))
				r.RunFinished(ctx, runEnd("triage", fail, errtype.StepFailed, 10*ms))
			},
			want: []metricdata.Metrics{
				counter(mWfExec, "{execution}", pt(1, wfFailure...)),
				hist(mWfDur, hp(workflowBounds, wf, 0.01)),
				active0,
				counter(mStepExec, "{execution}", pt(1, s("step_type", "transform"), s("status", "failure")),
					pt(1, s("step_type", "llm"), s("status", "skipped"))),
				hist(mStepDur, hp(stepBounds, attrs(s("step_type", "transform")), 0.002)),
				counter(mErrors, "{error}",
					pt(1, s("error_type", "template"), s("component", "step_executor")),
					pt(1, s("error_type", "step_failed"), s("component", "executor"))),
			},
		},
		{
			name: "workflow timeout cuts off a provider attempt",
			feed: func(r observe.Observer) {
				r.RunStarted(ctx, runStart("triage"))
				r.ProviderRequestFinished(ctx, chat("openai", "gpt-4o-mini", fail, errtype.Timeout, 2*time.Second, 0, 0))
				r.StepFinished(ctx, stepEnd("classify", "llm", fail, errtype.Timeout, 1, 2*time.Second))
				r.StepFinished(ctx, observe.StepEnd{StepID: "after", StepType: "transform", Status: skip, SkipReason: "run stopped"})
				r.RunFinished(ctx, runEnd("triage", fail, errtype.Timeout, 2*time.Second))
			},
			want: []metricdata.Metrics{
				counter(mWfExec, "{execution}", pt(1, wfFailure...)),
				hist(mWfDur, hp(workflowBounds, wf, 2)),
				active0,
				counter(mLLMReq, "{request}", pt(1, append(oa, s("status", "failure"))...)),
				hist(mLLMDur, hp(llmBounds, oa, 2)),
				counter(mStepExec, "{execution}", pt(1, s("step_type", "llm"), s("status", "failure")),
					pt(1, s("step_type", "transform"), s("status", "skipped"))),
				hist(mStepDur, hp(stepBounds, attrs(s("step_type", "llm")), 2)),
				counter(mErrors, "{error}",
					pt(1, s("error_type", "timeout"), s("component", "provider")),
					pt(1, s("error_type", "timeout"), s("component", "step_executor")),
					pt(1, s("error_type", "timeout"), s("component", "executor"))),
			},
		},
		{
			name: "cancel: the aborted attempt is a failed request, not a provider error",
			feed: func(r observe.Observer) {
				r.RunStarted(ctx, runStart("triage"))
				r.ProviderRequestFinished(ctx, chat("openai", "gpt-4o-mini", fail, errtype.Canceled, 300*ms, 0, 0))
				r.StepFinished(ctx, stepEnd("classify", "llm", fail, errtype.Canceled, 1, 300*ms))
				r.RunFinished(ctx, runEnd("triage", fail, errtype.Canceled, 300*ms))
			},
			want: []metricdata.Metrics{
				counter(mWfExec, "{execution}", pt(1, wfFailure...)),
				hist(mWfDur, hp(workflowBounds, wf, 0.3)),
				active0,
				counter(mLLMReq, "{request}", pt(1, append(oa, s("status", "failure"))...)),
				hist(mLLMDur, hp(llmBounds, oa, 0.3)),
				counter(mStepExec, "{execution}", pt(1, s("step_type", "llm"), s("status", "failure"))),
				hist(mStepDur, hp(stepBounds, attrs(s("step_type", "llm")), 0.3)),
				counter(mErrors, "{error}",
					pt(1, s("error_type", "canceled"), s("component", "step_executor")),
					pt(1, s("error_type", "canceled"), s("component", "executor"))),
			},
		},
		{
			name: "panic in a step",
			feed: func(r observe.Observer) {
				r.RunStarted(ctx, runStart("triage"))
				r.StepFinished(ctx, stepEnd("boom", "transform", fail, errtype.ExecutionError, 1, 1*ms))
				r.RunFinished(ctx, runEnd("triage", fail, errtype.StepFailed, 1*ms))
			},
			want: []metricdata.Metrics{
				counter(mWfExec, "{execution}", pt(1, wfFailure...)),
				hist(mWfDur, hp(workflowBounds, wf, 0.001)),
				active0,
				counter(mStepExec, "{execution}", pt(1, s("step_type", "transform"), s("status", "failure"))),
				hist(mStepDur, hp(stepBounds, attrs(s("step_type", "transform")), 0.001)),
				counter(mErrors, "{error}",
					pt(1, s("error_type", "execution_error"), s("component", "step_executor")),
					pt(1, s("error_type", "step_failed"), s("component", "executor"))),
			},
		},
		{
			name: "retries: every attempt counted, errors per failed attempt",
			feed: func(r observe.Observer) {
				r.RunStarted(ctx, runStart("triage"))
				r.ProviderRequestFinished(ctx, chat("openai", "gpt-4o-mini", fail, errtype.RateLimit, 50*ms, 0, 0))
				r.StepRetrying(ctx, observe.StepRetry{StepType: "llm", Attempt: 1, ErrorType: errtype.RateLimit,
					Wait: time.Second, Provider: "openai", RetryAfter: true})
				r.ProviderRequestFinished(ctx, chat("openai", "gpt-4o-mini", fail, errtype.ProviderError, 150*ms, 0, 0))
				r.StepRetrying(ctx, observe.StepRetry{StepType: "llm", Attempt: 2, ErrorType: errtype.ProviderError,
					Wait: 500 * ms, Provider: "openai"})
				r.ProviderRequestFinished(ctx, chat("openai", "gpt-4o-mini", ok, "", 700*ms, 30, 5))
				r.StepFinished(ctx, stepEnd("classify", "llm", ok, "", 3, 2400*ms))
				r.RunFinished(ctx, runEnd("triage", ok, "", 2500*ms))
			},
			want: []metricdata.Metrics{
				counter(mWfExec, "{execution}", pt(1, wfSuccess...)),
				hist(mWfDur, hp(workflowBounds, wf, 2.5)),
				active0,
				counter(mLLMReq, "{request}", pt(2, append(oa, s("status", "failure"))...),
					pt(1, append(oa, s("status", "success"))...)),
				counter(mLLMTok, "{token}", pt(30, append(oa, s("type", "input"))...), pt(5, append(oa, s("type", "output"))...)),
				hist(mLLMDur, hp(llmBounds, oa, 0.05, 0.15, 0.7)),
				counter(mStepExec, "{execution}", pt(1, s("step_type", "llm"), s("status", "success"))),
				hist(mStepDur, hp(stepBounds, attrs(s("step_type", "llm")), 2.4)),
				counter(mErrors, "{error}",
					pt(1, s("error_type", "rate_limit"), s("component", "provider")),
					pt(1, s("error_type", "provider_error"), s("component", "provider"))),
				counter("orchestrator.step.retries", "{retry}",
					pt(1, s("step_type", "llm"), s("error_type", "rate_limit")),
					pt(1, s("step_type", "llm"), s("error_type", "provider_error"))),
				hist("orchestrator.step.backoff", hp(waitBounds, attrs(s("step_type", "llm")), 1, 0.5)),
				hist("orchestrator.llm.rate_limit_wait", hp(waitBounds, attrs(s("provider", "openai")), 1)),
			},
		},
		{
			name: "nested steps count as steps",
			feed: func(r observe.Observer) {
				r.RunStarted(ctx, runStart("triage"))
				r.StepFinished(ctx, stepEnd("a", "llm", ok, "", 1, 100*ms))
				r.StepFinished(ctx, stepEnd("b", "llm", ok, "", 1, 200*ms))
				r.StepFinished(ctx, skipped("c", "transform"))
				r.StepFinished(ctx, stepEnd("fan", "parallel", ok, "", 1, 210*ms))
				r.StepFinished(ctx, stepEnd("pick", "branch", ok, "", 1, 5*ms))
				r.RunFinished(ctx, runEnd("triage", ok, "", 220*ms))
			},
			want: []metricdata.Metrics{
				counter(mWfExec, "{execution}", pt(1, wfSuccess...)),
				hist(mWfDur, hp(workflowBounds, wf, 0.22)),
				active0,
				counter(mStepExec, "{execution}",
					pt(2, s("step_type", "llm"), s("status", "success")),
					pt(1, s("step_type", "transform"), s("status", "skipped")),
					pt(1, s("step_type", "parallel"), s("status", "success")),
					pt(1, s("step_type", "branch"), s("status", "success"))),
				hist(mStepDur,
					hp(stepBounds, attrs(s("step_type", "llm")), 0.1, 0.2),
					hp(stepBounds, attrs(s("step_type", "parallel")), 0.21),
					hp(stepBounds, attrs(s("step_type", "branch")), 0.005)),
			},
		},
		{
			name: "streaming with tokens and time to first token",
			feed: func(r observe.Observer) {
				e := chat("anthropic", "claude-sonnet-4", ok, "", 3*time.Second, 40, 400)
				e.Stream, e.TimeToFirstChunk = true, 400*ms
				r.ProviderRequestFinished(ctx, e)
			},
			want: []metricdata.Metrics{
				counter(mLLMReq, "{request}", pt(1, s("provider", "anthropic"), s("model", "claude-sonnet-4"), s("status", "success"))),
				counter(mLLMTok, "{token}",
					pt(40, s("provider", "anthropic"), s("model", "claude-sonnet-4"), s("type", "input")),
					pt(400, s("provider", "anthropic"), s("model", "claude-sonnet-4"), s("type", "output"))),
				hist(mLLMDur, hp(llmBounds, attrs(s("provider", "anthropic"), s("model", "claude-sonnet-4")), 3)),
				hist("orchestrator.llm.time_to_first_token",
					hp(ttftBounds, attrs(s("provider", "anthropic"), s("model", "claude-sonnet-4")), 0.4)),
			},
		},
		{
			name: "embeddings count input tokens only",
			feed: func(r observe.Observer) {
				e := chat("ollama", "nomic-embed-text", ok, "", 20*ms, 12, 0)
				e.Operation, e.ProviderKind = observe.OpEmbeddings, "openai"
				r.ProviderRequestFinished(ctx, e)
				r.StepFinished(ctx, stepEnd("vec", "embed", ok, "", 1, 25*ms))
			},
			want: []metricdata.Metrics{
				counter(mLLMReq, "{request}", pt(1, s("provider", "ollama"), s("model", "nomic-embed-text"), s("status", "success"))),
				counter(mLLMTok, "{token}", pt(12, s("provider", "ollama"), s("model", "nomic-embed-text"), s("type", "input"))),
				hist(mLLMDur, hp(llmBounds, attrs(s("provider", "ollama"), s("model", "nomic-embed-text")), 0.02)),
				counter(mStepExec, "{execution}", pt(1, s("step_type", "embed"), s("status", "success"))),
				hist(mStepDur, hp(stepBounds, attrs(s("step_type", "embed")), 0.025)),
			},
		},
		{
			name: "error types outside a component's closed set use its catch-all",
			feed: func(r observe.Observer) {
				r.ProviderRequestFinished(ctx, chat("openai", "gpt-4o-mini", fail, errtype.Template, 10*ms, 0, 0))
				r.StepFinished(ctx, stepEnd("x", "llm", fail, "", 1, 10*ms))
				r.RunStarted(ctx, runStart("triage"))
				r.RunFinished(ctx, runEnd("triage", fail, errtype.Auth, 10*ms))
			},
			want: []metricdata.Metrics{
				counter(mWfExec, "{execution}", pt(1, wfFailure...)),
				hist(mWfDur, hp(workflowBounds, wf, 0.01)),
				active0,
				counter(mLLMReq, "{request}", pt(1, append(oa, s("status", "failure"))...)),
				hist(mLLMDur, hp(llmBounds, oa, 0.01)),
				counter(mStepExec, "{execution}", pt(1, s("step_type", "llm"), s("status", "failure"))),
				hist(mStepDur, hp(stepBounds, attrs(s("step_type", "llm")), 0.01)),
				counter(mErrors, "{error}",
					pt(1, s("error_type", "provider_error"), s("component", "provider")),
					pt(1, s("error_type", "execution_error"), s("component", "step_executor")),
					pt(1, s("error_type", "step_failed"), s("component", "executor"))),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, reader := newRecorder(t, instrument.WithGenAI(false))
			tt.feed(rec)
			assertMetrics(t, collect(t, reader), tt.want...)
		})
	}
}

func TestNilMeterProvider(t *testing.T) {
	rec, err := instrument.New(nil) // the global MeterProvider: a no-op here
	if err != nil {
		t.Fatal(err)
	}
	rec.RunStarted(context.Background(), observe.RunStart{Workflow: "triage"})
}

// TestConcurrentRuns records many runs from many goroutines (run with
// -race): every count is exact and active workflows returns to 0.
func TestConcurrentRuns(t *testing.T) {
	const workers, runs = 8, 200
	rec, reader := newRecorder(t, instrument.WithGenAI(false))
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range runs {
				wf := fmt.Sprintf("wf-%d", (w+i)%4)
				rec.RunStarted(ctx, runStart(wf))
				status, et := ok, errtype.Type("")
				if i%4 == 0 {
					status, et = fail, errtype.ProviderError
				}
				rec.ProviderRequestFinished(ctx, chat("simulated", "sim-fast", status, et, 10*ms, 3, 2))
				rec.StepFinished(ctx, stepEnd("s", "llm", status, et, 1, 11*ms))
				rsEt := errtype.Type("")
				if status == fail {
					rsEt = errtype.StepFailed
				}
				rec.RunFinished(ctx, runEnd(wf, status, rsEt, 12*ms))
			}
		})
	}
	wg.Wait()

	got := collect(t, reader)
	const total, failed = workers * runs, workers * runs / 4
	sum := func(name string, match func(map[string]string) bool) int64 {
		var n int64
		for _, p := range got[name].Data.(metricdata.Sum[int64]).DataPoints {
			m := map[string]string{}
			for _, a := range p.Attributes.ToSlice() {
				m[string(a.Key)] = a.Value.String()
			}
			if match(m) {
				n += p.Value
			}
		}
		return n
	}
	all := func(map[string]string) bool { return true }
	status := func(v string) func(map[string]string) bool {
		return func(m map[string]string) bool { return m["status"] == v }
	}
	checks := []struct {
		name string
		got  int64
		want int64
	}{
		{"executions", sum(mWfExec, all), total},
		{"failed executions", sum(mWfExec, status(fail)), failed},
		{"active", sum(mActive, all), 0},
		{"llm requests", sum(mLLMReq, all), total},
		{"llm failures", sum(mLLMReq, status(fail)), failed},
		{"tokens", sum(mLLMTok, all), total * 5},
		{"step executions", sum(mStepExec, all), total},
		{"errors", sum(mErrors, all), failed * 3},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	var durCount uint64
	for _, p := range got[mWfDur].Data.(metricdata.Histogram[float64]).DataPoints {
		durCount += p.Count
	}
	if durCount != total {
		t.Errorf("workflow duration count = %d, want %d", durCount, total)
	}
}

var (
	ttftBounds = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	waitBounds = []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60}
)
