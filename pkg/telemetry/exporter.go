package telemetry

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// loggingExporter wraps the OTLP exporter so that its failures are logged
// here, rate limited, instead of reaching otel.Handle (the global error
// handler) on every export. Periodic exports report success to the reader
// (the next export carries the same cumulative values, so nothing is lost);
// the final export at shutdown returns its error.
//
// Header values (OTEL_EXPORTER_OTLP_HEADERS carries vendors' API keys) are
// redacted from every error it logs or returns: a backend may quote them.
type loggingExporter struct {
	sdkmetric.Exporter
	log     *errorLog
	final   atomic.Bool
	secrets []string
}

func (e *loggingExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	err := e.Exporter.Export(ctx, rm)
	if err != nil {
		err = redact(err, e.secrets)
		e.log.failed(err)
		if e.final.Load() {
			return err
		}
		return nil
	}
	e.log.succeeded()
	return nil
}

// redactedError is err with every secret replaced in its message. It does
// not unwrap: the wrapped chain still holds the secret.
type redactedError struct{ msg string }

func (r *redactedError) Error() string { return r.msg }

// redact returns err unchanged when its message holds none of secrets, and
// otherwise an error with the same message, each secret replaced.
func redact(err error, secrets []string) error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	msg := err.Error()
	clean := msg
	for _, s := range secrets {
		clean = strings.ReplaceAll(clean, s, "[REDACTED]")
	}
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean}
}

// errorLog logs at most one export failure per interval, with the number
// of failures suppressed since the previous line, and one line when
// exports succeed again.
type errorLog struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu         sync.Mutex
	last       time.Time // of the last logged failure
	suppressed int       // failures not logged since last
	failing    int       // consecutive failures
}

func (l *errorLog) failed(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failing++
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.suppressed++
		return
	}
	l.log.Warn("otlp metric export failed", "error", err, "suppressed", l.suppressed, "consecutive_failures", l.failing)
	l.last, l.suppressed = now, 0
}

func (l *errorLog) succeeded() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failing == 0 {
		return
	}
	l.log.Info("otlp metric export recovered", "failed_exports", l.failing)
	l.failing = 0
}
