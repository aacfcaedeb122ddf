// Package provider defines the interface between the engine and LLM
// providers (chat completion and embeddings), the typed error every provider
// returns, and the Set of named provider instances a workflow can refer to.
//
// Implementations live in sub-packages (openai, anthropic, simulated) and
// register a Factory by kind in a Registry. Providers never retry: the
// engine retries, so that every attempt is visible to instrumentation.
// Providers never record metrics: they report Usage and typed errors and the
// engine turns them into measurements.
package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
)

// Usage is the token usage a provider reported for one request.
type Usage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
}

// ChatRequest is one chat/messages request.
type ChatRequest struct {
	Model       string
	System      string // empty means no system prompt
	Prompt      string // the single user message
	Temperature *float64
	MaxTokens   *int64
	Stream      bool
	// Extra holds any other step keys (top_p, stop, ...), passed to the
	// provider as extra request parameters.
	Extra map[string]any
	// OnChunk, when non-nil and Stream is true, is called synchronously for
	// every content delta, in order, from the goroutine that called Chat.
	// The engine uses the first call to measure time to first token.
	OnChunk func(delta string)
}

// ChatResponse is the answer to a ChatRequest.
type ChatResponse struct {
	Text         string
	Model        string // the model the provider says answered (may differ from the request)
	FinishReason string // normalised: stop, length, tool_calls, content_filter, or the provider's own word
	Usage        Usage
}

// EmbedRequest asks for one vector per input.
type EmbedRequest struct {
	Model      string
	Input      []string
	Dimensions int // 0 means the model's default
}

// EmbedResponse holds one vector per input, in input order.
type EmbedResponse struct {
	Vectors [][]float64
	Model   string
	Usage   Usage // embeddings report InputTokens only
}

// Provider is one configured LLM endpoint.
//
// Methods are safe for concurrent use. They honour ctx: a deadline returns
// an *Error of type timeout, a cancellation returns an error wrapping
// context.Canceled (errtype.Of reports canceled). They make exactly
// one HTTP request per call, and never retry. On failure they may return a
// non-nil partial response together with the error when the API reported
// usage before failing (for example a stream cut after its usage event); the
// engine counts those tokens.
type Provider interface {
	Chat(ctx context.Context, req ChatRequest) (*ChatResponse, error)
	Embed(ctx context.Context, req EmbedRequest) (*EmbedResponse, error)
}

// Error is the typed error every provider returns.
type Error struct {
	Type       errtype.Type  // one of the six provider types
	StatusCode int           // HTTP status, 0 when there was no response
	RetryAfter time.Duration // from Retry-After / retry-after-ms headers, 0 when absent
	Message    string        // safe to show: never contains credentials
	Err        error         // underlying cause, may be nil
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.StatusCode != 0 {
		return fmt.Sprintf("%s (http %d): %s", e.Type, e.StatusCode, msg)
	}
	return fmt.Sprintf("%s: %s", e.Type, msg)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorType implements errtype.Typed.
func (e *Error) ErrorType() errtype.Type { return e.Type }

// RetryAfterOf returns the Retry-After carried by err, or 0.
func RetryAfterOf(err error) time.Duration {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.RetryAfter
	}
	return 0
}

// Config configures one named provider instance.
type Config struct {
	Name    string // the name workflows use in `provider:` (openai, ollama, ...)
	Kind    string // the implementation: openai, anthropic, simulated
	BaseURL string // empty means the kind's default (or its *_BASE_URL variable)
	APIKey  string // resolved key; never logged
	// APIKeyEnv names the variable the key came from, for error messages.
	APIKeyEnv string
	// HTTPClient is used for all requests; nil means a default client.
	HTTPClient *http.Client
	// MaxResponseBytes bounds a response body; 0 means 32 MiB.
	MaxResponseBytes int64
}

// Factory builds a provider of one kind. It returns an error, never a
// half-built provider, when the config is unusable (for example a missing
// API key).
type Factory func(cfg Config) (Provider, error)
