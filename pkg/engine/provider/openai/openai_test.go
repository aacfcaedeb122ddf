package openai_test

import (
	"errors"
	"net/http"
	"reflect"
	"testing"

	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/openai"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/providertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestChatConformance(t *testing.T) {
	providertest.RunChatSuite(t, providertest.OpenAI, openai.New)
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     provider.Config
		wantErr string
	}{
		{name: "missing key for api.openai.com", cfg: provider.Config{APIKeyEnv: "OPENAI_API_KEY"}, wantErr: "OPENAI_API_KEY is not set"},
		{name: "missing key without env name", cfg: provider.Config{BaseURL: "https://api.openai.com/v1"}, wantErr: "no API key configured"},
		{name: "keyless compatible server", cfg: provider.Config{BaseURL: "http://127.0.0.1:11434/v1"}},
		{name: "declared key variable unset", cfg: provider.Config{BaseURL: "http://127.0.0.1:8000/v1", APIKeyEnv: "VLLM_KEY"}, wantErr: "VLLM_KEY is not set"},
		{name: "key for api.openai.com", cfg: provider.Config{APIKey: "sk-x"}},
		{name: "bad base URL", cfg: provider.Config{BaseURL: "localhost:11434"}, wantErr: `invalid base URL "localhost:11434": want http(s)://host[/path]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := openai.New(tc.cfg)
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
	p, err := openai.New(provider.Config{BaseURL: srv.BaseURL(), APIKey: providertest.Key, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEmbed(t *testing.T) {
	tests := []struct {
		name     string
		reply    providertest.Reply
		req      provider.EmbedRequest
		wantDims int
		wantType errtype.Type
	}{
		{name: "default dimensions", req: provider.EmbedRequest{Model: "text-embedding-3-small", Input: []string{"a", "b c"}},
			wantDims: providertest.DefaultDimensions},
		{name: "dimensions sent", req: provider.EmbedRequest{Model: "m", Input: []string{"x"}, Dimensions: 3}, wantDims: 3},
		{name: "no input", req: provider.EmbedRequest{Model: "m"}, wantType: errtype.InvalidRequest},
		{name: "empty data", reply: providertest.Reply{Fault: providertest.FaultEmpty},
			req: provider.EmbedRequest{Model: "m", Input: []string{"x"}}, wantType: errtype.ProviderError},
		{name: "malformed JSON", reply: providertest.Reply{Fault: providertest.FaultGarbage},
			req: provider.EmbedRequest{Model: "m", Input: []string{"x"}}, wantType: errtype.ProviderError},
		{name: "429", reply: providertest.Reply{Fault: providertest.FaultStatus, Status: 429},
			req: provider.EmbedRequest{Model: "m", Input: []string{"x"}}, wantType: errtype.RateLimit},
		{name: "reset", reply: providertest.Reply{Fault: providertest.FaultReset},
			req: provider.EmbedRequest{Model: "m", Input: []string{"x"}}, wantType: errtype.Network},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := providertest.NewOpenAIServer(t, tc.reply)
			resp, err := newProvider(t, srv).Embed(t.Context(), tc.req)
			if got := errtype.Of(err); got != tc.wantType {
				t.Fatalf("error type = %q, want %q (%v)", got, tc.wantType, err)
			}
			wantRequests := 1
			if len(tc.req.Input) == 0 {
				wantRequests = 0
			}
			if n := srv.Requests(); n != wantRequests {
				t.Errorf("requests = %d, want %d", n, wantRequests)
			}
			if err != nil {
				return
			}
			if resp.Model != tc.req.Model || resp.Usage != (provider.Usage{InputTokens: providertest.DefaultInputTokens}) {
				t.Errorf("model/usage = %q/%+v", resp.Model, resp.Usage)
			}
			for i, in := range tc.req.Input {
				if want := providertest.FakeVector(in, tc.wantDims); !reflect.DeepEqual(resp.Vectors[i], want) {
					t.Errorf("vector %d = %v, want %v", i, resp.Vectors[i], want)
				}
			}
			body := srv.Received()[0].JSON
			if body["encoding_format"] != "float" {
				t.Errorf("encoding_format = %v, want float", body["encoding_format"])
			}
			if _, ok := body["dimensions"]; ok != (tc.req.Dimensions > 0) {
				t.Errorf("dimensions sent = %v, want %v", ok, tc.req.Dimensions > 0)
			}
		})
	}
}

func TestExtraParamsOverrideNothingElse(t *testing.T) {
	srv := providertest.NewOpenAIServer(t)
	extra := map[string]any{"stop": []any{"END"}, "seed": 7.0, "response_format": map[string]any{"type": "json_object"}}
	if _, err := newProvider(t, srv).Chat(t.Context(), provider.ChatRequest{Model: "m", Prompt: "p", Extra: extra}); err != nil {
		t.Fatal(err)
	}
	body := srv.Received()[0].JSON
	for k, v := range extra {
		if !reflect.DeepEqual(body[k], v) {
			t.Errorf("%s = %#v, want %#v", k, body[k], v)
		}
	}
	if body["model"] != "m" {
		t.Errorf("model = %v", body["model"])
	}
}

func TestErrorIsTyped(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.Reply{Fault: providertest.FaultStatus, Status: 400, Message: "bad temperature"})
	_, err := newProvider(t, srv).Chat(t.Context(), provider.ChatRequest{Model: "m", Prompt: "p"})
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
	if want := "invalid_request (http 400): invalid_request_error: bad temperature"; err.Error() != want {
		t.Errorf("error = %q, want %q", err.Error(), want)
	}
}
