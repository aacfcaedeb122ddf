package server

import (
	"container/list"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
)

// Rejection reasons: the closed set of the reason attribute of
// orchestrator.run.rejections.
const (
	ReasonMaxInflight     = "max_inflight"     // 429: --max-inflight runs already executing (synchronous runs, or any run when queueing is off)
	ReasonQueueFull       = "queue_full"       // 429: an asynchronous run found --max-queued runs already waiting
	ReasonDraining        = "draining"         // 503: the server is shutting down
	ReasonMalformed       = "malformed"        // 400: the body is not the expected JSON
	ReasonTooLarge        = "too_large"        // 413: the body exceeds the limit
	ReasonInvalidWorkflow = "invalid_workflow" // 400: the workflow has problems
	ReasonInvalidInputs   = "invalid_inputs"   // 400: missing or undeclared inputs
)

var reasons = []string{ReasonMaxInflight, ReasonQueueFull, ReasonDraining, ReasonMalformed, ReasonTooLarge, ReasonInvalidWorkflow, ReasonInvalidInputs}

const meterName = "github.com/orchestrator-dev/orchestrator/pkg/server"

// Server is the HTTP API. Build it with New; see the package doc.
type Server struct {
	eng     *engine.Engine
	cfg     config
	log     *slog.Logger
	handler http.Handler

	workflows map[string]*engine.Plan
	names     []string
	plans     *lru[[sha256.Size]byte, *engine.Plan]
	history   *history

	rejections metric.Int64Counter
	reasonOpts map[string]metric.AddOption
	queue      QueueObserver

	// mu guards draining, inflight, waiting, reserved and the elem of every
	// waiter; wg counts admitted submissions (tickets) until released.
	mu       sync.Mutex
	draining bool
	inflight int       // run slots taken (<= maxInflight)
	waiting  list.List // of *waiter, oldest first
	reserved int       // queue places of async submissions still being decoded
	wg       sync.WaitGroup
	// stopCtx is cancelled when Wait's ctx ends: every run still in flight
	// is cancelled through it.
	stopCtx context.Context
	stop    context.CancelFunc
}

// New builds a Server that runs workflows on eng.
func New(eng *engine.Engine, opts ...Option) (*Server, error) {
	if eng == nil {
		return nil, errors.New("server: nil engine")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case cfg.maxInflight < 1:
		return nil, fmt.Errorf("server: max inflight must be >= 1, got %d", cfg.maxInflight)
	case cfg.historySize < 1:
		return nil, fmt.Errorf("server: history size must be >= 1, got %d", cfg.historySize)
	case cfg.planCacheSize < 1:
		return nil, fmt.Errorf("server: plan cache size must be >= 1, got %d", cfg.planCacheSize)
	case cfg.maxBodyBytes < 1:
		return nil, fmt.Errorf("server: max body bytes must be >= 1, got %d", cfg.maxBodyBytes)
	case cfg.retryAfter <= 0:
		return nil, fmt.Errorf("server: retry-after must be > 0, got %s", cfg.retryAfter)
	case cfg.maxQueued < 0:
		return nil, fmt.Errorf("server: max queued must be >= 0, got %d", cfg.maxQueued)
	}
	s := &Server{
		eng:       eng,
		cfg:       cfg,
		log:       cfg.logger,
		workflows: make(map[string]*engine.Plan, len(cfg.workflows)),
		plans:     newLRU[[sha256.Size]byte, *engine.Plan](cfg.planCacheSize),
		history:   newHistory(cfg.historySize),
		queue:     cfg.queue,
	}
	if s.queue == nil {
		s.queue = nopQueue{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	for _, p := range cfg.workflows {
		name := p.Workflow.Name
		if _, dup := s.workflows[name]; dup {
			return nil, fmt.Errorf("server: workflow %q preloaded twice", name)
		}
		s.workflows[name] = p
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)

	mp := cfg.meterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	var err error
	s.rejections, err = mp.Meter(meterName).Int64Counter("orchestrator.run.rejections",
		metric.WithUnit("{rejection}"),
		metric.WithDescription("Run submissions rejected before executing, by reason (max_inflight, queue_full, draining, malformed, too_large, invalid_workflow, invalid_inputs)."))
	if err != nil {
		return nil, fmt.Errorf("server: create rejection counter: %w", err)
	}
	s.reasonOpts = make(map[string]metric.AddOption, len(reasons))
	for _, r := range reasons {
		s.reasonOpts[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", r)))
		// Every reason's series exists from the start, at 0: rate() then
		// sees the first rejection, and dashboards show 0 rather than no data.
		s.rejections.Add(context.Background(), 0, s.reasonOpts[r])
	}
	s.stopCtx, s.stop = context.WithCancel(context.Background())

	mux := http.NewServeMux()
	api := s.auth(true)
	ops := s.auth(cfg.protectOps)
	mux.Handle("POST /v1/runs", api(http.HandlerFunc(s.postRun)))
	mux.Handle("GET /v1/runs/{id}", api(http.HandlerFunc(s.getRun)))
	mux.Handle("GET /v1/workflows", api(http.HandlerFunc(s.listWorkflows)))
	mux.Handle("POST /v1/workflows/{name}/runs", api(http.HandlerFunc(s.postWorkflowRun)))
	if cfg.metrics != nil {
		mux.Handle("GET /metrics", ops(cfg.metrics))
	}
	if cfg.live != nil {
		mux.Handle("GET /health/live", ops(cfg.live))
	}
	if cfg.ready != nil {
		mux.Handle("GET /health/ready", ops(cfg.ready))
	}
	s.handler = otelhttp.NewHandler(mux, "orchestrator",
		otelhttp.WithMeterProvider(mp),
		otelhttp.WithTracerProvider(cfg.tracerProvider),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if r.Pattern != "" {
				return r.Pattern
			}
			return r.Method
		}),
	)
	return s, nil
}

// Handler returns the HTTP handler serving every route.
func (s *Server) Handler() http.Handler { return s.handler }

// Drain makes every new run submission answer 503. Runs already admitted
// continue. Safe to call more than once.
func (s *Server) Drain() {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
}

// Wait drains (see Drain) and waits for every admitted run to return,
// queued ones included: they keep getting run slots as runs end. When ctx
// ends first, it cancels the runs still executing or waiting (they end as
// failures of type canceled, counted like any run), waits for them to
// return, and reports how many it cancelled. Safe to call more than once.
func (s *Server) Wait(ctx context.Context) error {
	s.Drain()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	n := s.inflight + s.waiting.Len()
	s.mu.Unlock()
	s.stop()
	<-done
	if n == 0 {
		return nil
	}
	return fmt.Errorf("cancelled %d in-flight runs: %w", n, context.Cause(ctx))
}

// runContext derives a run's context from parent: it is also cancelled when
// Wait gives up waiting.
func (s *Server) runContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	stop := context.AfterFunc(s.stopCtx, func() { cancel(errShutdownDeadline) })
	return ctx, func() {
		stop()
		cancel(nil)
	}
}

var errShutdownDeadline = errors.New("shutdown timeout reached")

// reject counts a rejected submission and writes its error answer.
func (s *Server) reject(w http.ResponseWriter, r *http.Request, reason string, code int, msg string) {
	s.rejections.Add(r.Context(), 1, s.reasonOpts[reason])
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		secs := int64((s.cfg.retryAfter + 999_999_999) / 1_000_000_000)
		w.Header().Set("Retry-After", fmt.Sprint(secs))
	}
	writeError(w, code, msg)
}

func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

type errorBody struct {
	Error    string `json:"error"`
	Problems any    `json:"problems,omitempty"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client may be gone; nothing useful to do
}
