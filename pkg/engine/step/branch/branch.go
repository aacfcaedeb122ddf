package branch

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/cond"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// Config is the `branch` step's configuration.
type Config struct {
	On       string                      `yaml:"on,required"` // expression
	Branches map[string][]*workflow.Step `yaml:"branches"`
	Default  []*workflow.Step            `yaml:"default"`
}

// NestedSteps implements workflow.Nested: the branches in key order, then
// the default list.
func (c *Config) NestedSteps() [][]*workflow.Step {
	out := make([][]*workflow.Step, 0, len(c.Branches)+1)
	for _, k := range slices.Sorted(maps.Keys(c.Branches)) {
		out = append(out, c.Branches[k])
	}
	return append(out, c.Default)
}

// Spec returns the `branch` step type.
func Spec() step.Spec {
	return step.Spec{Type: "branch", NewConfig: func() any { return new(Config) }, Build: build}
}

// DefaultKey is the branch recorded when the default list ran.
const DefaultKey = "default"

// NotTaken is the skip reason of the steps of the lists that did not run.
const NotTaken = "branch not taken"

// runtime is the part of the engine's Runtime a branch needs beyond
// step.Runtime.
type runtime interface {
	SkipGroup(ctx context.Context, g step.Group, reason string) error
	GroupOutputs(g step.Group) map[string]any
}

type executor struct {
	on       *cond.Expr
	branches map[string]step.Group
	groups   []step.Group // every list: the branches, then default
	def      step.Group
	// hasDefault: the step has a non-empty default list.
	hasDefault bool
}

func build(b step.Builder, s *workflow.Step) step.Executor {
	c := s.Config.(*Config)
	e := &executor{branches: map[string]step.Group{}, hasDefault: len(c.Default) > 0}
	ok := true
	if len(c.Branches) == 0 && len(c.Default) == 0 {
		b.Errorf("branches", "a branch needs at least one list in branches or default")
		ok = false
	}
	e.on = b.Expr("on", c.On)
	for _, k := range slices.Sorted(maps.Keys(c.Branches)) {
		g := b.Group("branches", c.Branches[k])
		e.branches[k] = g
		e.groups = append(e.groups, g)
		ok = ok && g != nil
	}
	e.def = b.Group("default", c.Default)
	e.groups = append(e.groups, e.def)
	if !ok || e.on == nil || e.def == nil {
		return nil
	}
	return e
}

// Execute evaluates `on`, skips the lists not taken and runs the chosen one.
func (e *executor) Execute(ctx context.Context, rt step.Runtime) (step.Result, error) {
	v, err := e.on.Value(rt.Data())
	if err != nil {
		if errtype.Of(err) == errtype.ExecutionError {
			err = errtype.New(errtype.Template, err)
		}
		return step.Result{}, fmt.Errorf("on: %w", err)
	}
	key := ""
	if v != nil {
		key = fmt.Sprint(v)
	}
	chosen, ok := e.branches[key]
	if !ok {
		chosen, key = e.def, ""
		if e.hasDefault {
			key = DefaultKey
		}
	}
	ext, _ := rt.(runtime)
	for _, g := range e.groups {
		if g != chosen && ext != nil {
			if err := ext.SkipGroup(ctx, g, NotTaken); err != nil {
				return step.Result{}, err
			}
		}
	}
	if err := rt.RunGroup(ctx, chosen); err != nil {
		return step.Result{}, err
	}
	results := map[string]any{}
	if ext != nil {
		results = ext.GroupOutputs(chosen)
	}
	return step.Result{Object: map[string]any{"branch": key, "results": results}, Values: []any{key, results}}, nil
}
