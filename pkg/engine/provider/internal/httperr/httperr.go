package httperr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
)

// DefaultMaxResponseBytes bounds a response body when the provider config
// sets no limit.
const DefaultMaxResponseBytes = 32 << 20

// maxMessage bounds the API error message copied into an error.
const maxMessage = 512

// ErrResponseTooLarge is the body read error once a response exceeds its limit.
var ErrResponseTooLarge = errors.New("response body too large")

// Detail is what an API said about an error in its error body or error
// event. Any field may be empty.
type Detail struct {
	Type    string // the API's error type (rate_limit_error, server_error, ...)
	Code    string // the API's error code, when it has one
	Message string // the API's human-readable message
}

// Call observes the single HTTP exchange of one provider call. Pass
// Middleware to the SDK as a per-request middleware, then hand the SDK's error
// to Error. A Call is used by one provider call (one goroutine) only.
type Call struct {
	limit  int64
	secret string

	mu      sync.Mutex
	resp    *http.Response // status and headers of the response, nil before one arrived
	doErr   error          // the transport error, when no response arrived
	readErr error          // the first body read error other than io.EOF
}

// NewCall returns a Call whose response body is limited to limit bytes
// (DefaultMaxResponseBytes when limit <= 0) and whose error messages never
// contain secret.
func NewCall(limit int64, secret string) *Call {
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	return &Call{limit: limit, secret: secret}
}

// Middleware records the response (or transport error) of the request and
// wraps the response body so that it is bounded and its read errors are kept.
// Its signature matches the option.Middleware of both SDKs.
func (c *Call) Middleware(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	resp, err := next(req)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.doErr = err
	if resp != nil {
		c.resp = resp
		if resp.Body != nil {
			resp.Body = &body{rc: resp.Body, left: c.limit, call: c}
		}
	}
	return resp, err
}

// Response returns the status code and headers of the response, or 0 and nil
// when none arrived.
func (c *Call) Response() (int, http.Header) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.resp == nil {
		return 0, nil
	}
	return c.resp.StatusCode, c.resp.Header
}

// IsEventStream reports whether the response is a text/event-stream.
func (c *Call) IsEventStream() bool {
	_, h := c.Response()
	if h == nil {
		return false
	}
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "text/event-stream"
}

func (c *Call) setReadErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readErr == nil {
		c.readErr = err
	}
}

// Error turns err, returned by the SDK for this call, into the error the
// provider returns. In order:
//   - ctx done: a deadline is a timeout *provider.Error; a cancellation is
//     returned wrapping context.Canceled (errtype.Of gives canceled);
//   - a failed body read: ErrResponseTooLarge is provider_error, anything
//     else network;
//   - no response (transport error): timeout for a timeout, else network;
//   - an HTTP error status: classified by Status, with Retry-After;
//   - a 2xx response whose error detail names an API error type (an error
//     event in a stream): classified by ForAPIType;
//   - any other failure on a 2xx response (malformed JSON, HTML, ...):
//     provider_error;
//   - no request sent at all (the SDK refused the request): invalid_request.
//
// d is the API's own description of the error, when the SDK parsed one.
func (c *Call) Error(ctx context.Context, err error, d Detail) error {
	if ctx.Err() != nil {
		return FromContext(ctx)
	}
	c.mu.Lock()
	resp, doErr, readErr := c.resp, c.doErr, c.readErr
	c.mu.Unlock()
	status := 0
	var header http.Header
	if resp != nil {
		status, header = resp.StatusCode, resp.Header
	}
	switch {
	case readErr != nil && errors.Is(readErr, ErrResponseTooLarge):
		return c.newError(errtype.ProviderError, status, 0, fmt.Sprintf("response body exceeds %d bytes", c.limit), readErr)
	case readErr != nil:
		return c.newError(transportType(readErr), status, 0, "reading response: "+readErr.Error(), readErr)
	case resp == nil && doErr != nil:
		return c.newError(transportType(doErr), 0, 0, "sending request: "+doErr.Error(), doErr)
	case status >= 400:
		// The SDK's API error is not kept as the cause: its text may quote
		// the request or the response body, the message has what matters.
		return c.newError(Status(status, d.Type), status, RetryAfter(header, time.Now()), apiMessage(status, header.Get("Content-Type"), d), nil)
	case resp != nil && d.Type != "":
		return c.newError(ForAPIType(d.Type), status, 0, apiMessage(0, "", d), nil)
	case resp != nil:
		return c.newError(errtype.ProviderError, status, 0, "unusable response: "+errText(err), err)
	default:
		return c.newError(errtype.InvalidRequest, 0, 0, "request not sent: "+errText(err), err)
	}
}

// Errorf returns a typed error for a problem the provider found itself in a
// response it received (for example a stream that ended early or a reply
// without choices), with the status of that response.
func (c *Call) Errorf(t errtype.Type, format string, args ...any) error {
	status, _ := c.Response()
	return c.newError(t, status, 0, fmt.Sprintf(format, args...), nil)
}

func (c *Call) newError(t errtype.Type, status int, retryAfter time.Duration, msg string, cause error) error {
	return &provider.Error{
		Type:       t,
		StatusCode: status,
		RetryAfter: retryAfter,
		Message:    Redact(msg, c.secret),
		Err:        cause,
	}
}

// FromContext returns the error for a call whose ctx is done: a timeout
// *provider.Error for an expired deadline, or an error wrapping
// context.Canceled for a cancellation. The cause, when set, is in the message.
func FromContext(ctx context.Context) error {
	err := ctx.Err()
	cause := context.Cause(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		msg := "deadline exceeded before the provider answered"
		if cause != nil && cause != err {
			msg += ": " + cause.Error()
		}
		return &provider.Error{Type: errtype.Timeout, Message: msg, Err: err}
	}
	if cause != nil && cause != err {
		return fmt.Errorf("provider request canceled (%v): %w", cause, err)
	}
	return fmt.Errorf("provider request canceled: %w", err)
}

// Status classifies an HTTP error status. apiType is consulted only for a
// status with no fixed meaning.
func Status(status int, apiType string) errtype.Type {
	switch {
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return errtype.Auth
	case status == http.StatusRequestTimeout:
		return errtype.Timeout
	case status == http.StatusTooManyRequests:
		return errtype.RateLimit
	case status >= 500: // includes 529 overloaded
		return errtype.ProviderError
	case status >= 400: // 400, 404, 409, 413, 422 and other client errors
		return errtype.InvalidRequest
	case apiType != "":
		return ForAPIType(apiType)
	}
	return errtype.ProviderError
}

// ForAPIType classifies an error by the error type an API gave in an error
// body or stream error event (OpenAI and Anthropic vocabularies). Unknown
// types are provider_error.
func ForAPIType(apiType string) errtype.Type {
	switch apiType {
	case "invalid_request_error", "not_found_error", "request_too_large", "billing_error":
		return errtype.InvalidRequest
	case "authentication_error", "permission_error":
		return errtype.Auth
	case "rate_limit_error", "rate_limit_exceeded", "requests", "tokens":
		return errtype.RateLimit
	case "timeout_error":
		return errtype.Timeout
	}
	return errtype.ProviderError // server_error, api_error, overloaded_error, ...
}

// RetryAfter reads retry-after-ms (milliseconds) or Retry-After (seconds or
// an HTTP date, relative to now). It returns 0 when neither is usable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < float64(time.Duration(1<<62)/time.Millisecond) {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 && s < float64(time.Duration(1<<62)/time.Second) {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Redact replaces every occurrence of secret in s.
func Redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}

// transportType classifies a transport or body read error: a timeout is
// timeout, everything else (refused, reset, EOF, DNS, TLS) is network.
func transportType(err error) errtype.Type {
	if errors.Is(err, context.DeadlineExceeded) {
		return errtype.Timeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errtype.Timeout
	}
	return errtype.Network
}

func apiMessage(status int, contentType string, d Detail) string {
	msg := strings.TrimSpace(d.Message)
	if len(msg) > maxMessage {
		msg = msg[:maxMessage] + "…"
	}
	if msg == "" {
		if status != 0 {
			msg = http.StatusText(status)
		}
		if msg == "" {
			msg = "error"
		}
		if status != 0 && d.Type == "" {
			if mt, _, _ := mime.ParseMediaType(contentType); mt != "" && mt != "application/json" {
				msg += " (" + mt + " body, not an API error)"
			} else {
				msg += " (no API error in the response body)"
			}
		}
	}
	if d.Type != "" {
		msg = d.Type + ": " + msg
	}
	return msg
}

func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	s := err.Error()
	if len(s) > maxMessage {
		s = s[:maxMessage] + "…"
	}
	return s
}

// body bounds a response body and records its first read error.
type body struct {
	rc   io.ReadCloser
	left int64
	call *Call
}

func (b *body) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe one byte: a body of exactly the limit is fine.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			b.call.setReadErr(ErrResponseTooLarge)
			return 0, ErrResponseTooLarge
		}
		if err != nil && err != io.EOF {
			b.call.setReadErr(err)
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		b.call.setReadErr(err)
	}
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }
