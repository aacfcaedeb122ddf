package app_test

import (
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/orchestrator-dev/orchestrator/pkg/app"
)

var (
	ttftBuckets     = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	waitBuckets     = []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60}
	queueBuckets    = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30}
	genAIDurBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	genAITokBuckets = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
)

// histSums returns the sample sum of every series of a histogram family.
func histSums(fams map[string]*dto.MetricFamily, name string) map[string]float64 {
	out := map[string]float64{}
	if f, ok := fams[name]; ok {
		for _, m := range f.GetMetric() {
			out[key(m)] = m.GetHistogram().GetSampleSum()
		}
	}
	return out
}

// assertClose checks float series within 1e-12 of want (costs are sums of
// products of token counts and prices).
func assertClose(t *testing.T, name string, got, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %v, want %v", name, got, want)
		return
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-12 {
			t.Errorf("%s{%s} = %v, want %v (all: %v)", name, k, g, w, got)
		}
	}
}

func hostPort(t *testing.T, base string) (string, string) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname(), u.Port()
}

// TestExtraMetrics serves runs with streaming, a rate-limited retry, priced
// and unpriced models and bounded labels, and checks every metric beyond
// the nine on /metrics by value, plus the run and step costs of the API.
func TestExtraMetrics(t *testing.T) {
	f := newFakes(t)
	in := start(t, f, nil, func(o *app.Options) {
		o.PricesFile = "testdata/prices.yaml"
		o.MaxWorkflowNames = 1 // "extras" takes it; "unpriced" becomes _other
		o.MaxModels = 3        // gpt-ok, gpt-429, claude-ok; gpt-unpriced becomes _other
	})
	ex := in.runInline("extras", nil)
	if ex.code != 200 || ex.doc["status"] != "success" {
		t.Fatalf("extras: %d %s", ex.code, ex.raw)
	}
	for range 2 {
		if a := in.runInline("unpriced", nil); a.code != 200 || a.doc["status"] != "success" {
			t.Fatalf("unpriced: %d %s", a.code, a.raw)
		}
	}

	// Costs in the run document: USD per million tokens x reported tokens.
	const (
		costOK     = (10*2 + 5*10) / 1e6 // gpt-ok: 10 input, 5 output tokens
		cost429    = (10*1 + 5*1) / 1e6  // gpt-429: the successful attempt only
		costClaude = (20*3 + 8*15) / 1e6 // claude-ok: 20 input, 8 output tokens
	)
	steps, _ := ex.doc["steps"].(map[string]any)
	stepCost := func(id string) float64 { s, _ := steps[id].(map[string]any); c, _ := s["cost_usd"].(float64); return c }
	runCost, _ := ex.doc["cost_usd"].(float64)
	assertClose(t, "run document cost_usd", map[string]float64{
		"streamed": stepCost("streamed"), "limited": stepCost("limited"), "claude": stepCost("claude"), "run": runCost,
	}, map[string]float64{"streamed": costOK, "limited": cost429, "claude": costClaude, "run": costOK + cost429 + costClaude})
	if n := strings.Count(in.logs.String(), "no price for model"); n != 1 || !strings.Contains(in.logs.String(), `"model":"gpt-unpriced"`) {
		t.Errorf("want one no-price warning for gpt-unpriced, got %d:\n%s", n, in.logs.String())
	}

	fams := families(t, in.metrics())
	assertClose(t, "orchestrator_llm_cost_usd_total", values(fams, "orchestrator_llm_cost_usd_total"), map[string]float64{
		"model=gpt-ok,provider=openai": costOK, "model=gpt-429,provider=openai": cost429, "model=claude-ok,provider=anthropic": costClaude,
	})
	assertClose(t, "orchestrator_workflow_cost_usd_total", values(fams, "orchestrator_workflow_cost_usd_total"), map[string]float64{
		"workflow_name=extras": costOK + cost429 + costClaude,
	})
	assertSeries(t, fams, "orchestrator_llm_time_to_first_token_seconds", map[string]float64{
		"model=gpt-ok,provider=openai": 1, "model=claude-ok,provider=anthropic": 1,
	})
	assertBuckets(t, fams, "orchestrator_llm_time_to_first_token_seconds", ttftBuckets)
	assertSeries(t, fams, "orchestrator_step_retries_total", map[string]float64{"error_type=rate_limit,step_type=llm": 1})
	// The 429's Retry-After (1 s) is capped by the step's max_delay_ms (20).
	assertSeries(t, fams, "orchestrator_step_backoff_seconds", map[string]float64{"step_type=llm": 1})
	assertClose(t, "orchestrator_step_backoff_seconds_sum", histSums(fams, "orchestrator_step_backoff_seconds"), map[string]float64{"step_type=llm": 0.02})
	assertSeries(t, fams, "orchestrator_llm_rate_limit_wait_seconds", map[string]float64{"provider=openai": 1})
	assertClose(t, "orchestrator_llm_rate_limit_wait_seconds_sum", histSums(fams, "orchestrator_llm_rate_limit_wait_seconds"), map[string]float64{"provider=openai": 0.02})
	assertBuckets(t, fams, "orchestrator_llm_rate_limit_wait_seconds", waitBuckets)
	assertSeries(t, fams, "orchestrator_workflow_executions_total", map[string]float64{
		"status=success,workflow_name=extras": 1, "status=success,workflow_name=_other": 2,
	})
	assertSeries(t, fams, "orchestrator_llm_requests_total", map[string]float64{
		"model=gpt-ok,provider=openai,status=success":       1,
		"model=gpt-429,provider=openai,status=failure":      1,
		"model=gpt-429,provider=openai,status=success":      1,
		"model=claude-ok,provider=anthropic,status=success": 1,
		"model=_other,provider=openai,status=success":       2,
	})
	assertSeries(t, fams, "orchestrator_label_overflow_total", map[string]float64{"label=workflow_name": 2, "label=model": 2})
	assertSeries(t, fams, "orchestrator_run_queue_depth", map[string]float64{"": 0})
	assertSeries(t, fams, "orchestrator_run_queue_wait_seconds", map[string]float64{"": 3})
	assertBuckets(t, fams, "orchestrator_run_queue_wait_seconds", queueBuckets)

	// The GenAI semantic conventions: the provider kind, both models, the
	// server, error.type on the failed attempt.
	oaHost, oaPort := hostPort(t, f.openai.BaseURL())
	anHost, anPort := hostPort(t, f.anthropic.BaseURL())
	op := func(kind, model, resp, host, port string, extra ...string) []string {
		kv := []string{"gen_ai_operation_name=chat", "gen_ai_provider_name=" + kind, "gen_ai_request_model=" + model,
			"server_address=" + host, "server_port=" + port}
		if resp != "" {
			kv = append(kv, "gen_ai_response_model="+resp)
		}
		return append(kv, extra...)
	}
	okOp := op("openai", "gpt-ok", "gpt-ok", oaHost, oaPort)
	limitedOp := op("openai", "gpt-429", "gpt-429", oaHost, oaPort)
	otherOp := op("openai", "_other", "_other", oaHost, oaPort)
	claudeOp := op("anthropic", "claude-ok", "claude-ok", anHost, anPort)
	assertSeries(t, fams, "gen_ai_client_operation_duration_seconds", map[string]float64{
		labels(okOp...): 1, labels(limitedOp...): 1, labels(otherOp...): 2, labels(claudeOp...): 1,
		labels(op("openai", "gpt-429", "", oaHost, oaPort, "error_type=rate_limit")...): 1,
	})
	assertBuckets(t, fams, "gen_ai_client_operation_duration_seconds", genAIDurBuckets)
	assertSeries(t, fams, "gen_ai_client_operation_time_to_first_chunk_seconds", map[string]float64{
		labels(okOp...): 1, labels(claudeOp...): 1,
	})
	assertBuckets(t, fams, "gen_ai_client_operation_time_to_first_chunk_seconds", genAIDurBuckets)
	tin, tout := "gen_ai_token_type=input", "gen_ai_token_type=output"
	assertClose(t, "gen_ai_client_token_usage_sum", histSums(fams, "gen_ai_client_token_usage"), map[string]float64{
		labels(append(okOp, tin)...): 10, labels(append(okOp, tout)...): 5,
		labels(append(limitedOp, tin)...): 10, labels(append(limitedOp, tout)...): 5,
		labels(append(otherOp, tin)...): 20, labels(append(otherOp, tout)...): 10,
		labels(append(claudeOp, tin)...): 20, labels(append(claudeOp, tout)...): 8,
	})
	assertBuckets(t, fams, "gen_ai_client_token_usage", genAITokBuckets)

	// The equalities of docs/semconv.md: the same attempts, failures and
	// tokens on both sides.
	total := func(m map[string]float64, match string) (n float64) {
		for k, v := range m {
			if strings.Contains(k, match) {
				n += v
			}
		}
		return n
	}
	reqs, ops := values(fams, "orchestrator_llm_requests_total"), values(fams, "gen_ai_client_operation_duration_seconds")
	toks, gtoks := values(fams, "orchestrator_llm_tokens_total"), histSums(fams, "gen_ai_client_token_usage")
	for _, c := range []struct {
		what       string
		ours, them float64
	}{
		{"attempts", total(reqs, ""), total(ops, "")},
		{"failed attempts", total(reqs, "status=failure"), total(ops, "error_type=")},
		{"input tokens", total(toks, "type=input"), total(gtoks, "gen_ai_token_type=input")},
		{"output tokens", total(toks, "type=output"), total(gtoks, "gen_ai_token_type=output")},
	} {
		if c.ours != c.them || c.ours == 0 {
			t.Errorf("%s: orchestrator %v, gen_ai %v; want equal and > 0", c.what, c.ours, c.them)
		}
	}
}

// labels renders k=v pairs as key() does: sorted, comma-separated.
func labels(kv ...string) string {
	kv = slices.Clone(kv)
	slices.Sort(kv)
	return strings.Join(kv, ",")
}

// TestSemconvOff: --semconv off records no gen_ai_* metric, and every
// orchestrator_* metric stays.
func TestSemconvOff(t *testing.T) {
	f := newFakes(t)
	in := start(t, f, nil, func(o *app.Options) { o.Semconv = "off" })
	if a := in.runInline("extras", nil); a.code != 200 || a.doc["status"] != "success" {
		t.Fatalf("extras: %d %s", a.code, a.raw)
	}
	text := in.metrics()
	if strings.Contains(text, "gen_ai_") {
		t.Error("gen_ai_* metrics with --semconv off")
	}
	fams := families(t, text)
	assertSeries(t, fams, "orchestrator_llm_time_to_first_token_seconds", map[string]float64{
		"model=gpt-ok,provider=openai": 1, "model=claude-ok,provider=anthropic": 1,
	})
	assertSeries(t, fams, "orchestrator_step_retries_total", map[string]float64{"error_type=rate_limit,step_type=llm": 1})
}

// TestQueueServe: past --max-inflight an asynchronous run waits in the
// queue ("queued"), the queue is bounded by --max-queued (429 queue_full),
// a synchronous run gets 429 max_inflight, and /metrics shows the queue
// depth going up and back to 0 with one wait per run.
func TestQueueServe(t *testing.T) {
	f := newFakes(t)
	in := start(t, f, nil, func(o *app.Options) { o.MaxInflight, o.MaxQueued = 1, 1 })
	if a := in.do("POST", "/v1/workflows/block/runs?async=true", ``); a.code != 202 {
		t.Fatalf("first run: %d %s", a.code, a.raw)
	}
	f.block.waitEntered(t, 1)
	queued := in.do("POST", "/v1/workflows/ok/runs?async=true", ``)
	if queued.code != 202 {
		t.Fatalf("queued run: %d %s", queued.code, queued.raw)
	}
	id, _ := queued.doc["id"].(string)
	if g := in.do("GET", "/v1/runs/"+id, ""); g.doc["status"] != "queued" {
		t.Errorf("queued run document: %s", g.raw)
	}
	if a := in.do("POST", "/v1/workflows/ok/runs?async=true", ``); a.code != 429 || a.header.Get("Retry-After") != "1" {
		t.Errorf("full queue: %d %v %s", a.code, a.header, a.raw)
	}
	if a := in.do("POST", "/v1/workflows/ok/runs", ``); a.code != 429 {
		t.Errorf("sync run past the limit: %d %s", a.code, a.raw)
	}
	fams := families(t, in.metrics())
	assertSeries(t, fams, "orchestrator_run_queue_depth", map[string]float64{"": 1})
	assertSeries(t, fams, "orchestrator_run_queue_wait_seconds", map[string]float64{"": 1})
	assertSeries(t, fams, "orchestrator_run_rejections_total", map[string]float64{
		"reason=max_inflight": 1, "reason=queue_full": 1, "reason=draining": 0, "reason=malformed": 0,
		"reason=too_large": 0, "reason=invalid_workflow": 0, "reason=invalid_inputs": 0,
	})

	f.block.releaseAll()
	eventually(t, "the queued run", func() bool { return in.do("GET", "/v1/runs/"+id, "").doc["status"] == "success" })
	fams = families(t, in.metrics())
	assertSeries(t, fams, "orchestrator_run_queue_depth", map[string]float64{"": 0})
	assertSeries(t, fams, "orchestrator_run_queue_wait_seconds", map[string]float64{"": 2})
	if s := histSums(fams, "orchestrator_run_queue_wait_seconds")[""]; s <= 0 {
		t.Errorf("queue wait sum %v, want > 0 (the queued run waited)", s)
	}
}
