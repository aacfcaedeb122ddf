package server

import (
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
)

// Defaults of the options below.
const (
	DefaultMaxInflight   = 1024
	DefaultMaxQueued     = 1024
	DefaultHistorySize   = 1000
	DefaultPlanCacheSize = 256
	DefaultMaxBodyBytes  = 10 << 20
	DefaultRetryAfter    = time.Second
)

// Option configures a Server.
type Option func(*config)

type config struct {
	workflows      []*engine.Plan
	maxInflight    int
	maxQueued      int
	queue          QueueObserver
	historySize    int
	planCacheSize  int
	maxBodyBytes   int64
	retryAfter     time.Duration
	authToken      string
	protectOps     bool
	metrics        http.Handler
	live           http.Handler
	ready          http.Handler
	logger         *slog.Logger
	meterProvider  metric.MeterProvider
	tracerProvider trace.TracerProvider
	inlineDir      string
}

func defaultConfig() config {
	return config{
		maxInflight:   DefaultMaxInflight,
		maxQueued:     DefaultMaxQueued,
		historySize:   DefaultHistorySize,
		planCacheSize: DefaultPlanCacheSize,
		maxBodyBytes:  DefaultMaxBodyBytes,
		retryAfter:    DefaultRetryAfter,
	}
}

// WithWorkflows preloads plans, served under their workflow names by
// GET /v1/workflows and POST /v1/workflows/{name}/runs. Default: none. Two
// plans with the same name make New fail.
func WithWorkflows(plans ...*engine.Plan) Option {
	return func(c *config) { c.workflows = append(c.workflows, plans...) }
}

// WithInlineDir sets the directory that inline workflows (POST /v1/runs)
// resolve relative file paths against, such as a vector_search index.
// Paths may not leave it (absolute paths and ".." are refused at load time).
// Default: "" (the process's working directory); the app passes --workflows.
func WithInlineDir(dir string) Option { return func(c *config) { c.inlineDir = dir } }

// WithMaxInflight bounds the runs executing at once (synchronous and
// asynchronous). Past it, synchronous submissions get 429 and asynchronous
// ones wait in the queue (see WithMaxQueued). Default DefaultMaxInflight;
// n < 1 makes New fail.
func WithMaxInflight(n int) Option { return func(c *config) { c.maxInflight = n } }

// WithMaxQueued bounds the asynchronous runs waiting, first in first out,
// for one of the WithMaxInflight run slots. Past it they get 429 (reason
// queue_full). 0 turns queueing off: asynchronous runs past the in-flight
// limit then get 429 like synchronous ones (reason max_inflight). Default
// DefaultMaxQueued; n < 0 makes New fail.
func WithMaxQueued(n int) Option { return func(c *config) { c.maxQueued = n } }

// WithQueueObserver receives the admission events behind the queue metrics
// (typically the instrument.Recorder the engine records with). Default nil:
// none.
func WithQueueObserver(q QueueObserver) Option { return func(c *config) { c.queue = q } }

// WithHistorySize bounds the finished runs kept for GET /v1/runs/{id}; the
// oldest is forgotten first. Runs in flight are always kept. Default
// DefaultHistorySize; n < 1 makes New fail.
func WithHistorySize(n int) Option { return func(c *config) { c.historySize = n } }

// WithPlanCacheSize bounds the compiled inline workflows kept by content
// hash (least recently used first out). Default DefaultPlanCacheSize; n < 1
// makes New fail.
func WithPlanCacheSize(n int) Option { return func(c *config) { c.planCacheSize = n } }

// WithMaxBodyBytes bounds a request body; larger bodies get 413. Default
// DefaultMaxBodyBytes (10 MiB); n < 1 makes New fail.
func WithMaxBodyBytes(n int64) Option { return func(c *config) { c.maxBodyBytes = n } }

// WithRetryAfter sets the Retry-After sent with 429 and 503 answers,
// rounded up to whole seconds. Default DefaultRetryAfter; d <= 0 makes New
// fail.
func WithRetryAfter(d time.Duration) Option { return func(c *config) { c.retryAfter = d } }

// WithAuthToken requires `Authorization: Bearer <token>` on /v1/* (compared
// in constant time). Default "" : no auth.
func WithAuthToken(token string) Option { return func(c *config) { c.authToken = token } }

// WithProtectOps also requires the token on /metrics and /health/*.
// Default false. Without WithAuthToken it has no effect.
func WithProtectOps(on bool) Option { return func(c *config) { c.protectOps = on } }

// WithMetricsHandler mounts h on GET /metrics. Default: not mounted (404).
func WithMetricsHandler(h http.Handler) Option { return func(c *config) { c.metrics = h } }

// WithHealthHandlers mounts live on GET /health/live and ready on
// GET /health/ready. Default: not mounted (404); a nil handler is skipped.
func WithHealthHandlers(live, ready http.Handler) Option {
	return func(c *config) { c.live, c.ready = live, ready }
}

// WithLogger sets the logger. Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithMeterProvider records the HTTP server metrics (otelhttp) and
// orchestrator.run.rejections on mp. Default nil: the global MeterProvider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider = mp }
}

// WithTracerProvider creates the HTTP server spans on tp. Default nil: the
// global TracerProvider. The incoming traceparent is always extracted (W3C
// trace context and baggage), so run logs carry its trace_id either way.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracerProvider = tp }
}
