package llm_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/llm"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/steptest"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
)

func TestBuildProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // exact problems; a trailing "*" matches a prefix
	}{
		{"ok", "id: a\nprovider: fake\nmodel: m\nprompt: hi {{ inputs.x }}\nsystem: be brief\ntemperature: 0.5\nmax_tokens: 10\nstream: true\ntop_p: 0.9", nil},
		{"unknown provider", "id: a\nprovider: nope\nmodel: m\nprompt: hi", []string{`provider: unknown provider "nope"`}},
		{"empty model", "id: a\nprovider: fake\nmodel: ''\nprompt: hi", []string{"model: model must not be empty"}},
		{"bad prompt", "id: a\nprovider: fake\nmodel: m\nprompt: 'hi {{'", []string{"prompt: *"}},
		{"bad system", "id: a\nprovider: fake\nmodel: m\nprompt: hi\nsystem: '{{'", []string{"system: *"}},
		{"every problem", "id: a\nprovider: nope\nmodel: m\nprompt: hi\ntemperature: 2.5\nmax_tokens: 0", []string{
			`provider: unknown provider "nope"`,
			"temperature: temperature must be between 0 and 2, got 2.5",
			"max_tokens: max_tokens must be greater than 0, got 0",
		}},
		{"negative temperature", "id: a\nprovider: fake\nmodel: m\nprompt: hi\ntemperature: -0.1", []string{"temperature: temperature must be between 0 and 2, got -0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := steptest.NewBuilder(map[string]provider.Provider{"fake": &steptest.Provider{}})
			e := b.Build(t, llm.Spec(), tt.src)
			steptest.CheckBuild(t, b, e, tt.want)
		})
	}
}

func TestExecute(t *testing.T) {
	temp, maxTok := 0.2, int64(50)
	tests := []struct {
		name    string
		src     string
		resp    *provider.ChatResponse
		wantReq provider.ChatRequest
		wantObj map[string]any
	}{
		{
			name:    "plain",
			src:     "id: a\nprovider: fake\nmodel: m1\nprompt: 'classify: {{ inputs.ticket }}'",
			resp:    &provider.ChatResponse{Text: "bug", Model: "m1-2024", FinishReason: "stop", Usage: provider.Usage{InputTokens: 7, OutputTokens: 1}},
			wantReq: provider.ChatRequest{Model: "m1", Prompt: "classify: printer on fire"},
			wantObj: map[string]any{"text": "bug", "model": "m1-2024", "finish_reason": "stop",
				"usage": map[string]any{"input_tokens": int64(7), "output_tokens": int64(1)}},
		},
		{
			name: "every field",
			src:  "id: a\nprovider: fake\nmodel: m1\nprompt: '{{ steps.prev.text }}'\nsystem: 'you are {{ role }}'\ntemperature: 0.2\nmax_tokens: 50\nstream: true\ntop_p: 0.9\nstop: [END]",
			resp: &provider.ChatResponse{Text: "ok", FinishReason: "length"},
			wantReq: provider.ChatRequest{Model: "m1", Prompt: "previous", System: "you are support", Temperature: &temp, MaxTokens: &maxTok,
				Stream: true, Extra: map[string]any{"top_p": 0.9, "stop": []any{"END"}}},
			wantObj: map[string]any{"text": "ok", "model": "m1", "finish_reason": "length",
				"usage": map[string]any{"input_tokens": int64(0), "output_tokens": int64(0)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &steptest.Provider{ChatFunc: func(context.Context, provider.ChatRequest) (*provider.ChatResponse, error) { return tt.resp, nil }}
			b := steptest.NewBuilder(map[string]provider.Provider{"fake": p})
			e := b.Build(t, llm.Spec(), tt.src)
			if e == nil {
				t.Fatal(b.Problems)
			}
			rt := steptest.NewRuntime(
				map[string]any{"ticket": "printer on fire", "role": "support"},
				map[string]any{"prev": map[string]any{"text": "previous"}})
			res, err := e.Execute(context.Background(), rt)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.ChatRequests(); len(got) != 1 || !reflect.DeepEqual(got[0], tt.wantReq) {
				t.Errorf("request:\n got %+v\nwant %+v", got, tt.wantReq)
			}
			if !reflect.DeepEqual(res.Object, tt.wantObj) {
				t.Errorf("object:\n got %v\nwant %v", res.Object, tt.wantObj)
			}
			want := []any{tt.wantObj["text"], tt.wantObj["model"], tt.wantObj["usage"]}
			if !reflect.DeepEqual(res.Values, want) {
				t.Errorf("values: got %v, want %v", res.Values, want)
			}
		})
	}
}

func TestExecuteErrors(t *testing.T) {
	rateLimited := &provider.Error{Type: errtype.RateLimit, StatusCode: 429}
	tests := []struct {
		name     string
		chat     func(context.Context, provider.ChatRequest) (*provider.ChatResponse, error)
		maxBytes int
		want     errtype.Type
		wantErr  error
	}{
		{"provider error passes through", func(context.Context, provider.ChatRequest) (*provider.ChatResponse, error) { return nil, rateLimited }, 0, errtype.RateLimit, rateLimited},
		{"no response", func(context.Context, provider.ChatRequest) (*provider.ChatResponse, error) { return nil, nil }, 0, errtype.ProviderError, nil},
		{"prompt over the limit", nil, 4, errtype.Template, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &steptest.Provider{ChatFunc: tt.chat}
			b := steptest.NewBuilder(map[string]provider.Provider{"fake": p})
			b.Settings.MaxTemplateBytes = tt.maxBytes
			e := b.Build(t, llm.Spec(), "id: a\nprovider: fake\nmodel: m\nprompt: 'long prompt {{ x }}'")
			_, err := e.Execute(context.Background(), steptest.NewRuntime(map[string]any{"x": 1}, nil))
			if errtype.Of(err) != tt.want {
				t.Errorf("error %v has type %q, want %q", err, errtype.Of(err), tt.want)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tt.wantErr)
			}
			if tt.maxBytes > 0 && (len(p.ChatRequests()) != 0 || !errors.Is(err, tmpl.ErrOutputLimit)) {
				t.Errorf("limit: %v, %d requests", err, len(p.ChatRequests()))
			}
		})
	}
}
