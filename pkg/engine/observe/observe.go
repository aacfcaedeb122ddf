// Package observe defines the engine's observability seam: the events the
// engine emits at every point where a metric, a log line or a progress
// display needs to know something, and the Observer interface that receives
// them.
//
// The engine (scheduler and provider wrapper) is the only emitter: step
// executors and providers never emit events. Every path is covered: success,
// failure, skip, timeout, cancellation and recovered panics.
//
// Observers are called synchronously on the goroutine that runs the step or
// run, possibly from many goroutines at once, so implementations must be
// safe for concurrent use and fast: they must not block or fail the run.
package observe

import (
	"context"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
)

// Status values for runs and steps.
const (
	StatusSuccess = "success"
	StatusFailure = "failure"
	StatusSkipped = "skipped"
)

// Operation values for provider requests.
const (
	OpChat       = "chat"
	OpEmbeddings = "embeddings"
)

// RunStart is emitted once when a run starts, before any step.
type RunStart struct {
	RunID    string
	Workflow string // the workflow's name
	Start    time.Time
}

// RunEnd is emitted exactly once per RunStart, on every path.
type RunEnd struct {
	RunID     string
	Workflow  string
	Status    string       // success | failure
	ErrorType errtype.Type // "" on success; timeout, canceled or step_failed on failure
	Duration  time.Duration
	CostUSD   float64 // total known cost of the run's provider requests
}

// StepStart is emitted when a step begins executing (not for skipped steps).
type StepStart struct {
	RunID    string
	Workflow string
	StepID   string
	StepType string
}

// StepEnd is emitted exactly once per step per run, including skipped steps
// and steps nested in parallel and branch.
type StepEnd struct {
	RunID      string
	Workflow   string
	StepID     string
	StepType   string
	Status     string // success | failure | skipped
	ErrorType  errtype.Type
	Error      string        // human-readable reason (failure) or why it was skipped
	Attempts   int           // 0 for skipped steps
	Duration   time.Duration // start to final outcome, retries and backoff included; 0 when skipped
	SkipReason string        // for skipped steps: "condition false", "dependency \"x\" failed", "run stopped"
}

// StepRetry is emitted before each retry wait.
type StepRetry struct {
	RunID     string
	Workflow  string
	StepID    string
	StepType  string
	Attempt   int // the attempt that failed (1-based)
	ErrorType errtype.Type
	Wait      time.Duration // backoff about to be slept
	Provider  string        // set when the failure came from a provider request
	// RetryAfter is true when Wait came from the provider's Retry-After.
	RetryAfter bool
}

// ProviderRequest is emitted once per provider request attempt (chat or
// embeddings), including failed attempts and attempts cut off by a timeout.
type ProviderRequest struct {
	RunID         string
	Workflow      string
	StepID        string
	Provider      string // the name as written in the workflow (openai, ollama, ...)
	ProviderKind  string // the implementation kind (openai, anthropic, simulated)
	ServerAddress string // host of the provider's base URL, "" for simulated
	ServerPort    int
	Operation     string // chat | embeddings
	Model         string // the requested model
	ResponseModel string // the model the provider reported, "" if none
	Status        string // success | failure
	ErrorType     errtype.Type
	Duration      time.Duration
	Stream        bool
	// TimeToFirstChunk is the time from request start to the first content
	// chunk of a streamed call; 0 when not streamed or no chunk arrived.
	TimeToFirstChunk time.Duration
	InputTokens      int64
	OutputTokens     int64
}

// Observer receives engine events. See the package doc for the contract.
type Observer interface {
	RunStarted(ctx context.Context, e RunStart)
	RunFinished(ctx context.Context, e RunEnd)
	StepStarted(ctx context.Context, e StepStart)
	StepFinished(ctx context.Context, e StepEnd)
	StepRetrying(ctx context.Context, e StepRetry)
	ProviderRequestFinished(ctx context.Context, e ProviderRequest)
}

// Nop is an Observer that does nothing. Embed it to implement only some methods.
type Nop struct{}

func (Nop) RunStarted(context.Context, RunStart)                     {}
func (Nop) RunFinished(context.Context, RunEnd)                      {}
func (Nop) StepStarted(context.Context, StepStart)                   {}
func (Nop) StepFinished(context.Context, StepEnd)                    {}
func (Nop) StepRetrying(context.Context, StepRetry)                  {}
func (Nop) ProviderRequestFinished(context.Context, ProviderRequest) {}

// Multi fans events out to several observers, in order. Nil entries are dropped.
func Multi(obs ...Observer) Observer {
	var m multi
	for _, o := range obs {
		if o != nil {
			m = append(m, o)
		}
	}
	if len(m) == 1 {
		return m[0]
	}
	return m
}

type multi []Observer

func (m multi) RunStarted(ctx context.Context, e RunStart) {
	for _, o := range m {
		o.RunStarted(ctx, e)
	}
}
func (m multi) RunFinished(ctx context.Context, e RunEnd) {
	for _, o := range m {
		o.RunFinished(ctx, e)
	}
}
func (m multi) StepStarted(ctx context.Context, e StepStart) {
	for _, o := range m {
		o.StepStarted(ctx, e)
	}
}
func (m multi) StepFinished(ctx context.Context, e StepEnd) {
	for _, o := range m {
		o.StepFinished(ctx, e)
	}
}
func (m multi) StepRetrying(ctx context.Context, e StepRetry) {
	for _, o := range m {
		o.StepRetrying(ctx, e)
	}
}
func (m multi) ProviderRequestFinished(ctx context.Context, e ProviderRequest) {
	for _, o := range m {
		o.ProviderRequestFinished(ctx, e)
	}
}
