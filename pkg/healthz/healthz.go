package healthz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	health "github.com/hellofresh/health-go/v5"
	"golang.org/x/sync/singleflight"
)

// Provider is an LLM provider whose base URL the readiness check reaches.
type Provider struct {
	Name    string
	BaseURL string // "" (for example the simulated provider): not checked
}

// Options configures New.
type Options struct {
	// Name and Version identify the component in the JSON.
	Name, Version string
	// MaxHeapBytes is the heap-in-use threshold of the memory check. 0 means
	// the Go memory limit (GOMEMLIMIT / debug.SetMemoryLimit) when one is
	// set, and no memory check otherwise.
	MaxHeapBytes uint64
	// Providers are checked for reachability (SkipOnErr).
	Providers []Provider
	// OTLPEndpoint (host:port) is checked with a TCP dial when set (SkipOnErr).
	OTLPEndpoint string
	// CheckTimeout bounds every check. Default: 1 s.
	CheckTimeout time.Duration
	// CacheInterval is how long a readiness result is reused. Default: 1 s.
	CacheInterval time.Duration
	// HTTPClient reaches the providers. Default: a client without
	// keep-alives that does not follow redirects.
	HTTPClient *http.Client
	// HeapInUse reports the heap in use in bytes. Default: runtime/metrics
	// (heap objects plus unused bytes of in-use spans).
	HeapInUse func() uint64
}

// Health serves the liveness and readiness endpoints. It is safe for
// concurrent use.
type Health struct {
	live, ready *health.Health
	component   health.Component
	interval    time.Duration
	draining    atomic.Bool
	group       singleflight.Group

	mu       sync.Mutex
	cached   health.Check
	cachedAt time.Time
}

// graceTimeout is added to health-go's own per-check timer, so that a
// check, which returns at its own deadline, always wins the race: health-go
// leaks the check's goroutine when its timer fires first.
const graceTimeout = time.Second

// New builds the checks described by opts.
func New(opts Options) (*Health, error) {
	if opts.CheckTimeout <= 0 {
		opts.CheckTimeout = time.Second
	}
	if opts.CacheInterval <= 0 {
		opts.CacheInterval = time.Second
	}
	if opts.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableKeepAlives = true
		opts.HTTPClient = &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opts.HeapInUse == nil {
		opts.HeapInUse = heapInUse
	}
	limit := opts.MaxHeapBytes
	if limit == 0 {
		if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 && l > 0 {
			limit = uint64(l)
		}
	}

	var checks []health.Config
	add := func(name string, skipOnErr bool, f func(context.Context) error) {
		checks = append(checks, health.Config{
			Name:      name,
			Timeout:   opts.CheckTimeout + graceTimeout,
			SkipOnErr: skipOnErr,
			Check:     bounded(opts.CheckTimeout, f),
		})
	}
	if limit > 0 {
		add("memory", false, memoryCheck(limit, opts.HeapInUse))
	}
	for _, p := range opts.Providers {
		if p.BaseURL == "" {
			continue
		}
		f, err := providerCheck(opts.HTTPClient, p.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", p.Name, err)
		}
		add("provider:"+p.Name, true, f)
	}
	if opts.OTLPEndpoint != "" {
		add("otlp", true, dialCheck(opts.OTLPEndpoint))
	}

	component := health.Component{Name: opts.Name, Version: opts.Version}
	live, err := health.New(health.WithComponent(component))
	if err != nil {
		return nil, fmt.Errorf("liveness: %w", err)
	}
	ready, err := health.New(health.WithComponent(component), health.WithChecks(checks...),
		health.WithMaxConcurrent(max(len(checks), 1)))
	if err != nil {
		return nil, fmt.Errorf("readiness: %w", err)
	}
	return &Health{live: live, ready: ready, component: component, interval: opts.CacheInterval}, nil
}

// LiveHandler answers 200 with health-go JSON and no dependency checks, as
// long as the process serves.
func (h *Health) LiveHandler() http.Handler { return h.live.Handler() }

// ReadyHandler runs the readiness checks, at most once per CacheInterval
// however many probes arrive (concurrent probes share one measurement). It
// answers 503 when a check without SkipOnErr fails or once SetDraining was
// called, 200 otherwise ("Partially Available" when a SkipOnErr check
// fails).
func (h *Health) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c health.Check
		if h.draining.Load() {
			c = health.Check{Status: health.StatusUnavailable, Timestamp: time.Now(),
				Failures: map[string]string{"draining": "shutting down"}, Component: h.component}
		} else {
			c = h.measure(r.Context())
		}
		write(w, c)
	})
}

// SetDraining makes readiness unavailable at once, without running checks.
// It cannot be undone.
func (h *Health) SetDraining() { h.draining.Store(true) }

// measure returns the cached result or runs the checks once for all
// concurrent callers. The measurement does not inherit the caller's
// cancellation: other probes wait for it. It is bounded by the checks'
// timeouts.
func (h *Health) measure(ctx context.Context) health.Check {
	if c, ok := h.fresh(); ok {
		return c
	}
	v, _, _ := h.group.Do("ready", func() (any, error) {
		if c, ok := h.fresh(); ok { // measured while this caller was on its way
			return c, nil
		}
		c := h.ready.Measure(context.WithoutCancel(ctx))
		h.mu.Lock()
		h.cached, h.cachedAt = c, time.Now()
		h.mu.Unlock()
		return c, nil
	})
	return v.(health.Check)
}

// fresh returns the cached result if it is younger than the interval.
func (h *Health) fresh() (health.Check, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cached, !h.cachedAt.IsZero() && time.Since(h.cachedAt) < h.interval
}

func write(w http.ResponseWriter, c health.Check) {
	body, err := json.Marshal(c)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if c.Status == health.StatusUnavailable {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = w.Write(body)
}

// bounded gives f a deadline of timeout.
func bounded(timeout time.Duration, f func(context.Context) error) health.CheckFunc {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("check timed out after %s", timeout))
		defer cancel()
		err := f(ctx)
		if err != nil && ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}
}

func memoryCheck(limit uint64, inUse func() uint64) func(context.Context) error {
	return func(context.Context) error {
		if n := inUse(); n > limit {
			return fmt.Errorf("heap in use %d bytes is over the limit of %d bytes", n, limit)
		}
		return nil
	}
}

func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

// providerCheck sends HEAD to the base URL: any HTTP answer, whatever its
// status, means reachable. Messages name the host only (a URL's path or
// query might hold a key).
func providerCheck(c *http.Client, base string) (func(context.Context) error, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, errors.New("base URL must be an absolute http(s) URL")
	}
	host := u.Host
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, base, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", host, err)
		}
		resp, err := c.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return fmt.Errorf("%s unreachable: %w", host, err)
		}
		return resp.Body.Close()
	}, nil
}

func dialCheck(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("%s unreachable: %w", addr, err)
		}
		return conn.Close()
	}
}
