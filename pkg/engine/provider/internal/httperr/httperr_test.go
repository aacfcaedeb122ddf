package httperr_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/internal/httperr"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStatus(t *testing.T) {
	tests := []struct {
		status  int
		apiType string
		want    errtype.Type
	}{
		{401, "", errtype.Auth}, {403, "", errtype.Auth},
		{400, "", errtype.InvalidRequest}, {404, "", errtype.InvalidRequest}, {409, "", errtype.InvalidRequest},
		{413, "", errtype.InvalidRequest}, {422, "", errtype.InvalidRequest},
		{408, "", errtype.Timeout}, {429, "", errtype.RateLimit},
		{500, "", errtype.ProviderError}, {502, "", errtype.ProviderError}, {503, "", errtype.ProviderError},
		{529, "", errtype.ProviderError},
		// The status wins over the API's type.
		{401, "invalid_request_error", errtype.Auth}, {500, "rate_limit_error", errtype.ProviderError},
	}
	for _, tc := range tests {
		if got := httperr.Status(tc.status, tc.apiType); got != tc.want {
			t.Errorf("Status(%d, %q) = %q, want %q", tc.status, tc.apiType, got, tc.want)
		}
	}
}

func TestForAPIType(t *testing.T) {
	tests := map[string]errtype.Type{
		"invalid_request_error": errtype.InvalidRequest, "not_found_error": errtype.InvalidRequest,
		"request_too_large": errtype.InvalidRequest, "authentication_error": errtype.Auth,
		"permission_error": errtype.Auth, "rate_limit_error": errtype.RateLimit, "rate_limit_exceeded": errtype.RateLimit,
		"timeout_error": errtype.Timeout, "overloaded_error": errtype.ProviderError, "api_error": errtype.ProviderError,
		"server_error": errtype.ProviderError, "something_new": errtype.ProviderError,
	}
	for in, want := range tests {
		if got := httperr.ForAPIType(in); got != want {
			t.Errorf("ForAPIType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"none", nil, 0},
		{"seconds", map[string]string{"Retry-After": "3"}, 3 * time.Second},
		{"fractional seconds", map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		{"http date", map[string]string{"Retry-After": now.Add(7 * time.Second).Format(http.TimeFormat)}, 7 * time.Second},
		{"past date", map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{"milliseconds win", map[string]string{"Retry-After": "3", "Retry-After-Ms": "250"}, 250 * time.Millisecond},
		{"bad milliseconds fall back", map[string]string{"Retry-After": "3", "Retry-After-Ms": "soon"}, 3 * time.Second},
		{"negative", map[string]string{"Retry-After": "-1"}, 0},
		{"garbage", map[string]string{"Retry-After": "later"}, 0},
		{"huge", map[string]string{"Retry-After": "1e300"}, 0},
	}
	for _, tc := range tests {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		if got := httperr.RetryAfter(h, now); got != tc.want {
			t.Errorf("%s: RetryAfter = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFromContext(t *testing.T) {
	ctx, cancel := context.WithTimeoutCause(t.Context(), 0, errors.New("step timeout 30s"))
	defer cancel()
	<-ctx.Done()
	err := httperr.FromContext(ctx)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Type != errtype.Timeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %#v", err)
	}
	if !strings.Contains(err.Error(), "step timeout 30s") {
		t.Errorf("deadline error %q lacks the cause", err)
	}

	ctx, cancelCause := context.WithCancelCause(t.Context())
	cancelCause(errors.New("shutdown"))
	err = httperr.FromContext(ctx)
	if errtype.Of(err) != errtype.Canceled || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "shutdown") {
		t.Errorf("canceled: %v (type %s)", err, errtype.Of(err))
	}
}

// roundTrip runs the Call's middleware over a canned response and reads the
// body fully.
func roundTrip(c *httperr.Call, body string) error {
	resp, err := c.Middleware(&http.Request{}, func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}, nil
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err
}

func TestBodyLimit(t *testing.T) {
	if err := roundTrip(httperr.NewCall(5, ""), "12345"); err != nil {
		t.Errorf("body of exactly the limit: %v", err)
	}
	c := httperr.NewCall(5, "")
	err := roundTrip(c, "123456")
	if !errors.Is(err, httperr.ErrResponseTooLarge) {
		t.Fatalf("read error = %v, want ErrResponseTooLarge", err)
	}
	got := c.Error(t.Context(), err, httperr.Detail{})
	var pe *provider.Error
	if !errors.As(got, &pe) || pe.Type != errtype.ProviderError || pe.StatusCode != 200 || pe.Message != "response body exceeds 5 bytes" {
		t.Errorf("Error = %#v", got)
	}
}

func TestErrorWithoutRequest(t *testing.T) {
	c := httperr.NewCall(0, "sk-secret")
	err := c.Error(t.Context(), errors.New("streaming is required for sk-secret"), httperr.Detail{})
	if errtype.Of(err) != errtype.InvalidRequest || strings.Contains(err.Error(), "sk-secret") {
		t.Errorf("Error = %v", err)
	}
}

func TestInStreamAPIError(t *testing.T) {
	c := httperr.NewCall(0, "")
	_ = roundTrip(c, "")
	err := c.Error(t.Context(), errors.New("event"), httperr.Detail{Type: "overloaded_error", Message: "Overloaded"})
	if want := "provider_error (http 200): overloaded_error: Overloaded"; err.Error() != want {
		t.Errorf("Error = %q, want %q", err, want)
	}
}
