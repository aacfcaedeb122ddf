package embed

import (
	"context"
	"errors"
	"fmt"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/internal/stepkit"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// Config is the `embed` step's configuration.
type Config struct {
	Provider string `yaml:"provider,required"`
	Model    string `yaml:"model,required"`
	// Input is one template (a string) or a list of templates.
	Input      any  `yaml:"input,required"`
	Dimensions *int `yaml:"dimensions"` // > 0; absent means the model's default
}

// Dims returns Dimensions, or 0 when absent.
func (c *Config) Dims() int {
	if c.Dimensions == nil {
		return 0
	}
	return *c.Dimensions
}

// Spec returns the `embed` step type.
func Spec() step.Spec {
	return step.Spec{Type: "embed", NewConfig: func() any { return new(Config) }, Build: build}
}

type executor struct {
	p        provider.Provider
	model    string
	dims     int
	inputs   []*tmpl.Template
	list     bool // input was a list: Values is [vectors]
	maxBytes int
}

func build(sb step.Builder, s *workflow.Step) step.Executor {
	c := s.Config.(*Config)
	b := stepkit.Wrap(sb)
	e := &executor{model: c.Model, dims: c.Dims(), maxBytes: b.Env().MaxTemplateBytes}
	e.p = b.Provider("provider", c.Provider)
	if c.Model == "" {
		b.Errorf("model", "model must not be empty")
	}
	if c.Dimensions != nil && *c.Dimensions <= 0 {
		b.Errorf("dimensions", "dimensions must be greater than 0, got %d", *c.Dimensions)
	}
	switch in := c.Input.(type) {
	case string:
		e.inputs = []*tmpl.Template{b.Template("input", in)}
	case []any:
		e.list = true
		if len(in) == 0 {
			b.Errorf("input", "input must not be an empty list")
		}
		for i, v := range in {
			src, ok := v.(string)
			if !ok {
				b.Errorf("input", "input[%d] must be a string template, got %s", i, stepkit.Describe(v))
				continue
			}
			e.inputs = append(e.inputs, b.Template("input", src))
		}
	default:
		b.Errorf("input", "input must be a string or a list of strings, got %s", stepkit.Describe(c.Input))
	}
	if b.Failed() {
		return nil
	}
	return e
}

// Execute renders the inputs and sends one embeddings request. Provider
// errors are returned as they are.
func (e *executor) Execute(ctx context.Context, rt step.Runtime) (step.Result, error) {
	data := rt.Data()
	texts := make([]string, len(e.inputs))
	for i, t := range e.inputs {
		what := "input"
		if e.list {
			what = fmt.Sprintf("input[%d]", i)
		}
		s, err := stepkit.Render(t, data, e.maxBytes, what)
		if err != nil {
			return step.Result{}, err
		}
		if s == "" {
			return step.Result{}, errtype.New(errtype.Validation, fmt.Errorf("%s rendered empty: there is nothing to embed", what))
		}
		texts[i] = s
	}
	resp, err := e.p.Embed(ctx, provider.EmbedRequest{Model: e.model, Input: texts, Dimensions: e.dims})
	if err != nil {
		return step.Result{}, err
	}
	if resp == nil {
		return step.Result{}, errtype.New(errtype.ProviderError, errors.New("the provider returned no response"))
	}
	if len(resp.Vectors) != len(texts) {
		return step.Result{}, errtype.New(errtype.ProviderError, fmt.Errorf("the provider returned %d vectors for %d inputs", len(resp.Vectors), len(texts)))
	}
	model := resp.Model
	if model == "" {
		model = e.model
	}
	vectors := make([]any, len(resp.Vectors))
	for i, v := range resp.Vectors {
		vectors[i] = v
	}
	obj := map[string]any{
		"vector":  resp.Vectors[0],
		"vectors": vectors,
		"model":   model,
		"usage":   map[string]any{"input_tokens": resp.Usage.InputTokens, "output_tokens": resp.Usage.OutputTokens},
	}
	if e.list {
		return step.Result{Object: obj, Values: []any{vectors}}, nil
	}
	return step.Result{Object: obj, Values: []any{resp.Vectors[0]}}, nil
}
