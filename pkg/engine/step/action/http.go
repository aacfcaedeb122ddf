package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/internal/stepkit"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// MaxResponseBytes bounds the response body action http reads.
const MaxResponseBytes = 1 << 20

// maxRedirects is net/http's default redirect limit, kept when we install
// our own CheckRedirect.
const maxRedirects = 10

var methods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

type httpAction struct {
	client   *http.Client
	allow    []string
	method   string
	url      *tmpl.Template
	headers  map[string]*tmpl.Template
	body     *tmpl.Template // nil: no body
	expect   []int          // empty: any 2xx
	maxBytes int
}

func compileHTTP(b *stepkit.Builder, c *Config, s *workflow.Step) step.Executor {
	env := b.Env()
	e := &httpAction{allow: env.AllowHTTPHosts, method: http.MethodPost, expect: c.ExpectStatus, maxBytes: env.MaxTemplateBytes}
	if len(e.allow) == 0 {
		b.Errorf("action", "action http is disabled: start with --allow-http-host")
	}
	if stepkit.Has(s, "method") {
		e.method = strings.ToUpper(c.Method)
		if !slices.Contains(methods, e.method) {
			b.Errorf("method", "%s", stepkit.Unknown("method", c.Method, methods))
		}
	}
	e.url = b.Template("url", c.URL)
	if !stepkit.Has(s, "url") {
		b.Errorf("action", "action http needs key %q", "url")
	} else if e.url != nil && len(e.url.Refs()) == 0 && len(e.allow) > 0 {
		if raw, err := e.url.Render(map[string]any{}); err == nil {
			if _, err := e.checkURL(raw); err != nil {
				b.Errorf("url", "%v", err)
			}
		}
	}
	for name := range c.Headers {
		if !httpguts.ValidHeaderFieldName(name) {
			b.Errorf("headers", "%q is not a valid header name", name)
		}
	}
	e.headers = b.TemplateMap("headers", c.Headers)
	if stepkit.Has(s, "body") {
		e.body = b.Template("body", c.Body)
	}
	for _, code := range c.ExpectStatus {
		if code < 100 || code > 599 {
			b.Errorf("expect_status", "expect_status %d is not an HTTP status (100..599)", code)
		}
	}
	e.client = e.newClient(env.HTTPClient)
	return e
}

// newClient copies base with a CheckRedirect that refuses hosts off the
// allowlist, then applies base's own policy (or the 10-redirect limit).
func (e *httpAction) newClient(base *http.Client) *http.Client {
	c := *base
	next := base.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !e.allowed(req.URL) {
			return errtype.New(errtype.Validation, fmt.Errorf("redirect to host %q refused: it is not in the allowlist (--allow-http-host)", req.URL.Hostname()))
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return errtype.New(errtype.InvalidRequest, fmt.Errorf("stopped after %d redirects", maxRedirects))
		}
		return nil
	}
	return &c
}

func (e *httpAction) allowed(u *url.URL) bool {
	host, hostPort := strings.ToLower(u.Hostname()), strings.ToLower(u.Host)
	for _, a := range e.allow {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == hostPort || strings.Trim(a, "[]") == host {
			return true
		}
	}
	return false
}

// checkURL parses raw and checks its scheme and host.
func (e *httpAction) checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url %q: the scheme must be http or https", redact(u))
	}
	if !e.allowed(u) {
		return nil, fmt.Errorf("url host %q is not in the allowlist (--allow-http-host)", u.Hostname())
	}
	return u, nil
}

// redact returns scheme://host/path, without credentials or query.
func redact(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// Execute renders the request, checks the host again and sends it once.
func (e *httpAction) Execute(ctx context.Context, rt step.Runtime) (step.Result, error) {
	data := rt.Data()
	raw, err := stepkit.Render(e.url, data, e.maxBytes, "url")
	if err != nil {
		return step.Result{}, err
	}
	u, err := e.checkURL(strings.TrimSpace(raw))
	if err != nil {
		return step.Result{}, errtype.New(errtype.Validation, err)
	}
	var body io.Reader
	var bodyText string
	if e.body != nil {
		if bodyText, err = stepkit.Render(e.body, data, e.maxBytes, "body"); err != nil {
			return step.Result{}, err
		}
		body = strings.NewReader(bodyText)
	}
	req, err := http.NewRequestWithContext(ctx, e.method, u.String(), body)
	if err != nil {
		return step.Result{}, errtype.New(errtype.Validation, fmt.Errorf("build request: %w", err))
	}
	for _, name := range slices.Sorted(maps.Keys(e.headers)) {
		v, err := stepkit.Render(e.headers[name], data, e.maxBytes, "headers."+name)
		if err != nil {
			return step.Result{}, err
		}
		if !httpguts.ValidHeaderFieldValue(v) {
			return step.Result{}, errtype.New(errtype.Validation, fmt.Errorf("header %q: the rendered value is not a valid header value", name))
		}
		req.Header.Set(name, v)
	}
	if e.body != nil && req.Header.Get("Content-Type") == "" {
		if json.Valid([]byte(bodyText)) {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		}
	}
	where := e.method + " " + redact(u)
	resp, err := e.client.Do(req)
	if err != nil {
		return step.Result{}, classify(ctx, where, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return step.Result{}, classify(ctx, where, fmt.Errorf("read response: %w", err))
	}
	if len(respBody) > MaxResponseBytes {
		return step.Result{}, errtype.New(errtype.Validation, fmt.Errorf("%s: the response body is over the limit of %d bytes", where, MaxResponseBytes))
	}
	if !e.expected(resp.StatusCode) {
		return step.Result{}, statusError(where, resp, respBody, e.expect)
	}
	headers := make(map[string]any, len(resp.Header))
	for k, v := range resp.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	var out any = string(respBody)
	if json.Valid(respBody) {
		_ = json.Unmarshal(respBody, &out) // cannot fail: the body is valid JSON
	}
	return step.Result{
		Object: map[string]any{"status": resp.StatusCode, "body": out, "headers": headers},
		Values: []any{out, resp.StatusCode, headers},
	}, nil
}

func (e *httpAction) expected(code int) bool {
	if len(e.expect) == 0 {
		return code >= 200 && code < 300
	}
	return slices.Contains(e.expect, code)
}

// classify types a transport error: a refused redirect keeps its type, the
// end of ctx is a timeout or cancellation, a client timeout is a timeout,
// anything else a network error.
func classify(ctx context.Context, where string, err error) error {
	var typed errtype.Typed
	var ue *url.Error
	switch {
	case errors.As(err, &typed):
		return fmt.Errorf("%s: %w", where, typed)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", where, context.Cause(ctx))
	case errors.As(err, &ue) && ue.Timeout():
		return &provider.Error{Type: errtype.Timeout, Message: where + ": timed out", Err: ue.Err}
	}
	if errors.As(err, &ue) {
		err = ue.Err // its message repeats the full url
	}
	return &provider.Error{Type: errtype.Network, Message: fmt.Sprintf("%s: %v", where, err), Err: err}
}

// statusError types an unexpected status: 429 rate_limit (with
// Retry-After), 5xx provider_error, 401/403 auth, anything else
// invalid_request.
func statusError(where string, resp *http.Response, body []byte, expect []int) error {
	want := "2xx"
	if len(expect) > 0 {
		want = fmt.Sprint(expect)
	}
	excerpt := string(body[:min(len(body), 200)])
	pe := &provider.Error{
		Type:       errtype.InvalidRequest,
		StatusCode: resp.StatusCode,
		Message:    fmt.Sprintf("%s: unexpected status %d (want %s): %q", where, resp.StatusCode, want, excerpt),
	}
	switch c := resp.StatusCode; {
	case c == http.StatusTooManyRequests:
		pe.Type = errtype.RateLimit
		pe.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	case c >= 500:
		pe.Type = errtype.ProviderError
	case c == http.StatusUnauthorized || c == http.StatusForbidden:
		pe.Type = errtype.Auth
	}
	return pe
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
