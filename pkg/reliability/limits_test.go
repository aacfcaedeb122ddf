package reliability_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/builtin"
	pt "github.com/orchestrator-dev/orchestrator/pkg/engine/provider/providertest"
	"github.com/orchestrator-dev/orchestrator/pkg/server"
)

// TestLoadLimits checks the engine's default load-time limits: each is a
// problem with a clear message, never a crash or a hang.
func TestLoadLimits(t *testing.T) {
	var many strings.Builder
	many.WriteString("name: many\nsteps:\n")
	for i := range 1001 {
		fmt.Fprintf(&many, "  - {id: s%d, type: transform, function: template, template: hi}\n", i)
	}
	deep := "  - {id: leaf, type: transform, function: template, template: hi}\n"
	for d := 9; d >= 1; d-- {
		deep = fmt.Sprintf("  - id: p%d\n    type: parallel\n    tasks:\n%s", d, indent(deep, 4))
	}
	huge := "name: huge\n# " + strings.Repeat("x", 10<<20) + "\nsteps:\n  - {id: a, type: transform, function: template, template: hi}\n"
	tests := []struct{ name, src, problem string }{
		{"1001 steps", many.String(), "workflow has more than 1000 steps"},
		{"nesting depth 9", "name: deep\nsteps:\n" + deep, "nesting depth 9 exceeds the limit of 8"},
		{"file over 10 MiB", huge, "more than the limit of 10485760"},
	}
	e, err := engine.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Load("limits.yaml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.problem) {
				t.Fatalf("load: %v, want a problem mentioning %q", err, tc.problem)
			}
			t.Logf("problem: %.200s", err)
		})
	}
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+pad) + "\n"
}

// TestRunLimits checks the run-time limits: a template rendering over
// 1 MiB fails its step with type template, and a provider answer over the
// provider's response limit fails with provider_error without leaking the
// connection.
func TestRunLimits(t *testing.T) {
	srv := pt.NewOpenAIServer(t, pt.Reply{Text: strings.Repeat("word ", 64<<10)}) // 320 KiB of text
	client := newClient(t)
	set, err := builtin.Registry().NewSet([]provider.Config{{Name: "openai", Kind: "openai", BaseURL: srv.BaseURL(),
		APIKey: canary, HTTPClient: client, MaxResponseBytes: 64 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.WithProviders(set), engine.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	// Two workflows, so that neither failure stops the other step.
	steps := map[string]string{
		"big": `{id: big, type: transform, function: template, template: "{{ text }}{{ text }}{{ text }}"}`,
		"ask": `{id: ask, type: llm, provider: openai, model: m, prompt: hi, retry: {max_attempts: 2, initial_delay_ms: 1, max_delay_ms: 5}}`,
	}
	results := map[string]*engine.StepResult{}
	for step, want := range map[string]string{"big": "template", "ask": "provider_error"} {
		plan, err := e.Load("limits.yaml", []byte("name: limits\ninputs: {text: {default: \"\"}}\nsteps:\n  - "+steps[step]+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Run(t.Context(), plan, map[string]any{"text": strings.Repeat("x", 400<<10)})
		if err != nil {
			t.Fatal(err)
		}
		st := res.Steps[step]
		results[step] = st
		if st == nil || st.Error == nil || st.Error.Type != want {
			t.Errorf("step %s: %+v, want a failure of type %s", step, st, want)
			continue
		}
		t.Logf("step %s: %s: %s", step, st.Error.Type, st.Error.Message)
	}
	if n := srv.Requests(); results["ask"] == nil || n != results["ask"].Attempts {
		t.Errorf("the fake saw %d requests, want one per attempt (%+v)", n, results["ask"])
	}
	noOpenConns(t, client, srv)
}

// TestBodyLimit checks that the API answers 413 to a body over 10 MiB.
func TestBodyLimit(t *testing.T) {
	e, err := engine.New()
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(e)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Wait(context.Background()) }()
	body := `{"workflow": "` + strings.Repeat("x", 10<<20) + `"}`
	rr := httptest.NewRecorder()
	s.Handler().ServeHTTP(rr, httptest.NewRequest(http.MethodPost, "/v1/runs", strings.NewReader(body)))
	if rr.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("POST of %d bytes: %d %s, want 413", len(body), rr.Code, rr.Body.String())
	}
	t.Logf("413: %s", strings.TrimSpace(rr.Body.String()))
}
