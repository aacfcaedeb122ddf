package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/app"
	"github.com/orchestrator-dev/orchestrator/pkg/app/apptest"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/providertest"
)

// Canary API keys: they must never appear in any output.
const (
	canaryOpenAI    = "sk-canary-openai-5f3a9c"
	canaryAnthropic = "sk-ant-canary-7b2e1d"
)

// fakes are the provider APIs the app talks to: OpenAI and Anthropic fakes
// speaking the real wire formats, scripted by model name, and a blocking
// OpenAI-compatible server whose calls wait until released.
type fakes struct {
	openai, anthropic *providertest.Server
	block             *blockingServer
	providersFile     string
}

func newFakes(t *testing.T) *fakes {
	t.Helper()
	f := &fakes{
		openai:    providertest.NewOpenAIServer(t),
		anthropic: providertest.NewAnthropicServer(t),
		block:     newBlockingServer(t),
	}
	var mu sync.Mutex
	flaky, limited := 0, 0
	f.openai.SetReplyFunc(func(_ int, req providertest.Request) providertest.Reply {
		switch req.Model() {
		case "gpt-429": // rate limited once, with Retry-After: 1
			mu.Lock()
			defer mu.Unlock()
			if limited++; limited == 1 {
				return providertest.Reply{Fault: providertest.FaultStatus, Status: http.StatusTooManyRequests, RetryAfter: "1"}
			}
		case "gpt-bad":
			return providertest.Reply{Fault: providertest.FaultStatus, Status: http.StatusBadRequest}
		case "gpt-401":
			return providertest.Reply{Fault: providertest.FaultStatus, Status: http.StatusUnauthorized}
		case "gpt-flaky":
			mu.Lock()
			defer mu.Unlock()
			if flaky++; flaky == 1 {
				return providertest.Reply{Fault: providertest.FaultStatus, Status: http.StatusInternalServerError}
			}
		case "text-embedding-3-small":
			return providertest.Reply{InputTokens: 4}
		}
		return providertest.Reply{Text: "the answer is 42", InputTokens: 10, OutputTokens: 5}
	})
	f.anthropic.SetReplyFunc(func(int, providertest.Request) providertest.Reply {
		return providertest.Reply{Text: "claude says hi", InputTokens: 20, OutputTokens: 8}
	})
	f.providersFile = filepath.Join(t.TempDir(), "providers.yaml")
	yaml := fmt.Sprintf(`providers:
  - name: openai
    kind: openai
    base_url: %s
    api_key_env: OPENAI_API_KEY
  - name: anthropic
    kind: anthropic
    base_url: %s
    api_key_env: ANTHROPIC_API_KEY
  - name: blocking
    kind: openai
    base_url: %s/v1
`, f.openai.BaseURL(), f.anthropic.BaseURL(), f.block.url)
	if err := os.WriteFile(f.providersFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// blockingServer answers OpenAI chat completions once released; a call
// whose client goes away returns at once.
type blockingServer struct {
	url     string
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newBlockingServer(t *testing.T) *blockingServer {
	t.Helper()
	b := &blockingServer{entered: make(chan struct{}, 1000), release: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			return // health checks (HEAD) get an empty 200
		}
		b.entered <- struct{}{}
		select {
		case <-b.release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-block",`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"released"},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	})}
	go func() { _ = hs.Serve(ln) }()
	b.url = "http://" + ln.Addr().String()
	t.Cleanup(func() {
		b.releaseAll()
		_ = hs.Close()
	})
	return b
}

func (b *blockingServer) releaseAll() { b.once.Do(func() { close(b.release) }) }

// waitEntered waits until n calls are blocked.
func (b *blockingServer) waitEntered(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for range n {
		select {
		case <-b.entered:
		case <-timeout:
			t.Fatalf("timed out waiting for %d blocked provider calls", n)
		}
	}
}

// instance is one app.Run on 127.0.0.1:0 (apptest) with the fakes'
// providers; the short field names keep the tests terse.
type instance struct {
	*apptest.Instance
	t      *testing.T
	base   string
	logs   *apptest.Buffer
	stdout *apptest.Buffer
	client *http.Client
}

// start runs the app with the fakes' providers, the testdata workflows and
// env (plus the canary keys). mod adjusts the options.
func start(t *testing.T, f *fakes, env map[string]string, mod func(*app.Options)) *instance {
	t.Helper()
	vars := map[string]string{"OPENAI_API_KEY": canaryOpenAI, "ANTHROPIC_API_KEY": canaryAnthropic}
	for k, v := range env {
		vars[k] = v
	}
	o := app.DefaultOptions()
	o.WorkflowsDir = "testdata/workflows"
	o.ProvidersFile = f.providersFile
	o.Getenv = func(k string) string { return vars[k] }
	o.Version = "v9.9.9-test"
	o.LogLevel = "debug"
	if mod != nil {
		mod(&o)
	}
	ai := apptest.Start(t, o)
	return &instance{Instance: ai, t: t, base: ai.Base, logs: ai.Stderr, stdout: ai.Stdout, client: ai.Client}
}

// stop cancels the app and waits for Run to return; it returns Run's error.
func (in *instance) stop() error { return in.Stop() }

type answer struct {
	code   int
	header http.Header
	raw    string
	doc    map[string]any
}

func (in *instance) do(method, path, body string, header ...string) answer {
	in.t.Helper()
	a := in.Do(method, path, body, header...)
	return answer{code: a.Code, header: a.Header, raw: a.Raw, doc: a.Doc}
}

// runInline posts testdata/inline/<name>.yaml with inputs.
func (in *instance) runInline(name string, inputs map[string]any) answer {
	in.t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata/inline", name+".yaml"))
	if err != nil {
		in.t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"workflow": string(src), "inputs": inputs})
	return in.do("POST", "/v1/runs", string(body))
}

// metrics scrapes /metrics.
func (in *instance) metrics() string {
	in.t.Helper()
	a := in.do("GET", "/metrics", "")
	if a.code != 200 {
		in.t.Fatalf("/metrics: %d", a.code)
	}
	return a.raw
}

// eventually polls cond until it holds or 30 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
