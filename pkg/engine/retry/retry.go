package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// Kind is a backoff shape.
type Kind string

// Backoff kinds, as written in a workflow's retry block.
const (
	Exponential Kind = "exponential" // initial·2^(n-1)
	Linear      Kind = "linear"      // initial·n
	Constant    Kind = "constant"    // initial
)

// DefaultJitter is the jitter the engine applies to workflow retry
// policies: each backoff is drawn uniformly from [d/2, d].
const DefaultJitter = 0.5

// Policy says how often and how long to retry.
type Policy struct {
	// MaxAttempts counts every attempt, the first included. Values below 1
	// mean 1 (no retry).
	MaxAttempts int
	// Backoff is the shape of the delay; an unknown kind is Exponential.
	Backoff Kind
	// Initial is the base delay.
	Initial time.Duration
	// Max caps every wait, Retry-After included; 0 or less means no cap.
	Max time.Duration
	// Jitter in [0, 1] draws each backoff uniformly from
	// [d·(1-Jitter), d], where d is the capped delay, so a jittered wait
	// never exceeds the cap. 0 disables jitter; values outside [0, 1] are
	// clamped. Retry-After waits are never jittered.
	Jitter float64
}

// FromWorkflow converts a step's retry block into a Policy with
// DefaultJitter.
func FromWorkflow(r workflow.Retry) Policy {
	return Policy{
		MaxAttempts: r.MaxAttempts,
		Backoff:     Kind(r.Backoff),
		Initial:     time.Duration(r.InitialDelayMS) * time.Millisecond,
		Max:         time.Duration(r.MaxDelayMS) * time.Millisecond,
		Jitter:      DefaultJitter,
	}
}

// Delay is the un-jittered backoff before retry n (n = 1 after the first
// failed attempt), capped at Max.
func (p Policy) Delay(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	limit := p.Max
	if limit <= 0 {
		limit = time.Duration(1<<63 - 1)
	}
	var d time.Duration
	switch p.Backoff {
	case Constant:
		d = p.Initial
	case Linear:
		if p.Initial > 0 && time.Duration(n) > limit/p.Initial {
			return limit
		}
		d = p.Initial * time.Duration(n)
	default:
		d = p.Initial
		for i := 1; i < n && d < limit; i++ {
			if d > limit/2 {
				return limit
			}
			d *= 2
		}
	}
	return min(d, limit)
}

// wait returns the wait before retry n after err, and whether it came from
// a Retry-After.
func (p Policy) wait(n int, err error, rnd func() float64) (time.Duration, bool) {
	if ra := provider.RetryAfterOf(err); ra > 0 {
		if p.Max > 0 {
			ra = min(ra, p.Max)
		}
		return ra, true
	}
	d := p.Delay(n)
	j := min(max(p.Jitter, 0), 1)
	if j == 0 || d <= 0 {
		return d, false
	}
	return d - time.Duration(j*rnd()*float64(d)), false
}

// Option configures one Do call.
type Option func(*options)

type options struct {
	onRetry func(attempt int, err error, wait time.Duration, fromRetryAfter bool)
	rand    func() float64
}

// OnRetry registers a hook called before each retry wait with the attempt
// that failed (1-based), its error, the wait about to be slept and whether
// that wait came from the error's Retry-After. It runs on Do's goroutine.
// Default: none.
func OnRetry(f func(attempt int, err error, wait time.Duration, fromRetryAfter bool)) Option {
	return func(o *options) { o.onRetry = f }
}

// Notifier is told about retries, like an OnRetry hook.
type Notifier interface {
	Retrying(attempt int, err error, wait time.Duration, fromRetryAfter bool)
}

// Notify is OnRetry(n.Retrying). Prefer it on hot paths: when n is a
// pointer, Do costs no allocation until a retry is due, whereas a method
// value given to OnRetry is allocated on every call.
func Notify(n Notifier) Option { return func(o *options) { o.onRetry = n.Retrying } }

// WithRand sets the source of jitter, a function returning values in
// [0, 1). Default: math/rand/v2.Float64.
func WithRand(f func() float64) Option { return func(o *options) { o.rand = f } }

// Permanent marks err as not to be retried whatever its type. Do returns
// the error without the mark; errtype.Of sees through it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanent{err}
}

type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

// Do calls fn with attempt = 1, 2, ... until it returns nil, returns an
// error that is not retryable (errtype.Of(err).Retryable() is false, or the
// error was marked Permanent), or p.MaxAttempts attempts were made. It
// returns the number of attempts made (at least 1) and the last error.
//
// The ctx passed to fn is ctx. Do sleeps between attempts (see Policy) and
// stops as soon as ctx ends: it makes no further attempt and returns an
// error wrapping context.Cause(ctx), whose errtype is therefore the
// cause's (timeout or canceled).
func Do(ctx context.Context, p Policy, fn func(ctx context.Context, attempt int) error, opts ...Option) (attempts int, err error) {
	maxAttempts := max(p.MaxAttempts, 1)
	var o *options // applied at the first retry: a first attempt that succeeds allocates nothing
	for attempt := 1; ; attempt++ {
		err = fn(ctx, attempt)
		if err == nil {
			return attempt, nil
		}
		if pe := (*permanent)(nil); errors.As(err, &pe) {
			return attempt, pe.err
		}
		if attempt >= maxAttempts || !errtype.Of(err).Retryable() {
			return attempt, err
		}
		if ctx.Err() != nil {
			return attempt, interrupted(ctx, attempt, err)
		}
		if o == nil {
			o = newOptions(opts)
		}
		wait, fromRA := p.wait(attempt, err, o.rand)
		if o.onRetry != nil {
			o.onRetry(attempt, err, wait, fromRA)
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return attempt, interrupted(ctx, attempt, err)
			case <-t.C:
			}
		}
	}
}

func newOptions(opts []Option) *options {
	o := &options{rand: rand.Float64}
	for _, opt := range opts {
		opt(o)
	}
	if o.rand == nil { // WithRand(nil)
		o.rand = rand.Float64
	}
	return o
}

func interrupted(ctx context.Context, attempt int, err error) error {
	return fmt.Errorf("attempt %d: %v; no retry: %w", attempt, err, context.Cause(ctx))
}
