package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/app"
	"github.com/orchestrator-dev/orchestrator/pkg/telemetry/otlptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runAll posts one run of every kind and checks each answer. It returns
// the usage the simulated run reported.
func runAll(t *testing.T, in *instance) (simIn, simOut float64) {
	t.Helper()
	type check struct {
		name   string
		a      answer
		status string
	}
	var checks []check
	add := func(name string, a answer, status string) { checks = append(checks, check{name, a, status}) }

	add("preloaded", in.do("POST", "/v1/workflows/ok/runs", `{"inputs":{"q":"what is 6*7?"}}`), "success")
	sim := in.do("POST", "/v1/workflows/sim/runs", ``)
	add("simulated", sim, "success")
	add("failure", in.runInline("fail", nil), "failure")
	add("auth failure", in.runInline("auth", nil), "failure")
	add("retry", in.runInline("retry", nil), "success")
	add("nested, skip and streaming", in.runInline("nested", nil), "success")
	add("embeddings and streaming", in.runInline("embedding", nil), "success")

	async := in.do("POST", "/v1/workflows/ok/runs?async=true", `{}`)
	if async.code != 202 {
		t.Fatalf("async: %d %s", async.code, async.raw)
	}
	id, _ := async.doc["id"].(string)
	var done answer
	eventually(t, "the async run", func() bool {
		done = in.do("GET", "/v1/runs/"+id, "")
		return done.code == 200 && done.doc["status"] != "running"
	})
	add("async", done, "success")

	for _, c := range checks {
		if c.a.code != 200 || c.a.doc["status"] != c.status {
			t.Errorf("%s: %d %s", c.name, c.a.code, c.a.raw)
		}
	}
	steps := func(a answer) map[string]any { s, _ := a.doc["steps"].(map[string]any); return s }
	step := func(a answer, id string) map[string]any { s, _ := steps(a)[id].(map[string]any); return s }

	if e := step(checks[2].a, "bad")["error"].(map[string]any); e["type"] != "invalid_request" {
		t.Errorf("failure: step error %v", e)
	}
	if s := step(checks[2].a, "after"); s["status"] != "skipped" || s["skip_reason"] != `dependency "bad" failed` {
		t.Errorf("failure: dependent %v", s)
	}
	if e := step(checks[3].a, "denied")["error"].(map[string]any); e["type"] != "auth" {
		t.Errorf("auth: step error %v", e)
	}
	if s := step(checks[4].a, "flaky"); s["attempts"] != 2.0 {
		t.Errorf("retry: %v", s)
	}
	nested := checks[5].a
	for id, want := range map[string]string{"fan": "success", "c1": "success", "c2": "success", "pick": "success", "tb": "success", "ta": "skipped", "never": "skipped"} {
		if s := step(nested, id); s["status"] != want {
			t.Errorf("nested: step %s: %v, want %s", id, s, want)
		}
	}
	if txt := step(nested, "c2")["output"].(map[string]any)["text"]; txt != "claude says hi" {
		t.Errorf("streamed anthropic text %q", txt)
	}
	if txt := step(checks[6].a, "streamed")["output"].(map[string]any)["text"]; txt != "the answer is 42" {
		t.Errorf("streamed openai text %q", txt)
	}
	usage := step(sim, "ask")["output"].(map[string]any)["usage"].(map[string]any)
	return usage["input_tokens"].(float64), usage["output_tokens"].(float64)
}

// rejectAll posts every kind of rejected submission.
func rejectAll(t *testing.T, in *instance) {
	t.Helper()
	bad := in.do("POST", "/v1/runs", `{"workflow":"name: x\nsteps:\n  - id: a\n    type: nope\n"}`)
	if bad.code != 400 || bad.doc["error"] != "invalid workflow" {
		t.Errorf("invalid workflow: %d %s", bad.code, bad.raw)
	}
	if p, _ := bad.doc["problems"].([]any); len(p) != 1 || p[0].(map[string]any)["line"] != 4.0 || p[0].(map[string]any)["step"] != "a" {
		t.Errorf("problems: %s", bad.raw)
	}
	big := `{"workflow":"` + strings.Repeat("x", 11<<20) + `"}`
	if a := in.do("POST", "/v1/runs", big); a.code != 413 {
		t.Errorf("11 MiB body: %d %s", a.code, a.raw)
	}
	if a := in.do("POST", "/v1/runs", `{"workflow":`); a.code != 400 {
		t.Errorf("malformed: %d", a.code)
	}
	if a := in.do("POST", "/v1/workflows/ok/runs", `{"inputs":{"nope":1}}`); a.code != 400 {
		t.Errorf("invalid inputs: %d %s", a.code, a.raw)
	}
	if a := in.do("POST", "/v1/workflows/missing/runs", `{}`); a.code != 404 {
		t.Errorf("unknown workflow: %d", a.code)
	}
}

var (
	workflowBuckets = []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
	llmBuckets      = []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60}
	stepBuckets     = []float64{0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30}
)

// assertNine checks every series of the nine metrics (and the rejection
// counter) after runAll and rejectAll.
func assertNine(t *testing.T, text string, simIn, simOut float64) {
	t.Helper()
	f := families(t, text)
	assertSeries(t, f, "orchestrator_workflow_executions_total", map[string]float64{
		"status=success,workflow_name=ok":        2,
		"status=success,workflow_name=sim":       1,
		"status=failure,workflow_name=fail":      1,
		"status=failure,workflow_name=auth":      1,
		"status=success,workflow_name=retry":     1,
		"status=success,workflow_name=nested":    1,
		"status=success,workflow_name=embedding": 1,
	})
	assertSeries(t, f, "orchestrator_workflow_duration_seconds", map[string]float64{
		"workflow_name=ok": 2, "workflow_name=sim": 1, "workflow_name=fail": 1, "workflow_name=auth": 1,
		"workflow_name=retry": 1, "workflow_name=nested": 1, "workflow_name=embedding": 1,
	})
	assertSeries(t, f, "orchestrator_active_workflows", map[string]float64{"": 0})
	assertSeries(t, f, "orchestrator_llm_requests_total", map[string]float64{
		"model=gpt-ok,provider=openai,status=success":                 3,
		"model=gpt-bad,provider=openai,status=failure":                1,
		"model=gpt-401,provider=openai,status=failure":                1,
		"model=gpt-flaky,provider=openai,status=failure":              1,
		"model=gpt-flaky,provider=openai,status=success":              1,
		"model=claude-ok,provider=anthropic,status=success":           2,
		"model=text-embedding-3-small,provider=openai,status=success": 1,
		"model=sim-fast,provider=simulated,status=success":            1,
	})
	assertSeries(t, f, "orchestrator_llm_tokens_total", map[string]float64{
		"model=gpt-ok,provider=openai,type=input":                 30,
		"model=gpt-ok,provider=openai,type=output":                15,
		"model=gpt-flaky,provider=openai,type=input":              10,
		"model=gpt-flaky,provider=openai,type=output":             5,
		"model=claude-ok,provider=anthropic,type=input":           40,
		"model=claude-ok,provider=anthropic,type=output":          16,
		"model=text-embedding-3-small,provider=openai,type=input": 4,
		"model=sim-fast,provider=simulated,type=input":            simIn,
		"model=sim-fast,provider=simulated,type=output":           simOut,
	})
	assertSeries(t, f, "orchestrator_llm_request_duration_seconds", map[string]float64{
		"model=gpt-ok,provider=openai": 3, "model=gpt-bad,provider=openai": 1, "model=gpt-401,provider=openai": 1,
		"model=gpt-flaky,provider=openai": 2, "model=claude-ok,provider=anthropic": 2,
		"model=text-embedding-3-small,provider=openai": 1, "model=sim-fast,provider=simulated": 1,
	})
	assertSeries(t, f, "orchestrator_step_executions_total", map[string]float64{
		"status=success,step_type=llm":       7,
		"status=failure,step_type=llm":       2,
		"status=skipped,step_type=transform": 3,
		"status=success,step_type=transform": 1,
		"status=success,step_type=parallel":  1,
		"status=success,step_type=branch":    1,
		"status=success,step_type=embed":     1,
	})
	assertSeries(t, f, "orchestrator_step_duration_seconds", map[string]float64{
		"step_type=llm": 9, "step_type=transform": 1, "step_type=parallel": 1, "step_type=branch": 1, "step_type=embed": 1,
	})
	assertSeries(t, f, "orchestrator_errors_total", map[string]float64{
		"component=provider,error_type=invalid_request":      1,
		"component=provider,error_type=provider_error":       1,
		"component=provider,error_type=auth":                 1,
		"component=step_executor,error_type=invalid_request": 1,
		"component=step_executor,error_type=auth":            1,
		"component=executor,error_type=step_failed":          2,
	})
	assertSeries(t, f, "orchestrator_run_rejections_total", map[string]float64{
		"reason=invalid_workflow": 1, "reason=too_large": 1, "reason=malformed": 1, "reason=invalid_inputs": 1,
		"reason=max_inflight": 0, "reason=queue_full": 0, "reason=draining": 0,
	})
	assertBuckets(t, f, "orchestrator_workflow_duration_seconds", workflowBuckets)
	assertBuckets(t, f, "orchestrator_llm_request_duration_seconds", llmBuckets)
	assertBuckets(t, f, "orchestrator_step_duration_seconds", stepBuckets)
	if strings.Contains(text, "otel_scope_") {
		t.Error("/metrics carries otel_scope_ labels")
	}
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// TestEndToEnd serves the API against fake OpenAI and Anthropic APIs and
// the simulated provider, posts runs of every kind, and checks /metrics by
// value, health, logs, and that no API key leaks anywhere.
func TestEndToEnd(t *testing.T) {
	f := newFakes(t)
	in := start(t, f, nil, nil)

	if !strings.Contains(in.stdout.String(), "serving on "+in.base) {
		t.Errorf("banner: %q", in.stdout.String())
	}
	wf := in.do("GET", "/v1/workflows", "")
	var list struct{ Workflows []struct{ Name string } }
	_ = json.Unmarshal([]byte(wf.raw), &list)
	if wf.code != 200 || len(list.Workflows) != 3 || list.Workflows[0].Name != "block" || list.Workflows[1].Name != "ok" || list.Workflows[2].Name != "sim" {
		t.Errorf("workflows: %d %s", wf.code, wf.raw)
	}

	simIn, simOut := runAll(t, in)
	rejectAll(t, in)
	text := in.metrics()
	assertNine(t, text, simIn, simOut)

	for _, path := range []string{"/health/live", "/health/ready"} {
		a := in.do("GET", path, "")
		if a.code != 200 || !strings.Contains(a.raw, "v9.9.9-test") {
			t.Errorf("%s: %d %s", path, a.code, a.raw)
		}
	}

	// A traceparent reaches the run's log lines.
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	tr := in.do("POST", "/v1/workflows/ok/runs", `{}`, "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if err := in.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	found := false
	for _, line := range strings.Split(in.logs.String(), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if rec["run_id"] == tr.doc["id"] && rec["workflow_name"] == "ok" && rec["trace_id"] == traceID {
			found = true
		}
	}
	if !found {
		t.Errorf("no log line of run %v with trace_id %s:\n%s", tr.doc["id"], traceID, in.logs.String())
	}

	outputs := append([]string{in.logs.String(), in.stdout.String(), text}, in.Seen()...)
	for _, out := range outputs {
		for _, key := range []string{canaryOpenAI, canaryAnthropic} {
			if strings.Contains(out, key) {
				t.Errorf("API key %s leaked in:\n%.2000s", key, out)
			}
		}
	}
}

// TestOTLPMatchesPrometheus pushes to an in-process OTLP receiver and
// checks that the final export carries exactly the values of /metrics.
func TestOTLPMatchesPrometheus(t *testing.T) {
	recv := otlptest.Start(t)
	f := newFakes(t)
	in := start(t, f, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": recv.Endpoint(),
		"OTEL_METRIC_EXPORT_INTERVAL": "3600000",
		"OTEL_SERVICE_NAME":           "orchestrator-e2e",
	}, nil)
	simIn, simOut := runAll(t, in)
	rejectAll(t, in)
	text := in.metrics()
	assertNine(t, text, simIn, simOut)
	if err := in.stop(); err != nil { // flushes the final export
		t.Fatal(err)
	}
	req, ok := otlptest.Last(recv.Requests(), "orchestrator.workflow.executions")
	if !ok {
		t.Fatal("no export reached the receiver")
	}
	if res := req.Resource(); res["service.name"] != "orchestrator-e2e" || res["service.version"] != "v9.9.9-test" || res["service.instance.id"] == "" {
		t.Errorf("resource: %v", res)
	}
	assertOTLPEqualsProm(t, req, families(t, text))
}

// TestHealthAndDrain checks liveness, readiness, and the drain on shutdown:
// 50 runs in flight complete and are counted, readiness and new runs answer
// 503 at once, the final export reaches the receiver, and Run returns nil.
func TestHealthAndDrain(t *testing.T) {
	recv := otlptest.Start(t)
	f := newFakes(t)
	in := start(t, f, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": recv.Endpoint(),
		"OTEL_METRIC_EXPORT_INTERVAL": "3600000",
	}, nil)
	for _, path := range []string{"/health/live", "/health/ready"} {
		if a := in.do("GET", path, ""); a.code != 200 {
			t.Fatalf("%s: %d %s", path, a.code, a.raw)
		}
	}
	const n = 50
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { answers[i] = in.do("POST", "/v1/workflows/block/runs", ``) })
	}
	f.block.waitEntered(t, n)

	in.Terminate() // SIGTERM
	eventually(t, "readiness to turn unavailable", func() bool { return in.do("GET", "/health/ready", "").code == 503 })
	if a := in.do("GET", "/health/live", ""); a.code != 200 {
		t.Errorf("live while draining: %d", a.code)
	}
	a := in.do("POST", "/v1/workflows/ok/runs", `{}`)
	if a.code != 503 || !strings.Contains(a.raw, "shutting down") {
		t.Errorf("new run while draining: %d %s", a.code, a.raw)
	}
	f.block.releaseAll()
	wg.Wait()
	for i, a := range answers {
		if a.code != 200 || a.doc["status"] != "success" {
			t.Errorf("run %d: %d %s", i, a.code, a.raw)
		}
	}
	if err := in.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	req, ok := otlptest.Last(recv.Requests(), "orchestrator.workflow.executions")
	if !ok {
		t.Fatal("the final export did not reach the receiver")
	}
	if v, _ := otlptest.IntValue(req.Metric("orchestrator.workflow.executions"), "workflow_name", "block", "status", "success"); v != n {
		t.Errorf("exported executions %d, want %d", v, n)
	}
	if v, _ := otlptest.IntValue(req.Metric("orchestrator.run.rejections"), "reason", "draining"); v != 1 {
		t.Errorf("exported draining rejections %d, want 1", v)
	}
	if v, ok := otlptest.IntValue(req.Metric("orchestrator.active_workflows")); !ok || v != 0 {
		t.Errorf("exported active workflows %d %v, want 0", v, ok)
	}
}

// TestShutdownTimeout: runs still in flight at the shutdown timeout are
// cancelled, answered as failures of type canceled, counted, and Run still
// returns nil.
func TestShutdownTimeout(t *testing.T) {
	recv := otlptest.Start(t)
	f := newFakes(t)
	in := start(t, f, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": recv.Endpoint(),
		"OTEL_METRIC_EXPORT_INTERVAL": "3600000",
	}, func(o *app.Options) { o.ShutdownTimeout = 200 * 1e6 })
	const n = 5
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n - 1 {
		wg.Go(func() { answers[i] = in.do("POST", "/v1/workflows/block/runs", ``) })
	}
	async := in.do("POST", "/v1/workflows/block/runs?async=true", ``)
	f.block.waitEntered(t, n)
	if err := in.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	wg.Wait()
	for i, a := range answers[:n-1] {
		errInfo, _ := a.doc["error"].(map[string]any)
		if a.code != 200 || a.doc["status"] != "failure" || errInfo["type"] != "canceled" {
			t.Errorf("run %d: %d %s", i, a.code, a.raw)
		}
	}
	if async.code != 202 {
		t.Errorf("async: %d", async.code)
	}
	req, ok := otlptest.Last(recv.Requests(), "orchestrator.workflow.executions")
	if !ok {
		t.Fatal("the final export did not reach the receiver")
	}
	if v, _ := otlptest.IntValue(req.Metric("orchestrator.workflow.executions"), "workflow_name", "block", "status", "failure"); v != n {
		t.Errorf("exported failed executions %d, want %d", v, n)
	}
	if v, _ := otlptest.IntValue(req.Metric("orchestrator.errors"), "component", "executor", "error_type", "canceled"); v != n {
		t.Errorf("exported canceled runs %d, want %d", v, n)
	}
	if v, ok := otlptest.IntValue(req.Metric("orchestrator.active_workflows")); !ok || v != 0 {
		t.Errorf("exported active workflows %d %v, want 0", v, ok)
	}
}

func TestAdmissionAndAuth(t *testing.T) {
	f := newFakes(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("  let-me-in\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := start(t, f, nil, func(o *app.Options) {
		o.MaxInflight = 2
		o.AuthTokenFile = tokenFile
	})
	auth := []string{"Authorization", "Bearer let-me-in"}
	if a := in.do("GET", "/v1/workflows", ""); a.code != 401 {
		t.Errorf("no token: %d", a.code)
	}
	if a := in.do("GET", "/metrics", ""); a.code != 200 {
		t.Errorf("metrics open without --protect-ops: %d", a.code)
	}
	for range 2 {
		if a := in.do("POST", "/v1/workflows/block/runs?async=true", ``, auth...); a.code != 202 {
			t.Fatalf("async: %d %s", a.code, a.raw)
		}
	}
	f.block.waitEntered(t, 2)
	a := in.do("POST", "/v1/workflows/ok/runs", ``, auth...)
	if a.code != 429 || a.header.Get("Retry-After") != "1" {
		t.Errorf("over the limit: %d %v %s", a.code, a.header, a.raw)
	}
	if !strings.Contains(in.metrics(), `orchestrator_run_rejections_total{reason="max_inflight"} 1`) {
		t.Error("rejection not counted")
	}
	f.block.releaseAll()
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
}

func TestProtectOps(t *testing.T) {
	f := newFakes(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("tok"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := start(t, f, nil, func(o *app.Options) { o.AuthTokenFile, o.ProtectOps = tokenFile, true })
	for _, p := range []string{"/metrics", "/health/live", "/health/ready"} {
		if a := in.do("GET", p, ""); a.code != 401 {
			t.Errorf("%s without token: %d", p, a.code)
		}
		if a := in.do("GET", p, "", "Authorization", "Bearer tok"); a.code != 200 {
			t.Errorf("%s with token: %d", p, a.code)
		}
	}
}

func TestStartupErrors(t *testing.T) {
	f := newFakes(t)
	bad := t.TempDir()
	for name, src := range map[string]string{
		"a.yaml": "name: a\nsteps:\n  - id: x\n    type: nope\n",
		"b.yml":  "name: b\nsteps: []\n",
		"c.yaml": "name: ok\nsteps:\n  - id: x\n    type: transform\n    function: template\n    template: hi\n",
		"d.yaml": "name: ok\nsteps:\n  - id: x\n    type: transform\n    function: template\n    template: hi\n",
	} {
		if err := os.WriteFile(filepath.Join(bad, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		mod  func(*app.Options)
		want []string
	}{
		{"invalid workflows", func(o *app.Options) { o.WorkflowsDir = bad }, []string{
			filepath.Join(bad, "a.yaml") + `:4:11: step "x": unknown step type "nope"`,
			filepath.Join(bad, "b.yml") + ":2:8: ",
			filepath.Join(bad, "d.yaml") + `: workflow name "ok" is already used by ` + filepath.Join(bad, "c.yaml"),
		}},
		{"invalid options", func(o *app.Options) { o.Addr, o.ShutdownTimeout, o.LogFormat = "nope", 0, "xml" }, []string{
			`addr "nope"`, "shutdown timeout 0s", `log format "xml"`,
		}},
		{"missing token file", func(o *app.Options) { o.AuthTokenFile = filepath.Join(bad, "none") }, []string{"auth token file"}},
		{"bad providers file", func(o *app.Options) { o.ProvidersFile = filepath.Join(bad, "a.yaml") }, []string{"providers file"}},
		{"address in use", func(o *app.Options) { o.Addr = busy.Addr().String() }, []string{"listen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := app.DefaultOptions()
			o.Addr = "127.0.0.1:0"
			o.ProvidersFile = f.providersFile
			o.Getenv = func(string) string { return "" }
			o.Stdout, o.Stderr = io.Discard, io.Discard
			tt.mod(&o)
			err := app.Run(context.Background(), o)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := app.DefaultOptions().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	o := app.DefaultOptions()
	o.MaxInflight, o.HistorySize, o.MaxConcurrency, o.MaxHeap = 0, 0, -1, -1
	o.MaxQueued, o.MaxModels, o.MaxWorkflowNames = -1, -1, -1
	o.Semconv, o.LogLevel, o.ProtectOps = "x", "loud", true
	o.AllowHTTPHosts = []string{"https://x.example/"}
	o.WorkflowsDir = "testdata/none"
	err := o.Validate()
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok || len(joined.Unwrap()) != 12 {
		t.Errorf("want 12 problems at once, got:\n%v", err)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("workflows dir problem should wrap the stat error: %v", err)
	}
}
