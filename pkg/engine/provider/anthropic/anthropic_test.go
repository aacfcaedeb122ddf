package anthropic_test

import (
	"net/http"
	"testing"

	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/anthropic"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/providertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestChatConformance(t *testing.T) {
	providertest.RunChatSuite(t, providertest.Anthropic, anthropic.New)
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     provider.Config
		wantErr string
	}{
		{name: "missing key for api.anthropic.com", cfg: provider.Config{APIKeyEnv: "ANTHROPIC_API_KEY"}, wantErr: "ANTHROPIC_API_KEY is not set"},
		{name: "missing key without env name", cfg: provider.Config{}, wantErr: "no API key configured"},
		{name: "keyless proxy", cfg: provider.Config{BaseURL: "http://127.0.0.1:8081"}},
		{name: "declared key variable unset", cfg: provider.Config{BaseURL: "http://127.0.0.1:8081", APIKeyEnv: "PROXY_KEY"}, wantErr: "PROXY_KEY is not set"},
		{name: "key", cfg: provider.Config{APIKey: "sk-ant-x"}},
		{name: "bad base URL", cfg: provider.Config{BaseURL: "ftp://x"}, wantErr: `invalid base URL "ftp://x": want http(s)://host[/path]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := anthropic.New(tc.cfg)
			if tc.wantErr == "" {
				if err != nil || p == nil {
					t.Fatalf("New = %v, %v; want a provider", p, err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("New error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func newProvider(t *testing.T, srv *providertest.Server) provider.Provider {
	t.Helper()
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(client.CloseIdleConnections)
	p, err := anthropic.New(provider.Config{BaseURL: srv.BaseURL(), APIKey: providertest.Key, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultMaxTokens(t *testing.T) {
	srv := providertest.NewAnthropicServer(t)
	if _, err := newProvider(t, srv).Chat(t.Context(), provider.ChatRequest{Model: "claude-x", Prompt: "hi"}); err != nil {
		t.Fatal(err)
	}
	req := srv.Received()[0]
	if got := req.JSON["max_tokens"]; got != float64(anthropic.DefaultMaxTokens) {
		t.Errorf("max_tokens = %v, want %d", got, anthropic.DefaultMaxTokens)
	}
	if _, ok := req.JSON["system"]; ok {
		t.Error("system sent without a system prompt")
	}
	if req.Header.Get("Anthropic-Version") == "" {
		t.Error("no anthropic-version header")
	}
}

func TestFinishReason(t *testing.T) {
	tests := []struct{ stop, want string }{
		{"end_turn", "stop"}, {"stop_sequence", "stop"}, {"max_tokens", "length"},
		{"tool_use", "tool_calls"}, {"refusal", "content_filter"}, {"pause_turn", "pause_turn"},
	}
	for _, tc := range tests {
		for _, stream := range []bool{false, true} {
			srv := providertest.NewAnthropicServer(t, providertest.Reply{StopReason: tc.stop})
			resp, err := newProvider(t, srv).Chat(t.Context(), provider.ChatRequest{Model: "m", Prompt: "p", Stream: stream})
			if err != nil || resp.FinishReason != tc.want {
				t.Errorf("stop %q stream=%v: finish = %v, %v; want %q", tc.stop, stream, resp, err, tc.want)
			}
		}
	}
}

func TestEmbedUnsupported(t *testing.T) {
	p, err := anthropic.New(provider.Config{APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Embed(t.Context(), provider.EmbedRequest{Model: "m", Input: []string{"x"}})
	if errtype.Of(err) != errtype.InvalidRequest {
		t.Fatalf("Embed error = %v, want invalid_request", err)
	}
}
