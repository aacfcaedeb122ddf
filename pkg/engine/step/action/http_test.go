package action_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/action"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/steptest"
)

// seen is what the test server received.
type seen struct {
	method, path, body string
	header             http.Header
}

func newServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, chan seen) {
	t.Helper()
	got := make(chan seen, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.RequestURI(), string(body), r.Header.Clone()}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func buildHTTP(t *testing.T, client *http.Client, src string) step.Executor {
	t.Helper()
	b := steptest.NewBuilder(nil)
	b.Settings.AllowHTTPHosts = []string{"127.0.0.1"}
	b.Settings.HTTPClient = client
	e := b.Build(t, action.Spec(), "id: hook\naction: http\n"+src)
	if e == nil {
		t.Fatal(b.Problems)
	}
	return e
}

func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func TestHTTP(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		handler  http.HandlerFunc
		wantSeen seen
		wantCT   string
		status   int
		body     any
	}{
		{
			name: "json in and out",
			src:  "url: '{{ base }}/hooks/{{ steps.c.text }}?x=1'\nheaders: {X-Token: 'tok-{{ id }}'}\nbody: '{\"id\": {{ id }}}'",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Request-Id", "r1")
				w.Write([]byte(`{"ok": true, "n": [1, 2]}`))
			},
			wantSeen: seen{method: "POST", path: "/hooks/bug?x=1", body: `{"id": 7}`},
			wantCT:   "application/json",
			status:   200,
			body:     map[string]any{"ok": true, "n": []any{1.0, 2.0}},
		},
		{
			name:     "text body, GET, expected status",
			src:      "method: get\nurl: '{{ base }}/status'\nexpect_status: [202]",
			handler:  func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(202); w.Write([]byte("queued")) },
			wantSeen: seen{method: "GET", path: "/status"},
			status:   202,
			body:     "queued",
		},
		{
			name:     "plain text request body",
			src:      "url: '{{ base }}/t'\nbody: 'hello {{ id }}'",
			handler:  func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) },
			wantSeen: seen{method: "POST", path: "/t", body: "hello 7"},
			wantCT:   "text/plain; charset=utf-8",
			status:   204,
			body:     "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := newServer(t, tt.handler)
			e := buildHTTP(t, srv.Client(), tt.src)
			rt := steptest.NewRuntime(map[string]any{"base": srv.URL, "id": 7}, map[string]any{"c": map[string]any{"text": "bug"}})
			res, err := e.Execute(context.Background(), rt)
			if err != nil {
				t.Fatal(err)
			}
			s := <-got
			if s.method != tt.wantSeen.method || s.path != tt.wantSeen.path || s.body != tt.wantSeen.body {
				t.Errorf("server saw %s %s %q, want %s %s %q", s.method, s.path, s.body, tt.wantSeen.method, tt.wantSeen.path, tt.wantSeen.body)
			}
			if ct := s.header.Get("Content-Type"); ct != tt.wantCT {
				t.Errorf("content type %q, want %q", ct, tt.wantCT)
			}
			if res.Object["status"] != tt.status || !reflect.DeepEqual(res.Object["body"], tt.body) {
				t.Errorf("object %v", res.Object)
			}
			if !reflect.DeepEqual(res.Values, []any{res.Object["body"], res.Object["status"], res.Object["headers"]}) {
				t.Errorf("values %v", res.Values)
			}
		})
	}
}

func TestHTTPHeaders(t *testing.T) {
	srv, got := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
	})
	e := buildHTTP(t, srv.Client(), "url: '{{ base }}'\nheaders: {Authorization: 'Bearer {{ token }}'}")
	res, err := e.Execute(context.Background(), steptest.NewRuntime(map[string]any{"base": srv.URL, "token": "t0k"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if s := <-got; s.header.Get("Authorization") != "Bearer t0k" {
		t.Errorf("authorization %q", s.header.Get("Authorization"))
	}
	if h := res.Object["headers"].(map[string]any); h["x-multi"] != "a, b" {
		t.Errorf("headers %v", h)
	}
}

func TestHTTPStatusErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     string
		expect     string
		want       errtype.Type
		retryAfter time.Duration
	}{
		{"500 is retried", 500, "", "", errtype.ProviderError, 0},
		{"503", 503, "", "", errtype.ProviderError, 0},
		{"429 with retry-after", 429, "3", "", errtype.RateLimit, 3 * time.Second},
		{"429 without", 429, "", "", errtype.RateLimit, 0},
		{"404 is not retried", 404, "", "", errtype.InvalidRequest, 0},
		{"401", 401, "", "", errtype.Auth, 0},
		{"200 when 201 is expected", 200, "", "\nexpect_status: [201]", errtype.InvalidRequest, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.header != "" {
					w.Header().Set("Retry-After", tt.header)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte("nope"))
			})
			e := buildHTTP(t, srv.Client(), "url: '{{ base }}/h?secret=s3'"+tt.expect)
			_, err := e.Execute(context.Background(), steptest.NewRuntime(map[string]any{"base": srv.URL}, nil))
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Type != tt.want || pe.StatusCode != tt.status || pe.RetryAfter != tt.retryAfter {
				t.Fatalf("got %#v", err)
			}
			if tt.want.Retryable() != (tt.status >= 500 || tt.status == 429) {
				t.Errorf("retryable mismatch for %d", tt.status)
			}
			msg := err.Error()
			if !strings.Contains(msg, "POST "+srv.URL+"/h: unexpected status") || !strings.Contains(msg, `"nope"`) || strings.Contains(msg, "s3") {
				t.Errorf("message %q", msg)
			}
		})
	}
}

func TestHTTPResponseTooLarge(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, action.MaxResponseBytes+1))
	})
	e := buildHTTP(t, srv.Client(), "url: '{{ base }}'")
	_, err := e.Execute(context.Background(), steptest.NewRuntime(map[string]any{"base": srv.URL}, nil))
	if errtype.Of(err) != errtype.Validation || !strings.Contains(err.Error(), "over the limit of 1048576 bytes") {
		t.Errorf("got %v", err)
	}
}

func TestHTTPRunTimeAllowlist(t *testing.T) {
	srv, got := newServer(t, func(w http.ResponseWriter, r *http.Request) {})
	e := buildHTTP(t, srv.Client(), "url: '{{ target }}'\nheaders: {X-A: '{{ h }}'}")
	tests := []struct {
		name, target, header, want string
	}{
		{"host off the allowlist", "http://localhost:1/x", "", `url host "localhost" is not in the allowlist (--allow-http-host)`},
		{"scheme", "ftp://127.0.0.1/x", "", `url "ftp://127.0.0.1/x": the scheme must be http or https`},
		{"bad header value", srv.URL, "a\nb", `header "X-A": the rendered value is not a valid header value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Execute(context.Background(), steptest.NewRuntime(map[string]any{"target": tt.target, "h": tt.header}, nil))
			if errtype.Of(err) != errtype.Validation || err.Error() != tt.want {
				t.Errorf("got %v (%s), want %s", err, errtype.Of(err), tt.want)
			}
		})
	}
	if len(got) != 0 {
		t.Errorf("%d requests were sent", len(got))
	}
}

func TestHTTPRedirects(t *testing.T) {
	final, finalSeen := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("landed")) })
	// localhost resolves to loopback but is not on the allowlist.
	offList := strings.Replace(final.URL, "127.0.0.1", "localhost", 1)
	redirector, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, map[string]string{"/ok": final.URL + "/done", "/off": offList + "/done"}[r.URL.Path], http.StatusFound)
	})
	tests := []struct {
		path    string
		wantErr string
	}{
		{"/ok", ""},
		{"/off", `redirect to host "localhost" refused: it is not in the allowlist (--allow-http-host)`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			e := buildHTTP(t, newClient(t), "method: GET\nurl: '{{ base }}"+tt.path+"'")
			res, err := e.Execute(context.Background(), steptest.NewRuntime(map[string]any{"base": redirector.URL}, nil))
			if tt.wantErr == "" {
				if err != nil || res.Object["body"] != "landed" {
					t.Fatalf("got %v, %v", res.Object, err)
				}
				<-finalSeen
				return
			}
			if errtype.Of(err) != errtype.Validation || !strings.HasSuffix(err.Error(), tt.wantErr) {
				t.Errorf("got %v (%s)", err, errtype.Of(err))
			}
		})
	}
	if len(finalSeen) != 0 {
		t.Error("the refused redirect reached its target")
	}
}

func TestHTTPTransportErrors(t *testing.T) {
	// A closed port: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	block := make(chan struct{})
	slow, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-block:
		}
	})
	t.Cleanup(func() { close(block) })

	tests := []struct {
		name string
		base string
		ctx  func() (context.Context, context.CancelFunc)
		want errtype.Type
	}{
		{"refused", closed, func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, errtype.Network},
		{"deadline", slow.URL, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, errtype.Timeout},
		{"cancelled", slow.URL, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, errtype.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := buildHTTP(t, newClient(t), "url: '{{ base }}/x'")
			ctx, cancel := tt.ctx()
			defer cancel()
			_, err := e.Execute(ctx, steptest.NewRuntime(map[string]any{"base": tt.base}, nil))
			if errtype.Of(err) != tt.want {
				t.Errorf("got %v (%s), want %s", err, errtype.Of(err), tt.want)
			}
		})
	}
}
