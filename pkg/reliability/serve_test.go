package reliability_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/app"
	"github.com/orchestrator-dev/orchestrator/pkg/app/apptest"
	"github.com/orchestrator-dev/orchestrator/pkg/cli"
	"github.com/orchestrator-dev/orchestrator/pkg/telemetry/otlptest"
)

// serveInstance is one app.Run (`orchestrator serve`) on 127.0.0.1:0,
// through apptest; the short names keep the tests terse.
type serveInstance struct {
	*apptest.Instance
	t      testing.TB
	base   string
	stdout *apptest.Buffer
	stderr *apptest.Buffer
	client *http.Client
}

// startServe runs the app with the options mod adjusts (the environment is
// empty unless mod sets Getenv).
func startServe(t testing.TB, mod func(*app.Options)) *serveInstance {
	t.Helper()
	o := app.DefaultOptions()
	o.Getenv = func(string) string { return "" }
	mod(&o)
	ai := apptest.Start(t, o)
	return &serveInstance{Instance: ai, t: t, base: ai.Base, stdout: ai.Stdout, stderr: ai.Stderr, client: ai.Client}
}

// stop cancels the app (as SIGTERM does) and returns Run's error.
func (in *serveInstance) stop() error { return in.Stop() }

type answer struct {
	code int
	raw  string
	doc  map[string]any
}

func (in *serveInstance) do(method, path, body string, header ...string) answer {
	in.t.Helper()
	a := in.Do(method, path, body, header...)
	return answer{code: a.Code, raw: a.Raw, doc: a.Doc}
}

// answers is every answer so far, headers included.
func (in *serveInstance) answers() string { return strings.Join(in.Seen(), "\n") }

// TestSecretsServe runs every secrets scenario through `orchestrator serve`
// (preloaded, inline and asynchronous runs), with the canary as the provider
// keys, as the OTLP header (a vendor's key) and as the API's bearer token,
// then searches every answer, /metrics, the health JSON, the banner and the
// logs for it. A request with a wrong token that contains the canary checks
// that rejected tokens are not echoed either.
func TestSecretsServe(t *testing.T) {
	f := newLeakyFakes(t)
	rcv := otlptest.Start(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(canary+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := startServe(t, func(o *app.Options) {
		o.WorkflowsDir = "testdata/workflows"
		o.ProvidersFile = f.providersFile(t)
		o.AuthTokenFile = tokenFile
		o.LogLevel = "debug"
		o.Getenv = canaryEnv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.Endpoint(),
			"OTEL_EXPORTER_OTLP_HEADERS", "api-key="+canary, "OTEL_METRIC_EXPORT_INTERVAL", "200")
	})
	auth := []string{"Authorization", "Bearer " + canary}
	src := readFile(t, "testdata/workflows/secrets.yaml")

	for _, sc := range secretScenarios {
		body, _ := json.Marshal(map[string]any{"inputs": map[string]any{"scenario": sc.scenario}})
		a := in.do("POST", "/v1/workflows/secrets/runs", string(body), auth...)
		checkAnswer(t, sc.scenario, sc.step, sc.errType, a)
	}
	for _, sc := range secretScenarios[:4] {
		body, _ := json.Marshal(map[string]any{"workflow": src, "inputs": map[string]any{"scenario": sc.scenario}})
		checkAnswer(t, "inline "+sc.scenario, sc.step, sc.errType, in.do("POST", "/v1/runs", string(body), auth...))
		a := in.do("POST", "/v1/runs?async=true", string(body), auth...)
		id, _ := a.doc["id"].(string)
		if a.code != http.StatusAccepted || id == "" {
			t.Fatalf("async run: %d %s", a.code, a.raw)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			a = in.do("GET", "/v1/runs/"+id, "", auth...)
			if a.doc["status"] != "running" || time.Now().After(deadline) {
				break
			}
		}
		checkAnswer(t, "async "+sc.scenario, sc.step, sc.errType, a)
	}
	in.do("POST", "/v1/runs", `{"workflow": "name: bad\nsteps:\n  - {id: a, type: llm, provider: nope, model: m, prompt: hi}"}`, auth...)
	in.do("POST", "/v1/runs", `{`, auth...)
	in.do("GET", "/v1/workflows", "", auth...)
	if a := in.do("GET", "/v1/workflows", "", "Authorization", "Bearer "+canary+"-wrong"); a.code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d %s", a.code, a.raw)
	}
	in.do("GET", "/health/live", "")
	in.do("GET", "/health/ready", "")
	metrics := in.do("GET", "/metrics", "").raw
	if !strings.Contains(metrics, `orchestrator_errors_total{component="provider",error_type="auth"}`) {
		t.Errorf("/metrics lacks the auth errors")
	}

	// The OTLP header reached the collector: the key was in use.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := rcv.Wait(ctx, func(reqs []otlptest.Request) bool { return len(reqs) > 0 }); err != nil {
		t.Fatalf("no OTLP export arrived: %v", err)
	}
	if got := rcv.Requests()[0].Headers.Get("api-key"); len(got) != 1 || got[0] != canary {
		t.Errorf("OTLP export header api-key = %q, want the canary", got)
	}
	// The healthcheck command probes the live server.
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	if code := cli.Main(t.Context(), cli.Env{Stdout: stdout, Stderr: stderr, Getenv: canaryEnv()},
		[]string{"healthcheck", "--url", in.base + "/health/ready"}); code != cli.ExitOK {
		t.Errorf("healthcheck exit %d: %s %s", code, stdout.String(), stderr.String())
	}

	if err := in.stop(); err != nil {
		t.Errorf("app.Run: %v", err)
	}
	if !strings.Contains(in.stderr.String(), `"error_type":"auth"`) {
		t.Errorf("the server's logs lack the auth failures")
	}
	noCanary(t, map[string]string{"the API's answers": in.answers(), "the server's logs": in.stderr.String(),
		"the banner": in.stdout.String(), "healthcheck output": stdout.String() + stderr.String()})
	for _, srv := range []interface{ Requests() int }{f.openai, f.anthropic} {
		if srv.Requests() == 0 {
			t.Error("a fake provider saw no request")
		}
	}
}

// checkAnswer checks the run document of a secrets scenario.
func checkAnswer(t testing.TB, what, step, errType string, a answer) {
	t.Helper()
	if a.code != http.StatusOK {
		t.Errorf("%s: %d %s", what, a.code, a.raw)
		return
	}
	var res struct {
		Steps map[string]struct {
			Status string
			Error  *struct{ Type string }
		}
	}
	if err := json.Unmarshal([]byte(a.raw), &res); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	st, ok := res.Steps[step]
	got := ""
	if st.Error != nil {
		got = st.Error.Type
	}
	if !ok || got != errType {
		t.Errorf("%s: step %s %+v, want error %q", what, step, st, errType)
	}
}

// TestSecretsCLI runs every secrets scenario with `orchestrator run` (JSON
// and text output) and validates the workflow, with the canary keys in the
// environment, and searches stdout and stderr for the key.
func TestSecretsCLI(t *testing.T) {
	f := newLeakyFakes(t)
	pf := f.providersFile(t)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	env := cli.Env{Stdout: stdout, Stderr: stderr, Getenv: canaryEnv()}
	const wf = "testdata/workflows/secrets.yaml"
	for _, sc := range secretScenarios {
		want := cli.ExitOK
		if sc.errType != "" {
			want = cli.ExitFailed
		}
		for _, output := range []string{"json", "text"} {
			if code := cli.Main(t.Context(), env, []string{"run", wf, "--providers", pf, "--output", output,
				"--input", "scenario=" + sc.scenario}); code != want {
				t.Errorf("run %s --output %s: exit %d, want %d", sc.scenario, output, code, want)
			}
		}
	}
	if code := cli.Main(t.Context(), env, []string{"validate", "--providers", pf, wf}); code != cli.ExitOK {
		t.Errorf("validate: exit %d", code)
	}
	// The same without the keys: the errors name the variables only.
	noKeys := cli.Env{Stdout: stdout, Stderr: stderr, Getenv: func(string) string { return "" }}
	if code := cli.Main(t.Context(), noKeys, []string{"validate", "--providers", pf, wf}); code != cli.ExitUsage {
		t.Errorf("validate without keys: exit %d", code)
	}
	if !strings.Contains(stderr.String(), "auth") || !strings.Contains(stdout.String(), "Hello from the fake provider.") {
		t.Errorf("the CLI output lacks the expected outcomes:\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	noCanary(t, map[string]string{"the CLI's stdout": stdout.String(), "the CLI's stderr": stderr.String()})
}
