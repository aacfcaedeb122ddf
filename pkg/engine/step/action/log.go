package action

import (
	"context"
	"log/slog"
	"maps"
	"slices"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/internal/stepkit"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

var levels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

type logAction struct {
	level    slog.Level
	message  *tmpl.Template
	keys     []string // sorted field names
	fields   map[string]*tmpl.Template
	maxBytes int
}

func compileLog(b *stepkit.Builder, c *Config, s *workflow.Step) step.Executor {
	e := &logAction{level: slog.LevelInfo, maxBytes: b.Env().MaxTemplateBytes}
	if !stepkit.Has(s, "message") {
		b.Errorf("action", "action log needs key %q", "message")
	}
	e.message = b.Template("message", c.Message)
	if stepkit.Has(s, "level") {
		l, ok := levels[c.Level]
		if !ok {
			b.Errorf("level", "%s", stepkit.Unknown("level", c.Level, slices.Collect(maps.Keys(levels))))
		}
		e.level = l
	}
	e.fields = b.TemplateMap("fields", c.Fields)
	e.keys = slices.Sorted(maps.Keys(c.Fields))
	return e
}

// Execute writes one line to the run's logger at the configured level, with
// the rendered fields as string attributes in name order.
func (e *logAction) Execute(ctx context.Context, rt step.Runtime) (step.Result, error) {
	data := rt.Data()
	msg, err := stepkit.Render(e.message, data, e.maxBytes, "message")
	if err != nil {
		return step.Result{}, err
	}
	attrs := make([]slog.Attr, len(e.keys))
	for i, k := range e.keys {
		v, err := stepkit.Render(e.fields[k], data, e.maxBytes, "fields."+k)
		if err != nil {
			return step.Result{}, err
		}
		attrs[i] = slog.String(k, v)
	}
	rt.Logger().LogAttrs(ctx, e.level, msg, attrs...)
	return step.Result{Object: map[string]any{"logged": true, "message": msg}, Values: []any{msg}}, nil
}
