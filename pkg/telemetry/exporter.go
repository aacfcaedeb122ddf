package telemetry

import (
	"context"
	"log/slog"
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
type loggingExporter struct {
	sdkmetric.Exporter
	log   *errorLog
	final atomic.Bool
}

func (e *loggingExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	err := e.Exporter.Export(ctx, rm)
	if err != nil {
		e.log.failed(err)
		if e.final.Load() {
			return err
		}
		return nil
	}
	e.log.succeeded()
	return nil
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
