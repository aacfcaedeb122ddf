package engine

// This file is the public contract of the engine package. The
// implementation lives in the other files of this package.

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// Option configures an Engine.
type Option func(*config)

type config struct {
	providers      *provider.Set
	steps          *step.Registry
	observers      []observe.Observer
	meterProvider  metric.MeterProvider
	tracerProvider trace.TracerProvider
	logger         *slog.Logger
	httpClient     *http.Client
	allowHTTPHosts []string
	limits         Limits
	now            func() time.Time
	maxConcurrency int
	// meterProviderSet records that WithMeterProvider was given, so that
	// WithMeterProvider(nil) means the global MeterProvider.
	meterProviderSet bool
	cost             func(observe.ProviderRequest) float64
}

// Limits bound what a workflow may ask for. Zero fields take the defaults.
type Limits struct {
	MaxSteps         int // all steps, nested included; default 1000
	MaxDepth         int // nesting depth of parallel/branch; default 8
	MaxFileBytes     int // workflow source size; default 10 MiB
	MaxTemplateBytes int // one rendered template; default 1 MiB
}

// ErrInvalidInputs is returned (wrapped) by Run when required inputs are
// missing or undeclared inputs are given. Such a run is not executed and
// emits no events.
var ErrInvalidInputs = errors.New("invalid inputs")

// Result is the outcome of one run. Its JSON form is the API's run document.
type Result struct {
	ID         string                 `json:"id"`
	Workflow   string                 `json:"workflow"`
	Status     string                 `json:"status"` // success | failure (running in the API while in flight)
	StartedAt  time.Time              `json:"started_at"`
	Duration   time.Duration          `json:"-"`
	DurationMS float64                `json:"duration_ms"`
	Error      *ErrorInfo             `json:"error,omitempty"` // run-level: timeout | canceled | step_failed
	Steps      map[string]*StepResult `json:"steps"`
	// Outputs holds the output object of every step that no other step
	// depends on and that succeeded, by step id.
	Outputs map[string]any `json:"outputs"`
	CostUSD float64        `json:"cost_usd"`
}

// StepResult is one step's outcome.
type StepResult struct {
	Status     string         `json:"status"` // success | failure | skipped
	Type       string         `json:"type"`
	Attempts   int            `json:"attempts"`
	Duration   time.Duration  `json:"-"`
	DurationMS float64        `json:"duration_ms"`
	Error      *ErrorInfo     `json:"error,omitempty"`
	SkipReason string         `json:"skip_reason,omitempty"`
	Output     map[string]any `json:"output,omitempty"`
	CostUSD    float64        `json:"cost_usd,omitempty"`
}

// ErrorInfo is a typed error in a result.
type ErrorInfo struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// RunOption configures one run.
type RunOption func(*runConfig)

type runConfig struct {
	id       string
	observer observe.Observer
}

// WithRunID sets the run's id (default: a random 16-hex-digit id).
func WithRunID(id string) RunOption { return func(c *runConfig) { c.id = id } }

// WithRunObserver adds an observer for this run only (for example the CLI's
// live progress).
func WithRunObserver(o observe.Observer) RunOption {
	return func(c *runConfig) { c.observer = o }
}

// WithProviders sets the named providers workflows may use. Default: an
// empty set (every llm/embed step then fails validation).
func WithProviders(s *provider.Set) Option { return func(c *config) { c.providers = s } }

// WithSteps sets the step registry. Default: DefaultSteps().
func WithSteps(r *step.Registry) Option { return func(c *config) { c.steps = r } }

// WithObserver adds an observer that receives every run's events. May be
// given several times.
func WithObserver(o observe.Observer) Option {
	return func(c *config) { c.observers = append(c.observers, o) }
}

// WithMeterProvider records the nine orchestrator metrics (package
// instrument) on mp. nil means the global MeterProvider (a no-op unless the
// application installed one). Default: no metrics are recorded (observers
// given with WithObserver still see every event).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider, c.meterProviderSet = mp, true }
}

// WithTracerProvider creates workflow.execute, step.execute and llm.request
// spans on tp. nil (default) means the global TracerProvider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracerProvider = tp }
}

// WithLogger sets the logger. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithHTTPClient sets the client for action: http. Default: a client with a
// 30 s timeout that refuses redirects to hosts off the allowlist.
func WithHTTPClient(h *http.Client) Option { return func(c *config) { c.httpClient = h } }

// WithAllowHTTPHosts sets the hosts action: http may call. Default: none,
// which disables action: http.
func WithAllowHTTPHosts(hosts ...string) Option {
	return func(c *config) { c.allowHTTPHosts = append(c.allowHTTPHosts, hosts...) }
}

// WithLimits sets the load-time limits. Zero fields keep their defaults.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithMaxConcurrency overrides every workflow's max_concurrency when > 0.
func WithMaxConcurrency(n int) Option { return func(c *config) { c.maxConcurrency = n } }

// WithClock injects the clock used for durations. Default: time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithCost sets the function that prices one provider request in US
// dollars. The engine sums it into StepResult.CostUSD, Result.CostUSD and
// observe.RunEnd.CostUSD, and passes it to the metrics recorder of
// WithMeterProvider. It must be fast and safe for concurrent use. Default:
// nil, which prices nothing (every cost is 0).
func WithCost(f func(observe.ProviderRequest) float64) Option {
	return func(c *config) { c.cost = f }
}

// Plan is a loaded, validated, compiled workflow, ready to run any number of
// times concurrently. Obtain one with Engine.Load.
type Plan struct {
	Workflow *workflow.Workflow
	plan     *compiled
}

// Engine loads and runs workflows. It is safe for concurrent use; create
// one with New.
//
//	e, err := engine.New(engine.WithProviders(set), engine.WithMeterProvider(mp))
//	plan, err := e.Load("triage.yaml", src)      // err is workflow.Problems
//	res, err := e.Run(ctx, plan, inputs)         // err only for invalid inputs
//
// Load(file, data) (*Plan, error): decode strictly, validate, compile
// templates/expressions, resolve providers. Every problem at once, as
// workflow.Problems.
//
// Run(ctx, plan, inputs, ...RunOption) (*Result, error): runs to completion
// (success, failure, timeout, cancellation) and always returns a Result
// unless the inputs are invalid (ErrInvalidInputs). Cancelling ctx cancels
// the run: running steps fail with canceled, the run ends as failure.
type Engine struct {
	cfg    config
	obs    observe.Observer
	tracer trace.Tracer
	env    step.Env // BaseDir is set per Load
}
