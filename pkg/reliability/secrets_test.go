package reliability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/builtin"
	pt "github.com/orchestrator-dev/orchestrator/pkg/engine/provider/providertest"
	"github.com/orchestrator-dev/orchestrator/pkg/healthz"
	"github.com/orchestrator-dev/orchestrator/pkg/telemetry"
)

// secretScenarios are the branches of testdata/workflows/secrets.yaml, with
// the outcome each must have (the error type of the failed step, "" for
// success).
var secretScenarios = []struct{ scenario, step, errType string }{
	{"openai-ok", "openai_ok", ""},
	{"openai-ok-stream", "openai_ok_stream", ""},
	{"openai-401", "openai_401", "auth"},
	{"openai-400-stream", "openai_400_stream", "invalid_request"},
	{"openai-429", "openai_429", "rate_limit"},
	{"openai-error-event", "openai_error_event", "provider_error"},
	{"openai-html", "openai_html", "provider_error"},
	{"openai-reset", "openai_reset", "network"},
	{"openai-embed", "openai_embed", ""},
	{"openai-embed-401", "openai_embed_401", "auth"},
	{"anthropic-ok", "anthropic_ok", ""},
	{"anthropic-ok-stream", "anthropic_ok_stream", ""},
	{"anthropic-401-stream", "anthropic_401_stream", "auth"},
	{"anthropic-400", "anthropic_400", "invalid_request"},
	{"anthropic-429-stream", "anthropic_429_stream", "rate_limit"},
	{"anthropic-error-event", "anthropic_error_event", "provider_error"},
	{"anthropic-embed", "anthropic_embed", "invalid_request"},
}

// leakyFakes are fake OpenAI and Anthropic APIs scripted by model name (see
// testdata/workflows/secrets.yaml) whose error replies quote the API key
// the request carried.
type leakyFakes struct {
	openai, anthropic *pt.Server
}

func newLeakyFakes(t testing.TB) *leakyFakes {
	f := &leakyFakes{openai: pt.NewOpenAIServer(t), anthropic: pt.NewAnthropicServer(t)}
	script := func(_ int, req pt.Request) pt.Reply {
		key := req.Header.Get("X-Api-Key")
		if key == "" {
			key = strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
		}
		switch req.Model() {
		case "echo-401": // the default 401 message quotes the key
			return pt.Reply{Fault: pt.FaultStatus, Status: http.StatusUnauthorized}
		case "echo-400":
			return pt.Reply{Fault: pt.FaultStatus, Status: http.StatusBadRequest, Message: "request with key " + key + " is invalid"}
		case "echo-429":
			return pt.Reply{Fault: pt.FaultStatus, Status: http.StatusTooManyRequests, RetryAfter: "1",
				Message: "rate limit reached for key " + key}
		case "echo-event":
			return pt.Reply{Fault: pt.FaultStreamError, Message: "stream failed for key " + key}
		case "html":
			return pt.Reply{Fault: pt.FaultHTML}
		case "reset":
			return pt.Reply{Fault: pt.FaultReset}
		}
		return pt.Reply{}
	}
	f.openai.SetReplyFunc(script)
	f.anthropic.SetReplyFunc(script)
	return f
}

// providersFile writes a providers file pointing openai and anthropic at
// the fakes, with their keys in OPENAI_API_KEY and ANTHROPIC_API_KEY.
func (f *leakyFakes) providersFile(t testing.TB) string {
	path := filepath.Join(t.TempDir(), "providers.yaml")
	src := fmt.Sprintf(`providers:
  - {name: openai, kind: openai, base_url: %q, api_key_env: OPENAI_API_KEY}
  - {name: anthropic, kind: anthropic, base_url: %q, api_key_env: ANTHROPIC_API_KEY}
`, f.openai.BaseURL(), f.anthropic.BaseURL())
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// canaryEnv is the environment of a process holding the canary keys.
func canaryEnv(extra ...string) func(string) string {
	vars := map[string]string{"OPENAI_API_KEY": canary, "ANTHROPIC_API_KEY": canary}
	for i := 0; i+1 < len(extra); i += 2 {
		vars[extra[i]] = extra[i+1]
	}
	return func(k string) string { return vars[k] }
}

// TestSecretsEngine runs every secrets scenario through the engine as a
// library user would wire it (providers file, telemetry, health, tracing)
// and searches every output for the key.
func TestSecretsEngine(t *testing.T) {
	f := newLeakyFakes(t)
	file := f.providersFile(t)
	cfgs, err := builtin.LoadFile(file, canaryEnv())
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(t)
	for i := range cfgs {
		cfgs[i].HTTPClient = client
	}
	set, err := builtin.Registry().NewSet(cfgs)
	if err != nil {
		t.Fatal(err)
	}

	logs := &syncBuffer{}
	tel, err := telemetry.Setup(t.Context(), telemetry.Options{Getenv: func(string) string { return "" }, Logger: jsonLogger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tel.Shutdown(context.Background()) }()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	e, err := engine.New(engine.WithProviders(set), engine.WithMeterProvider(tel.MeterProvider()),
		engine.WithTracerProvider(tp), engine.WithLogger(jsonLogger(logs)))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := e.Load("secrets.yaml", []byte(readFile(t, "testdata/workflows/secrets.yaml")))
	if err != nil {
		t.Fatal(err)
	}

	outputs := map[string]string{}
	for _, sc := range secretScenarios {
		res, err := e.Run(t.Context(), plan, map[string]any{"scenario": sc.scenario})
		if err != nil {
			t.Fatal(err)
		}
		checkScenario(t, sc.scenario, sc.step, sc.errType, res)
		doc, _ := json.Marshal(res)
		outputs["result of "+sc.scenario] = string(doc)
		outputs["Go dump of the result of "+sc.scenario] = fmt.Sprintf("%+v %+v", res, res.Steps[sc.step])
		if st := res.Steps[sc.step]; st != nil && st.Error != nil {
			outputs["error of "+sc.scenario] = st.Error.Message
		}
	}
	for _, s := range spans.Ended() {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %v %q %v", s.Name(), s.Status().Code, s.Status().Description, s.Attributes())
		for _, ev := range s.Events() {
			fmt.Fprintf(&b, " event %s %v", ev.Name, ev.Attributes)
		}
		outputs["span "+s.Name()] += b.String() + "\n"
	}
	rr := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	outputs["/metrics"] = rr.Body.String()
	if !strings.Contains(rr.Body.String(), `orchestrator_errors_total{component="provider",error_type="auth"}`) {
		t.Errorf("/metrics lacks the auth errors:\n%s", rr.Body.String())
	}

	health, err := healthz.New(healthz.Options{Name: "orchestrator", Version: "test", Providers: []healthz.Provider{
		{Name: "openai", BaseURL: f.openai.BaseURL()}, {Name: "anthropic", BaseURL: f.anthropic.BaseURL()},
		{Name: "gone", BaseURL: pt.ClosedURL(t) + "/v1"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for path, h := range map[string]http.Handler{"/health/live": health.LiveHandler(), "/health/ready": health.ReadyHandler()} {
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, path, nil))
		outputs[path] = rr.Body.String()
	}
	if !strings.Contains(outputs["/health/ready"], "unreachable") {
		t.Errorf("readiness does not report the unreachable provider: %s", outputs["/health/ready"])
	}
	outputs["logs"] = logs.String()
	if !strings.Contains(logs.String(), `"error_type":"auth"`) {
		t.Errorf("the logs lack the auth failures:\n%s", logs.String())
	}
	noCanary(t, outputs)

	// The search means something only if the fakes do echo the key.
	req, _ := http.NewRequest(http.MethodPost, f.openai.BaseURL()+"/chat/completions", strings.NewReader(`{"model":"echo-400"}`))
	req.Header.Set("Authorization", "Bearer "+canary)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), canary) {
		t.Errorf("the fake does not echo the key: %s", raw)
	}
	for _, srv := range []*pt.Server{f.openai, f.anthropic} {
		noOpenConns(t, client, srv)
	}
}

// checkScenario checks that a secrets scenario ended as it must.
func checkScenario(t testing.TB, scenario, step, errType string, res *engine.Result) {
	t.Helper()
	st := res.Steps[step]
	if st == nil {
		t.Errorf("%s: no result for step %s", scenario, step)
		return
	}
	got := ""
	if st.Error != nil {
		got = st.Error.Type
	}
	if got != errType {
		t.Errorf("%s: step %s ended %s with error %q, want %q (%+v)", scenario, step, st.Status, got, errType, st.Error)
	}
}
