package healthz_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	health "github.com/hellofresh/health-go/v5"
	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/healthz"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// get serves one request to h and decodes the health-go JSON.
func get(t *testing.T, h http.Handler) (int, health.Check) {
	t.Helper()
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/health", nil))
	var c health.Check
	if err := json.Unmarshal(rr.Body.Bytes(), &c); err != nil {
		t.Fatalf("body %q: %v", rr.Body.String(), err)
	}
	return rr.Code, c
}

func newHealth(t *testing.T, opts healthz.Options) *healthz.Health {
	t.Helper()
	if opts.Name == "" {
		opts.Name, opts.Version = "orchestrator", "1.2.3"
	}
	h, err := healthz.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestComponentInJSON(t *testing.T) {
	h := newHealth(t, healthz.Options{})
	for name, handler := range map[string]http.Handler{"live": h.LiveHandler(), "ready": h.ReadyHandler()} {
		code, c := get(t, handler)
		if code != http.StatusOK || c.Status != health.StatusOK {
			t.Errorf("%s: %d %q, want 200 OK", name, code, c.Status)
		}
		if c.Component.Name != "orchestrator" || c.Component.Version != "1.2.3" {
			t.Errorf("%s: component = %+v", name, c.Component)
		}
	}
}

func TestMemoryThreshold(t *testing.T) {
	const inUse = 200 << 20
	tests := []struct {
		name     string
		max      uint64
		memLimit int64 // debug.SetMemoryLimit during the test; 0 leaves it
		code     int
		status   health.Status
	}{
		{"under --max-heap", 300 << 20, 0, http.StatusOK, health.StatusOK},
		{"over --max-heap", 100 << 20, 0, http.StatusServiceUnavailable, health.StatusUnavailable},
		{"over GOMEMLIMIT", 0, 100 << 20, http.StatusServiceUnavailable, health.StatusUnavailable},
		{"under GOMEMLIMIT", 0, 1 << 30, http.StatusOK, health.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.memLimit != 0 {
				old := debug.SetMemoryLimit(tt.memLimit)
				t.Cleanup(func() { debug.SetMemoryLimit(old) })
			}
			h := newHealth(t, healthz.Options{MaxHeapBytes: tt.max, HeapInUse: func() uint64 { return inUse }})
			if tt.memLimit != 0 {
				debug.SetMemoryLimit(-1) // New has read it; do not let the real heap feel the low limit
			}
			code, c := get(t, h.LiveHandler())
			if code != http.StatusOK {
				t.Errorf("live = %d while memory is %s", code, tt.status)
			}
			code, c = get(t, h.ReadyHandler())
			if code != tt.code || c.Status != tt.status {
				t.Errorf("ready = %d %q, want %d %q (failures %v)", code, c.Status, tt.code, tt.status, c.Failures)
			}
			if tt.status == health.StatusUnavailable && !strings.Contains(c.Failures["memory"], "over the limit") {
				t.Errorf("memory failure = %q", c.Failures["memory"])
			}
		})
	}
}

// TestDependencies: provider and OTLP outages make readiness "Partially
// Available" (200), not unavailable; any HTTP answer means reachable.
func TestDependencies(t *testing.T) {
	up := httptest.NewServer(http.NotFoundHandler())
	defer up.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	otlpUp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer otlpUp.Close()
	otlpDown, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	otlpDown.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	tests := []struct {
		name     string
		opts     healthz.Options
		status   health.Status
		failures []string
	}{
		{"all reachable", healthz.Options{
			Providers:    []healthz.Provider{{Name: "openai", BaseURL: up.URL + "/v1?key=secret"}, {Name: "simulated"}},
			OTLPEndpoint: otlpUp.Addr().String(),
		}, health.StatusOK, nil},
		{"provider down", healthz.Options{
			Providers: []healthz.Provider{{Name: "openai", BaseURL: up.URL}, {Name: "ollama", BaseURL: down.URL + "/v1?key=secret"}},
		}, health.StatusPartiallyAvailable, []string{"provider:ollama"}},
		{"otlp down", healthz.Options{OTLPEndpoint: otlpDown.Addr().String()}, health.StatusPartiallyAvailable, []string{"otlp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.HTTPClient = client
			code, c := get(t, newHealth(t, tt.opts).ReadyHandler())
			if code != http.StatusOK || c.Status != tt.status {
				t.Errorf("ready = %d %q, want 200 %q (failures %v)", code, c.Status, tt.status, c.Failures)
			}
			if len(c.Failures) != len(tt.failures) {
				t.Errorf("failures = %v, want %v", c.Failures, tt.failures)
			}
			for _, f := range tt.failures {
				msg, ok := c.Failures[f]
				if !ok || !strings.Contains(msg, "unreachable") {
					t.Errorf("failure %s = %q", f, msg)
				}
				if strings.Contains(msg, "secret") {
					t.Errorf("failure %s leaks the URL query: %q", f, msg)
				}
			}
		})
	}
}

// TestSlowCheckDeadline: a provider that never answers fails its check at
// the check's deadline; no goroutine outlives the probe (goleak in
// TestMain).
func TestSlowCheckDeadline(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	h := newHealth(t, healthz.Options{
		Providers:    []healthz.Provider{{Name: "slow", BaseURL: slow.URL}},
		CheckTimeout: 50 * time.Millisecond,
		HTTPClient:   client,
	})
	code, c := get(t, h.ReadyHandler())
	if code != http.StatusOK || c.Status != health.StatusPartiallyAvailable {
		t.Errorf("ready = %d %q, want 200 %q", code, c.Status, health.StatusPartiallyAvailable)
	}
	if got := c.Failures["provider:slow"]; got != "check timed out after 50ms" {
		t.Errorf("failure = %q, want the check's own deadline", got)
	}
}

// TestProbesShareOneMeasurement: 100 concurrent probes run the checks once,
// and the result is reused until CacheInterval has passed.
func TestProbesShareOneMeasurement(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int32
		gate := make(chan struct{})
		h := newHealth(t, healthz.Options{
			MaxHeapBytes:  1 << 30,
			CacheInterval: time.Second,
			HeapInUse: func() uint64 {
				runs.Add(1)
				<-gate
				return 1
			},
		})
		var wg sync.WaitGroup
		codes := make([]int, 100)
		for i := range codes {
			wg.Go(func() {
				rr := httptest.NewRecorder()
				h.ReadyHandler().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/health/ready", nil))
				codes[i] = rr.Code
			})
		}
		synctest.Wait() // every probe is blocked: one in the check, 99 waiting for it
		if n := runs.Load(); n != 1 {
			t.Fatalf("checks ran %d times while 100 probes were in flight, want 1", n)
		}
		close(gate)
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusOK {
				t.Fatalf("probe %d: %d", i, c)
			}
		}
		get(t, h.ReadyHandler())
		if n := runs.Load(); n != 1 {
			t.Errorf("checks ran %d times within the cache interval, want 1", n)
		}
		time.Sleep(time.Second)
		get(t, h.ReadyHandler())
		if n := runs.Load(); n != 2 {
			t.Errorf("checks ran %d times after the cache interval, want 2", n)
		}
	})
}

// TestDraining: readiness answers 503 at once without running checks;
// liveness stays OK.
func TestDraining(t *testing.T) {
	var runs atomic.Int32
	h := newHealth(t, healthz.Options{MaxHeapBytes: 1 << 30, CacheInterval: time.Nanosecond,
		HeapInUse: func() uint64 { runs.Add(1); return 1 }})
	if code, _ := get(t, h.ReadyHandler()); code != http.StatusOK {
		t.Fatalf("ready before draining = %d", code)
	}
	h.SetDraining()
	code, c := get(t, h.ReadyHandler())
	if code != http.StatusServiceUnavailable || c.Status != health.StatusUnavailable || c.Failures["draining"] == "" {
		t.Errorf("ready while draining = %d %q %v", code, c.Status, c.Failures)
	}
	if c.Component.Name != "orchestrator" {
		t.Errorf("component = %+v", c.Component)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("checks ran %d times, want 1 (none while draining)", n)
	}
	if code, _ := get(t, h.LiveHandler()); code != http.StatusOK {
		t.Errorf("live while draining = %d", code)
	}
}

func TestBadProviderURL(t *testing.T) {
	_, err := healthz.New(healthz.Options{Providers: []healthz.Provider{{Name: "x", BaseURL: "localhost:11434"}}})
	if err == nil || !strings.Contains(err.Error(), `provider "x"`) {
		t.Fatalf("err = %v", err)
	}
}
