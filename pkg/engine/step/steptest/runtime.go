package steptest

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
)

// Runtime is a fake step.Runtime.
type Runtime struct {
	TemplateData map[string]any // returned by Data
	ID           string         // returned by StepID
	Log          *slog.Logger   // returned by Logger; nil discards
}

var _ step.Runtime = (*Runtime)(nil)

// NewRuntime returns a Runtime for step "test" over Data(inputs, steps).
func NewRuntime(inputs, steps map[string]any) *Runtime {
	return &Runtime{TemplateData: Data(inputs, steps), ID: "test"}
}

// Data builds template data: {"inputs": inputs, "steps": steps}, with nil
// maps replaced by empty ones.
func Data(inputs, steps map[string]any) map[string]any {
	if inputs == nil {
		inputs = map[string]any{}
	}
	if steps == nil {
		steps = map[string]any{}
	}
	return map[string]any{"inputs": inputs, "steps": steps}
}

// Data returns TemplateData.
func (r *Runtime) Data() map[string]any { return r.TemplateData }

// RunGroup fails: the fake cannot run nested steps.
func (r *Runtime) RunGroup(ctx context.Context, g step.Group) error {
	return errors.New("steptest: RunGroup is not supported")
}

// Logger returns Log, or a discarding logger.
func (r *Runtime) Logger() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return r.Log
}

// StepID returns ID.
func (r *Runtime) StepID() string { return r.ID }
