package parallel

import (
	"context"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// Config is the `parallel` step's configuration.
type Config struct {
	Tasks          []*workflow.Step `yaml:"tasks,required"`
	MaxConcurrency int              `yaml:"max_concurrency"` // 0: the workflow's max_concurrency
}

// NestedSteps implements workflow.Nested.
func (c *Config) NestedSteps() [][]*workflow.Step { return [][]*workflow.Step{c.Tasks} }

// ConcurrencyLimit is the limit the engine applies to the tasks; 0 means
// the workflow's max_concurrency.
func (c *Config) ConcurrencyLimit() int { return c.MaxConcurrency }

// Spec returns the `parallel` step type.
func Spec() step.Spec {
	return step.Spec{Type: "parallel", NewConfig: func() any { return new(Config) }, Build: build}
}

// outputs is implemented by the engine's Runtime.
type outputs interface {
	GroupOutputs(g step.Group) map[string]any
}

type executor struct{ tasks step.Group }

func build(b step.Builder, s *workflow.Step) step.Executor {
	c := s.Config.(*Config)
	ok := true
	if len(c.Tasks) == 0 {
		b.Errorf("tasks", "tasks must not be empty")
		ok = false
	}
	if c.MaxConcurrency < 0 {
		b.Errorf("max_concurrency", "max_concurrency must not be negative, got %d", c.MaxConcurrency)
		ok = false
	}
	g := b.Group("tasks", c.Tasks)
	if !ok || g == nil {
		return nil
	}
	return &executor{tasks: g}
}

// Execute runs the tasks and returns their outputs.
func (e *executor) Execute(ctx context.Context, rt step.Runtime) (step.Result, error) {
	if err := rt.RunGroup(ctx, e.tasks); err != nil {
		return step.Result{}, err
	}
	results := map[string]any{}
	if o, ok := rt.(outputs); ok {
		results = o.GroupOutputs(e.tasks)
	}
	return step.Result{Object: map[string]any{"results": results}, Values: []any{results}}, nil
}
