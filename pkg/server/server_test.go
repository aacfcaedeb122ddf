package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
	"github.com/orchestrator-dev/orchestrator/pkg/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeProvider answers chat requests with "echo: <prompt>". Models named
// "block" wait until release is closed (or ctx ends); "broken" fails.
type fakeProvider struct {
	release chan struct{}
	mu      sync.Mutex
	entered chan struct{} // one value per blocked call
}

func newFake() *fakeProvider {
	return &fakeProvider{release: make(chan struct{}), entered: make(chan struct{}, 1000)}
}

func (f *fakeProvider) Chat(ctx context.Context, req provider.ChatRequest) (*provider.ChatResponse, error) {
	switch req.Model {
	case "block":
		f.entered <- struct{}{}
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, &provider.Error{Type: errtype.Timeout, Message: "cancelled", Err: ctx.Err()}
		}
	case "broken":
		return nil, &provider.Error{Type: errtype.InvalidRequest, StatusCode: 400, Message: "bad request"}
	}
	return &provider.ChatResponse{Text: "echo: " + req.Prompt, Model: req.Model, FinishReason: "stop",
		Usage: provider.Usage{InputTokens: 3, OutputTokens: 2}}, nil
}

func (f *fakeProvider) Embed(context.Context, provider.EmbedRequest) (*provider.EmbedResponse, error) {
	return nil, &provider.Error{Type: errtype.InvalidRequest, Message: "no embeddings"}
}

// waitBlocked waits until n calls are blocked in the fake.
func (f *fakeProvider) waitBlocked(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-f.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("timed out waiting for blocked provider calls")
		}
	}
}

type env struct {
	t      *testing.T
	fake   *fakeProvider
	eng    *engine.Engine
	srv    *server.Server
	http   *httptest.Server
	reader *sdkmetric.ManualReader
}

// spanRecorder records the span context of each run's ctx at RunStart, and
// the order in which runs started.
type spanRecorder struct {
	observe.Nop
	mu      sync.Mutex
	spans   map[string]trace.SpanContext
	started []string
}

func (r *spanRecorder) RunStarted(ctx context.Context, e observe.RunStart) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spans[e.RunID] = trace.SpanContextFromContext(ctx)
	r.started = append(r.started, e.RunID)
}

const echoWorkflow = `name: echo
description: Echo a message.
inputs:
  msg:
    default: hi
    description: what to echo
steps:
  - id: say
    type: llm
    provider: fake
    model: fast
    prompt: "{{ inputs.msg }}"
`

const blockWorkflow = `name: slow
steps:
  - id: wait
    type: llm
    provider: fake
    model: block
    prompt: wait
`

func newEnv(t *testing.T, extra ...server.Option) (*env, *spanRecorder) {
	t.Helper()
	fake := newFake()
	reg := provider.NewRegistry()
	reg.Register("fake", func(provider.Config) (provider.Provider, error) { return fake, nil })
	set, err := reg.NewSet([]provider.Config{{Name: "fake", Kind: "fake"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &spanRecorder{spans: map[string]trace.SpanContext{}}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	metrics, err := instrument.New(mp)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.WithProviders(set), engine.WithObserver(metrics), engine.WithObserver(rec))
	if err != nil {
		t.Fatal(err)
	}
	var plans []*engine.Plan
	for _, src := range []string{echoWorkflow, blockWorkflow} {
		p, err := eng.Load("preload.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		plans = append(plans, p)
	}
	opts := append([]server.Option{server.WithWorkflows(plans...), server.WithMeterProvider(mp), server.WithQueueObserver(metrics),
		server.WithMetricsHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "metrics\n") })),
		server.WithHealthHandlers(
			http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "live\n") }),
			http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ready\n") })),
	}, extra...)
	srv, err := server.New(eng, opts...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	e := &env{t: t, fake: fake, eng: eng, srv: srv, http: hs, reader: reader}
	t.Cleanup(func() {
		fake.releaseAll()
		if err := srv.Wait(context.Background()); err != nil {
			t.Errorf("Wait: %v", err)
		}
		hs.Close()
	})
	return e, rec
}

func (f *fakeProvider) releaseAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.release:
	default:
		close(f.release)
	}
}

type response struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) do(method, path, body string, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{code: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSyncRun(t *testing.T) {
	e, _ := newEnv(t)
	obj := map[string]any{
		"name":   "obj",
		"inputs": map[string]any{"msg": map[string]any{"required": true}},
		"steps": []any{map[string]any{
			"id": "say", "type": "llm", "provider": "fake", "model": "fast", "prompt": "{{ inputs.msg }}",
		}},
	}
	tests := []struct {
		name, body, want string
	}{
		{"yaml text", jsonBody(t, map[string]any{"workflow": echoWorkflow, "inputs": map[string]any{"msg": "hello"}}), "echo: hello"},
		{"json object", jsonBody(t, map[string]any{"workflow": obj, "inputs": map[string]any{"msg": "hey"}}), "echo: hey"},
		{"default input", jsonBody(t, map[string]any{"workflow": echoWorkflow}), "echo: hi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/v1/runs", tt.body)
			if r.code != 200 {
				t.Fatalf("code %d: %s", r.code, r.raw)
			}
			if r.body["status"] != "success" {
				t.Fatalf("status %v: %s", r.body["status"], r.raw)
			}
			text := r.body["outputs"].(map[string]any)["say"].(map[string]any)["text"]
			if text != tt.want {
				t.Errorf("text %q, want %q", text, tt.want)
			}
			id := r.body["id"].(string)
			g := e.do("GET", "/v1/runs/"+id, "")
			if g.code != 200 || g.body["status"] != "success" || g.body["id"] != id {
				t.Errorf("GET run: %d %s", g.code, g.raw)
			}
		})
	}
}

func TestFailedRunIs200(t *testing.T) {
	e, _ := newEnv(t)
	wf := strings.Replace(echoWorkflow, "model: fast", "model: broken", 1)
	r := e.do("POST", "/v1/runs", jsonBody(t, map[string]any{"workflow": wf}))
	if r.code != 200 || r.body["status"] != "failure" {
		t.Fatalf("got %d %s", r.code, r.raw)
	}
	st := r.body["steps"].(map[string]any)["say"].(map[string]any)
	if st["error"].(map[string]any)["type"] != "invalid_request" {
		t.Errorf("step: %v", st)
	}
}

func TestRejected(t *testing.T) {
	e, _ := newEnv(t, server.WithMaxBodyBytes(4096))
	tests := []struct {
		name, path, body string
		code             int
		reason           string
		wantErr          string
	}{
		{"not json", "/v1/runs", `{"workflow":`, 400, server.ReasonMalformed, "malformed request body"},
		{"unknown field", "/v1/runs", `{"workflow":"x","extra":1}`, 400, server.ReasonMalformed, `unknown field "extra"`},
		{"trailing data", "/v1/runs", `{"workflow":"x"} {}`, 400, server.ReasonMalformed, "data after the JSON object"},
		{"no workflow", "/v1/runs", `{"inputs":{}}`, 400, server.ReasonMalformed, `"workflow" is required`},
		{"workflow number", "/v1/runs", `{"workflow":3}`, 400, server.ReasonMalformed, "must be YAML or JSON text, or an object"},
		{"bad async", "/v1/runs?async=maybe", `{}`, 400, server.ReasonMalformed, "not a boolean"},
		{"too large", "/v1/runs", `{"workflow":"` + strings.Repeat("a", 5000) + `"}`, 413, server.ReasonTooLarge, "exceeds 4096 bytes"},
		{"undeclared input", "/v1/runs", jsonBody(t, map[string]any{"workflow": echoWorkflow, "inputs": map[string]any{"nope": 1}}), 400, server.ReasonInvalidInputs, "invalid inputs"},
		{"undeclared input preloaded", "/v1/workflows/echo/runs", `{"inputs":{"nope":1}}`, 400, server.ReasonInvalidInputs, "invalid inputs"},
		{"undeclared input async", "/v1/workflows/echo/runs?async=true", `{"inputs":{"nope":1}}`, 400, server.ReasonInvalidInputs, "invalid inputs"},
		{"preloaded bad body", "/v1/workflows/echo/runs", `[]`, 400, server.ReasonMalformed, "malformed request body"},
	}
	want := map[string]int64{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", tt.path, tt.body)
			if r.code != tt.code {
				t.Fatalf("code %d, want %d: %s", r.code, tt.code, r.raw)
			}
			if msg, _ := r.body["error"].(string); !strings.Contains(msg, tt.wantErr) {
				t.Errorf("error %q, want it to contain %q", msg, tt.wantErr)
			}
			if r.header.Get("Content-Type") != "application/json" {
				t.Errorf("content type %q", r.header.Get("Content-Type"))
			}
		})
		want[tt.reason]++
	}
	assertRejections(t, e.reader, want)
	assertNoRuns(t, e.reader)
}

func TestInvalidWorkflowProblems(t *testing.T) {
	e, _ := newEnv(t)
	wf := "name: bad\nsteps:\n  - id: a\n    type: nope\n  - id: b\n    type: llm\n    provider: fake\n    model: fast\n    prompt: x\n    depends_on: [missing]\n"
	r := e.do("POST", "/v1/runs", jsonBody(t, map[string]any{"workflow": wf}))
	if r.code != 400 || r.body["error"] != "invalid workflow" {
		t.Fatalf("got %d %s", r.code, r.raw)
	}
	problems, _ := r.body["problems"].([]any)
	if len(problems) != 2 {
		t.Fatalf("want 2 problems, got %s", r.raw)
	}
	for _, p := range problems {
		m := p.(map[string]any)
		for _, k := range []string{"line", "column", "message", "step"} {
			if _, ok := m[k]; !ok {
				t.Errorf("problem %v lacks %q", m, k)
			}
		}
	}
	first := problems[0].(map[string]any)
	if first["line"] != float64(4) || first["step"] != "a" {
		t.Errorf("first problem %v: want line 4, step a", first)
	}
	assertRejections(t, e.reader, map[string]int64{server.ReasonInvalidWorkflow: 1})
	assertNoRuns(t, e.reader)
}

func TestPreloaded(t *testing.T) {
	e, _ := newEnv(t)
	r := e.do("GET", "/v1/workflows", "")
	if r.code != 200 {
		t.Fatalf("code %d", r.code)
	}
	var got struct {
		Workflows []struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			Steps       int    `json:"steps"`
			Inputs      map[string]struct {
				Required    bool   `json:"required"`
				Default     any    `json:"default"`
				Description string `json:"description"`
			} `json:"inputs"`
		} `json:"workflows"`
	}
	if err := json.Unmarshal([]byte(r.raw), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Workflows) != 2 || got.Workflows[0].Name != "echo" || got.Workflows[1].Name != "slow" {
		t.Fatalf("workflows: %s", r.raw)
	}
	echo := got.Workflows[0]
	if echo.Description != "Echo a message." || echo.Steps != 1 || echo.Inputs["msg"].Default != "hi" || echo.Inputs["msg"].Description != "what to echo" {
		t.Errorf("echo: %+v", echo)
	}

	for _, body := range []string{`{"inputs":{"msg":"yo"}}`, ``} {
		r = e.do("POST", "/v1/workflows/echo/runs", body)
		if r.code != 200 || r.body["status"] != "success" || r.body["workflow"] != "echo" {
			t.Fatalf("run %q: %d %s", body, r.code, r.raw)
		}
	}
	if r = e.do("POST", "/v1/workflows/nope/runs", `{}`); r.code != 404 {
		t.Errorf("unknown workflow: %d", r.code)
	}
	if r = e.do("GET", "/v1/runs/0123456789abcdef", ""); r.code != 404 {
		t.Errorf("unknown run: %d", r.code)
	}
}

func TestAsyncLifecycle(t *testing.T) {
	e, _ := newEnv(t)
	r := e.do("POST", "/v1/workflows/slow/runs?async=true", `{}`)
	if r.code != 202 {
		t.Fatalf("code %d: %s", r.code, r.raw)
	}
	id := r.body["id"].(string)
	if r.header.Get("Location") != "/v1/runs/"+id || len(r.body) != 1 {
		t.Errorf("202 answer: %v %s", r.header, r.raw)
	}
	e.fake.waitBlocked(t, 1)
	g := e.do("GET", "/v1/runs/"+id, "")
	if g.code != 200 || g.body["status"] != server.StatusRunning || g.body["workflow"] != "slow" {
		t.Fatalf("running: %d %s", g.code, g.raw)
	}
	if st := g.body["steps"].(map[string]any)["wait"].(map[string]any); st["status"] != server.StatusRunning {
		t.Errorf("step while running: %v", st)
	}
	e.fake.releaseAll()
	if err := e.srv.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	g = e.do("GET", "/v1/runs/"+id, "")
	if g.code != 200 || g.body["status"] != "success" {
		t.Fatalf("done: %d %s", g.code, g.raw)
	}
}

func TestAdmission(t *testing.T) {
	e, _ := newEnv(t, server.WithMaxInflight(2), server.WithRetryAfter(1500*time.Millisecond))
	for range 2 {
		if r := e.do("POST", "/v1/workflows/slow/runs?async=true", ``); r.code != 202 {
			t.Fatalf("code %d", r.code)
		}
	}
	e.fake.waitBlocked(t, 2)
	for _, path := range []string{"/v1/workflows/echo/runs", "/v1/runs"} {
		r := e.do("POST", path, jsonBody(t, map[string]any{"workflow": echoWorkflow}))
		if r.code != 429 || r.header.Get("Retry-After") != "2" {
			t.Fatalf("%s: %d Retry-After=%q %s", path, r.code, r.header.Get("Retry-After"), r.raw)
		}
		if !strings.Contains(r.body["error"].(string), "limit 2") {
			t.Errorf("error: %s", r.raw)
		}
	}
	assertRejections(t, e.reader, map[string]int64{server.ReasonMaxInflight: 2})
	e.fake.releaseAll()
	if err := e.srv.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestDrainAndWait(t *testing.T) {
	t.Run("drained runs complete", func(t *testing.T) {
		e, _ := newEnv(t)
		var wg sync.WaitGroup
		codes := make([]response, 3)
		for i := range codes {
			wg.Go(func() { codes[i] = e.do("POST", "/v1/workflows/slow/runs", ``) })
		}
		e.fake.waitBlocked(t, 3)
		e.srv.Drain()
		r := e.do("POST", "/v1/workflows/echo/runs", ``)
		if r.code != 503 || !strings.Contains(r.body["error"].(string), "shutting down") || r.header.Get("Retry-After") == "" {
			t.Fatalf("draining: %d %s", r.code, r.raw)
		}
		if g := e.do("GET", "/v1/workflows", ""); g.code != 200 {
			t.Errorf("reads still served while draining: %d", g.code)
		}
		done := make(chan error, 1)
		go func() { done <- e.srv.Wait(context.Background()) }()
		e.fake.releaseAll()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		for _, c := range codes {
			if c.code != 200 || c.body["status"] != "success" {
				t.Errorf("in-flight run: %d %s", c.code, c.raw)
			}
		}
		assertRejections(t, e.reader, map[string]int64{server.ReasonDraining: 1})
	})
	t.Run("past the deadline runs are cancelled", func(t *testing.T) {
		e, _ := newEnv(t)
		var wg sync.WaitGroup
		var syncRes response
		wg.Go(func() { syncRes = e.do("POST", "/v1/workflows/slow/runs", ``) })
		a := e.do("POST", "/v1/workflows/slow/runs?async=1", ``)
		e.fake.waitBlocked(t, 2)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := e.srv.Wait(ctx)
		if err == nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cancelled 2 in-flight runs") {
			t.Fatalf("Wait: %v", err)
		}
		wg.Wait()
		for _, doc := range []response{syncRes, e.do("GET", "/v1/runs/"+a.body["id"].(string), "")} {
			if doc.code != 200 || doc.body["status"] != "failure" {
				t.Fatalf("cancelled run: %d %s", doc.code, doc.raw)
			}
			if typ := doc.body["error"].(map[string]any)["type"]; typ != "canceled" {
				t.Errorf("run error type %v, want canceled: %s", typ, doc.raw)
			}
		}
	})
}

func TestAuth(t *testing.T) {
	for _, protect := range []bool{false, true} {
		t.Run(fmt.Sprintf("protect ops %v", protect), func(t *testing.T) {
			e, _ := newEnv(t, server.WithAuthToken("s3cret"), server.WithProtectOps(protect))
			for _, tc := range []struct {
				method, path string
				ops          bool
			}{
				{"GET", "/v1/workflows", false},
				{"POST", "/v1/workflows/echo/runs", false},
				{"POST", "/v1/runs", false},
				{"GET", "/v1/runs/abc", false},
				{"GET", "/metrics", true},
				{"GET", "/health/live", true},
				{"GET", "/health/ready", true},
			} {
				wantAuth := !tc.ops || protect
				for _, hdr := range []string{"", "Bearer nope", "Bearer s3cret2", "Basic s3cret", "Bearer s3cret", "bearer s3cret"} {
					r := e.do(tc.method, tc.path, ``, "Authorization", hdr)
					good := strings.HasSuffix(hdr, " s3cret") && !strings.HasPrefix(hdr, "Basic")
					if wantAuth && !good {
						if r.code != 401 || r.header.Get("WWW-Authenticate") == "" {
							t.Errorf("%s %s with %q: %d, want 401", tc.method, tc.path, hdr, r.code)
						}
						continue
					}
					if r.code == 401 {
						t.Errorf("%s %s with %q: 401", tc.method, tc.path, hdr)
					}
				}
			}
		})
	}
}

func TestHistoryBounded(t *testing.T) {
	e, _ := newEnv(t, server.WithHistorySize(2))
	var ids []string
	for range 3 {
		r := e.do("POST", "/v1/workflows/echo/runs", ``)
		ids = append(ids, r.body["id"].(string))
	}
	want := []int{404, 200, 200}
	for i, id := range ids {
		if r := e.do("GET", "/v1/runs/"+id, ""); r.code != want[i] {
			t.Errorf("run %d: %d, want %d", i, r.code, want[i])
		}
	}
}

func TestTraceContextReachesRuns(t *testing.T) {
	e, rec := newEnv(t)
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	syncRun := e.do("POST", "/v1/workflows/echo/runs", ``, "traceparent", tp)
	async := e.do("POST", "/v1/workflows/echo/runs?async=true", ``, "traceparent", tp)
	plain := e.do("POST", "/v1/workflows/echo/runs", ``)
	if err := e.srv.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, r := range []response{syncRun, async} {
		sc := rec.spans[r.body["id"].(string)]
		if sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("run %v: trace id %q", r.body["id"], sc.TraceID())
		}
	}
	if sc := rec.spans[plain.body["id"].(string)]; sc.IsValid() {
		t.Errorf("run without traceparent has trace id %s", sc.TraceID())
	}
}

func TestNewValidatesOptions(t *testing.T) {
	eng, err := engine.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []server.Option{
		server.WithMaxInflight(0), server.WithHistorySize(0), server.WithPlanCacheSize(0),
		server.WithMaxBodyBytes(0), server.WithRetryAfter(0), server.WithMaxQueued(-1),
	} {
		if _, err := server.New(eng, o); err == nil {
			t.Error("want an error")
		}
	}
	if _, err := server.New(nil); err == nil {
		t.Error("nil engine: want an error")
	}
}

// collect returns the metrics recorded so far.
func collect(t *testing.T, r *sdkmetric.ManualReader) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

func find(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// allReasons is the closed set of rejection reasons; each series exists
// from the start, at 0.
var allReasons = []string{server.ReasonMaxInflight, server.ReasonQueueFull, server.ReasonDraining, server.ReasonMalformed,
	server.ReasonTooLarge, server.ReasonInvalidWorkflow, server.ReasonInvalidInputs}

// assertRejections checks the rejection counts: want's, and 0 for every
// other reason.
func assertRejections(t *testing.T, r *sdkmetric.ManualReader, want map[string]int64) {
	t.Helper()
	m, ok := find(collect(t, r), "orchestrator.run.rejections")
	if !ok {
		t.Fatal("no orchestrator.run.rejections")
	}
	var dps []metricdata.DataPoint[int64]
	for _, reason := range allReasons {
		dps = append(dps, metricdata.DataPoint[int64]{Attributes: attribute.NewSet(attribute.String("reason", reason)), Value: want[reason]})
	}
	for reason := range want {
		if !slices.Contains(allReasons, reason) {
			t.Fatalf("reason %q is outside the closed set", reason)
		}
	}
	metricdatatest.AssertEqual(t, metricdata.Metrics{
		Name:        "orchestrator.run.rejections",
		Description: m.Description,
		Unit:        "{rejection}",
		Data:        metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true, DataPoints: dps},
	}, m, metricdatatest.IgnoreTimestamp())
}

// assertNoRuns checks that no workflow execution was recorded.
func assertNoRuns(t *testing.T, r *sdkmetric.ManualReader) {
	t.Helper()
	if m, ok := find(collect(t, r), "orchestrator.workflow.executions"); ok {
		if sum, ok := m.Data.(metricdata.Sum[int64]); ok && len(sum.DataPoints) > 0 {
			t.Errorf("rejected submissions were executed: %+v", sum.DataPoints)
		}
	}
}

func TestPlanCache(t *testing.T) {
	e, _ := newEnv(t)
	body := jsonBody(t, map[string]any{"workflow": echoWorkflow})
	for range 3 {
		if r := e.do("POST", "/v1/runs", body); r.code != 200 {
			t.Fatalf("code %d", r.code)
		}
	}
	if n := e.srv.PlanCacheLen(); n != 1 {
		t.Errorf("plan cache holds %d plans, want 1", n)
	}
	// An invalid workflow is not cached.
	e.do("POST", "/v1/runs", jsonBody(t, map[string]any{"workflow": "name: x\n"}))
	if n := e.srv.PlanCacheLen(); n != 1 {
		t.Errorf("plan cache holds %d plans, want 1", n)
	}
}
