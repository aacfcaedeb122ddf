package embed_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/embed"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/steptest"
)

func TestBuildProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"string input", "id: e\nprovider: fake\nmodel: m\ninput: '{{ q }}'\ndimensions: 8", nil},
		{"list input", "id: e\nprovider: fake\nmodel: m\ninput: ['{{ q }}', two]", nil},
		{"empty list", "id: e\nprovider: fake\nmodel: m\ninput: []", []string{"input: input must not be an empty list"}},
		{"not strings", "id: e\nprovider: fake\nmodel: m\ninput: [a, {b: 1}]", []string{"input: input[1] must be a string template, got an object"}},
		{"mapping", "id: e\nprovider: fake\nmodel: m\ninput: {a: 1}", []string{"input: input must be a string or a list of strings, got an object"}},
		{"bad template", "id: e\nprovider: fake\nmodel: m\ninput: ['{{']", []string{"input: *"}},
		{"every problem", "id: e\nprovider: nope\nmodel: ''\ninput: x\ndimensions: 0", []string{
			`provider: unknown provider "nope"`,
			"model: model must not be empty",
			"dimensions: dimensions must be greater than 0, got 0",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := steptest.NewBuilder(map[string]provider.Provider{"fake": &steptest.Provider{}})
			e := b.Build(t, embed.Spec(), tt.src)
			steptest.CheckBuild(t, b, e, tt.want)
		})
	}
}

func TestExecute(t *testing.T) {
	v1, v2 := steptest.HashVector("question", 8), steptest.HashVector("other", 8)
	tests := []struct {
		name      string
		src       string
		wantReq   provider.EmbedRequest
		wantValue any
	}{
		{"string", "id: e\nprovider: fake\nmodel: m\ninput: '{{ q }}'\ndimensions: 8",
			provider.EmbedRequest{Model: "m", Input: []string{"question"}, Dimensions: 8}, v1},
		{"list", "id: e\nprovider: fake\nmodel: m\ninput: ['{{ inputs.q }}', other]",
			provider.EmbedRequest{Model: "m", Input: []string{"question", "other"}}, []any{v1, v2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &steptest.Provider{}
			b := steptest.NewBuilder(map[string]provider.Provider{"fake": p})
			e := b.Build(t, embed.Spec(), tt.src)
			res, err := e.Execute(context.Background(), steptest.NewRuntime(map[string]any{"q": "question"}, nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.EmbedRequests(); len(got) != 1 || !reflect.DeepEqual(got[0], tt.wantReq) {
				t.Errorf("request: got %+v, want %+v", got, tt.wantReq)
			}
			if !reflect.DeepEqual(res.Values, []any{tt.wantValue}) {
				t.Errorf("values: got %v", res.Values)
			}
			if !reflect.DeepEqual(res.Object["vector"], v1) || res.Object["model"] != "m" {
				t.Errorf("object: %v", res.Object)
			}
			if _, ok := res.Object["usage"].(map[string]any)["input_tokens"].(int64); !ok {
				t.Errorf("usage: %v", res.Object["usage"])
			}
		})
	}
}

func TestExecuteErrors(t *testing.T) {
	down := &provider.Error{Type: errtype.ProviderError, StatusCode: 503}
	tests := []struct {
		name    string
		input   string
		embed   func(context.Context, provider.EmbedRequest) (*provider.EmbedResponse, error)
		want    errtype.Type
		wantErr error
	}{
		{"provider error passes through", "x", func(context.Context, provider.EmbedRequest) (*provider.EmbedResponse, error) { return nil, down }, errtype.ProviderError, down},
		{"wrong count", "x", func(context.Context, provider.EmbedRequest) (*provider.EmbedResponse, error) {
			return &provider.EmbedResponse{}, nil
		}, errtype.ProviderError, nil},
		{"no response", "x", func(context.Context, provider.EmbedRequest) (*provider.EmbedResponse, error) { return nil, nil }, errtype.ProviderError, nil},
		{"empty input", "'{{ missing }}'", nil, errtype.Validation, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := steptest.NewBuilder(map[string]provider.Provider{"fake": &steptest.Provider{EmbedFunc: tt.embed}})
			e := b.Build(t, embed.Spec(), "id: e\nprovider: fake\nmodel: m\ninput: "+tt.input)
			_, err := e.Execute(context.Background(), steptest.NewRuntime(nil, nil))
			if errtype.Of(err) != tt.want {
				t.Errorf("error %v has type %q, want %q", err, errtype.Of(err), tt.want)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tt.wantErr)
			}
		})
	}
}
