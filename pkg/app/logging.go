package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
)

// NewLogger returns a slog logger writing to w in format ("json" or
// "text") at level ("debug", "info", "warn", "error"). Every record logged
// with a context that carries a valid span context (for example a request
// that arrived with a traceparent) gets trace_id and span_id.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	hopts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch strings.ToLower(format) {
	case "json":
		h = slog.NewJSONHandler(w, hopts)
	case "text":
		h = slog.NewTextHandler(w, hopts)
	default:
		return nil, fmt.Errorf("log format %q: want json or text", format)
	}
	return slog.New(traceHandler{h}), nil
}

// traceHandler adds trace_id and span_id from the record's context.
type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(as)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}

// logObserver turns engine events into the service's run logs: one line
// per finished run (info), per failed step (warn) and per retry (info);
// started runs and steps, and successful or skipped steps, at debug.
type logObserver struct{ log *slog.Logger }

func (o logObserver) RunStarted(ctx context.Context, e observe.RunStart) {
	o.log.LogAttrs(ctx, slog.LevelDebug, "run started",
		slog.String("run_id", e.RunID), slog.String("workflow_name", e.Workflow))
}

func (o logObserver) RunFinished(ctx context.Context, e observe.RunEnd) {
	attrs := []slog.Attr{
		slog.String("run_id", e.RunID), slog.String("workflow_name", e.Workflow),
		slog.String("status", e.Status), slog.Float64("duration_ms", millis(e.Duration)),
	}
	if e.ErrorType != "" {
		attrs = append(attrs, slog.String("error_type", string(e.ErrorType)))
	}
	o.log.LogAttrs(ctx, slog.LevelInfo, "run finished", attrs...)
}

func (o logObserver) StepStarted(ctx context.Context, e observe.StepStart) {
	o.log.LogAttrs(ctx, slog.LevelDebug, "step started",
		slog.String("run_id", e.RunID), slog.String("workflow_name", e.Workflow),
		slog.String("step_id", e.StepID), slog.String("step_type", e.StepType))
}

func (o logObserver) StepFinished(ctx context.Context, e observe.StepEnd) {
	attrs := []slog.Attr{
		slog.String("run_id", e.RunID), slog.String("workflow_name", e.Workflow),
		slog.String("step_id", e.StepID), slog.String("step_type", e.StepType),
		slog.String("status", e.Status),
	}
	switch e.Status {
	case observe.StatusFailure:
		o.log.LogAttrs(ctx, slog.LevelWarn, "step failed", append(attrs,
			slog.String("error_type", string(e.ErrorType)), slog.String("error", e.Error),
			slog.Int("attempts", e.Attempts), slog.Float64("duration_ms", millis(e.Duration)))...)
	case observe.StatusSkipped:
		o.log.LogAttrs(ctx, slog.LevelDebug, "step skipped", append(attrs, slog.String("reason", e.SkipReason))...)
	default:
		o.log.LogAttrs(ctx, slog.LevelDebug, "step finished", append(attrs,
			slog.Int("attempts", e.Attempts), slog.Float64("duration_ms", millis(e.Duration)))...)
	}
}

func (o logObserver) StepRetrying(ctx context.Context, e observe.StepRetry) {
	o.log.LogAttrs(ctx, slog.LevelInfo, "step retrying",
		slog.String("run_id", e.RunID), slog.String("workflow_name", e.Workflow),
		slog.String("step_id", e.StepID), slog.String("step_type", e.StepType),
		slog.Int("attempt", e.Attempt), slog.String("error_type", string(e.ErrorType)),
		slog.Duration("wait", e.Wait))
}

func (o logObserver) ProviderRequestFinished(context.Context, observe.ProviderRequest) {}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
