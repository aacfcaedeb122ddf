// Package errtype defines the closed set of error types that orchestrator
// reports in run results, logs and the error_type metric attribute.
//
// The set is closed on purpose: every value is safe to use as a metric
// attribute, and dashboards and alerts may enumerate it.
package errtype

import (
	"context"
	"errors"
)

// Type is one member of the closed set of error types.
type Type string

// Provider error types. They are produced by provider implementations from
// status codes and API error types, never from message text.
const (
	Timeout        Type = "timeout"         // a deadline expired (step attempt, provider call or workflow)
	RateLimit      Type = "rate_limit"      // HTTP 429 or the provider's rate-limit error type
	Auth           Type = "auth"            // HTTP 401/403: missing or bad credentials
	InvalidRequest Type = "invalid_request" // HTTP 400/404/413/422: the request cannot succeed as written
	ProviderError  Type = "provider_error"  // HTTP 5xx, 529, or an unusable answer (bad JSON, empty choices)
	Network        Type = "network"         // connection refused/reset, DNS, TLS, truncated body
)

// Step-level error types, in addition to the provider types.
const (
	Template       Type = "template"        // a template failed to render at run time
	Validation     Type = "validation"      // a step's rendered input is invalid (bad JSON, bad vector, ...)
	ExecutionError Type = "execution_error" // any other step failure, including a recovered panic
	Canceled       Type = "canceled"        // the run was cancelled (client gone, shutdown deadline)
)

// Run-level error type used with component="executor" when a step failed.
const StepFailed Type = "step_failed"

// Retryable reports whether an error of type t is retried by the engine's
// retry policy: timeout, rate_limit, provider_error and network.
func (t Type) Retryable() bool {
	switch t {
	case Timeout, RateLimit, ProviderError, Network:
		return true
	}
	return false
}

// Typed is implemented by errors that know their Type.
type Typed interface {
	error
	ErrorType() Type
}

// Error is a generic typed error. Use New or Wrap to build one.
type Error struct {
	Type Type
	Err  error
}

// New returns an error of type t wrapping err.
func New(t Type, err error) *Error { return &Error{Type: t, Err: err} }

func (e *Error) Error() string {
	if e.Err == nil {
		return string(e.Type)
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// ErrorType returns the error's type.
func (e *Error) ErrorType() Type { return e.Type }

// Of classifies err: the type of the first Typed error in its chain;
// context.DeadlineExceeded is Timeout and context.Canceled is Canceled;
// anything else is ExecutionError. Of(nil) is "".
func Of(err error) Type {
	if err == nil {
		return ""
	}
	var t Typed
	if errors.As(err, &t) {
		return t.ErrorType()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	case errors.Is(err, context.Canceled):
		return Canceled
	}
	return ExecutionError
}
