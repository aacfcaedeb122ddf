package llm

import (
	"context"
	"errors"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/internal/stepkit"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// Config is the `llm` step's configuration.
type Config struct {
	Provider    string   `yaml:"provider,required"`
	Model       string   `yaml:"model,required"`
	Prompt      string   `yaml:"prompt,required"` // template
	System      string   `yaml:"system"`          // template; empty means none
	Temperature *float64 `yaml:"temperature"`     // 0..2
	MaxTokens   *int64   `yaml:"max_tokens"`      // > 0
	Stream      bool     `yaml:"stream"`
	// Extra holds every other key (top_p, stop, ...), passed to the provider.
	Extra map[string]any `yaml:",inline"`
}

// Spec returns the `llm` step type.
func Spec() step.Spec {
	return step.Spec{Type: "llm", NewConfig: func() any { return new(Config) }, Build: build}
}

type executor struct {
	p        provider.Provider
	req      provider.ChatRequest // Prompt and System are rendered per attempt
	prompt   *tmpl.Template
	system   *tmpl.Template // nil when absent
	maxBytes int
}

func build(sb step.Builder, s *workflow.Step) step.Executor {
	c := s.Config.(*Config)
	b := stepkit.Wrap(sb)
	e := &executor{
		req: provider.ChatRequest{
			Model: c.Model, Temperature: c.Temperature, MaxTokens: c.MaxTokens,
			Stream: c.Stream, Extra: c.Extra,
		},
		maxBytes: b.Env().MaxTemplateBytes,
	}
	e.p = b.Provider("provider", c.Provider)
	if c.Model == "" {
		b.Errorf("model", "model must not be empty")
	}
	e.prompt = b.Template("prompt", c.Prompt)
	if c.System != "" {
		e.system = b.Template("system", c.System)
	}
	if t := c.Temperature; t != nil && (*t < 0 || *t > 2) {
		b.Errorf("temperature", "temperature must be between 0 and 2, got %g", *t)
	}
	if m := c.MaxTokens; m != nil && *m <= 0 {
		b.Errorf("max_tokens", "max_tokens must be greater than 0, got %d", *m)
	}
	if b.Failed() {
		return nil
	}
	return e
}

// Execute renders the prompts and sends one chat request. Provider errors
// are returned as they are.
func (e *executor) Execute(ctx context.Context, rt step.Runtime) (step.Result, error) {
	data := rt.Data()
	req := e.req
	var err error
	if req.Prompt, err = stepkit.Render(e.prompt, data, e.maxBytes, "prompt"); err != nil {
		return step.Result{}, err
	}
	if e.system != nil {
		if req.System, err = stepkit.Render(e.system, data, e.maxBytes, "system"); err != nil {
			return step.Result{}, err
		}
	}
	resp, err := e.p.Chat(ctx, req)
	if err != nil {
		return step.Result{}, err
	}
	if resp == nil {
		return step.Result{}, errtype.New(errtype.ProviderError, errors.New("the provider returned no response"))
	}
	model := resp.Model
	if model == "" {
		model = req.Model
	}
	usage := map[string]any{"input_tokens": resp.Usage.InputTokens, "output_tokens": resp.Usage.OutputTokens}
	return step.Result{
		Object: map[string]any{"text": resp.Text, "model": model, "usage": usage, "finish_reason": resp.FinishReason},
		Values: []any{resp.Text, model, usage},
	}, nil
}
