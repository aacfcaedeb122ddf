package app

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/server"
)

// Options configures Run. Start from DefaultOptions.
type Options struct {
	// Addr is the listen address (host:port; port 0 picks a free one).
	Addr string
	// WorkflowsDir, when set, preloads every *.yaml, *.yml and *.json file
	// in it (not recursively). Any invalid file aborts start-up.
	WorkflowsDir string
	// ProvidersFile adds or overrides named providers.
	ProvidersFile string
	// PricesFile overrides and extends the embedded price table (USD per
	// million tokens) behind run costs and the cost metrics.
	PricesFile string
	// ShutdownTimeout bounds the drain of in-flight runs after ctx ends;
	// runs still in flight then are cancelled.
	ShutdownTimeout time.Duration
	// MaxInflight bounds the runs executing at once; past it, synchronous
	// runs get 429 and asynchronous ones queue (see MaxQueued).
	MaxInflight int
	// MaxQueued bounds the asynchronous runs waiting for a run slot; past
	// it, 429. 0 turns queueing off.
	MaxQueued int
	// MaxConcurrency, when > 0, overrides every workflow's max_concurrency.
	MaxConcurrency int
	// HistorySize bounds the finished runs kept for GET /v1/runs/{id}.
	HistorySize int
	// MaxHeap is the readiness threshold on heap in use, in bytes; 0 means
	// GOMEMLIMIT when set, else no memory check.
	MaxHeap int64
	// AllowHTTPHosts are the hosts action: http may call; none disables it.
	AllowHTTPHosts []string
	// AuthTokenFile holds the bearer token required on /v1/*; "" disables
	// auth.
	AuthTokenFile string
	// ProtectOps also requires the token on /metrics and /health/*.
	ProtectOps bool
	// Semconv is "genai" (record the GenAI semantic-convention metrics too)
	// or "off".
	Semconv string
	// MaxWorkflowNames bounds the distinct workflow_name label values of
	// inline workflows (preloaded names are always kept); past it the value
	// is "_other".
	MaxWorkflowNames int
	// MaxModels bounds the distinct model label values (requested and
	// reported models together); past it the value is "_other".
	MaxModels int
	// LogLevel is debug, info, warn or error; LogFormat is json or text.
	LogLevel, LogFormat string

	// Getenv reads the environment (OTEL_*, provider keys).
	Getenv func(string) string
	// Stdout receives the start-up banner (the URLs to try; nil for none);
	// Stderr receives the logs.
	Stdout, Stderr io.Writer
	// Version is reported in service.version and health output.
	Version string
	// OnListen, when set, is called with the bound address before serving
	// starts (tests listen on 127.0.0.1:0).
	OnListen func(net.Addr)
}

// DefaultOptions returns the defaults: :8080, 30 s shutdown timeout,
// server.DefaultMaxInflight and DefaultMaxQueued, GenAI metrics on, 200
// workflow names and 100 models per label, info-level JSON logs on
// os.Stderr, os.Getenv.
func DefaultOptions() Options {
	return Options{
		Addr:             ":8080",
		ShutdownTimeout:  30 * time.Second,
		MaxInflight:      server.DefaultMaxInflight,
		MaxQueued:        server.DefaultMaxQueued,
		HistorySize:      server.DefaultHistorySize,
		Semconv:          "genai",
		MaxWorkflowNames: 200,
		MaxModels:        100,
		LogLevel:         "info",
		LogFormat:        "json",
		Getenv:           os.Getenv,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Version:          "dev",
	}
}

// Validate reports every problem with o at once.
func (o Options) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		add("addr %q: want host:port: %v", o.Addr, errors.Unwrap(err))
	}
	if o.ShutdownTimeout <= 0 {
		add("shutdown timeout %s: want > 0", o.ShutdownTimeout)
	}
	if o.MaxInflight < 1 {
		add("max inflight %d: want >= 1", o.MaxInflight)
	}
	if o.MaxQueued < 0 {
		add("max queued %d: want >= 0", o.MaxQueued)
	}
	if o.MaxConcurrency < 0 {
		add("max concurrency %d: want >= 0", o.MaxConcurrency)
	}
	if o.HistorySize < 1 {
		add("history size %d: want >= 1", o.HistorySize)
	}
	if o.Semconv != "genai" && o.Semconv != "off" {
		add("semconv %q: want genai or off", o.Semconv)
	}
	if o.MaxWorkflowNames < 0 {
		add("max workflow names %d: want >= 0", o.MaxWorkflowNames)
	}
	if o.MaxModels < 0 {
		add("max models %d: want >= 0", o.MaxModels)
	}
	if o.MaxHeap < 0 {
		add("max heap %d: want >= 0", o.MaxHeap)
	}
	if o.ProtectOps && o.AuthTokenFile == "" {
		add("protect ops needs an auth token file")
	}
	for _, h := range o.AllowHTTPHosts {
		if h == "" || strings.ContainsAny(h, "/ ") {
			add("allow http host %q: want a host name (no scheme or path)", h)
		}
	}
	if o.WorkflowsDir != "" {
		if fi, err := os.Stat(o.WorkflowsDir); err != nil {
			add("workflows dir: %w", err)
		} else if !fi.IsDir() {
			add("workflows dir %q: not a directory", o.WorkflowsDir)
		}
	}
	if _, err := NewLogger(io.Discard, o.LogFormat, o.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if o.Getenv == nil {
		add("getenv is nil")
	}
	if o.Stderr == nil {
		add("stderr is nil")
	}
	return errors.Join(errs...)
}
