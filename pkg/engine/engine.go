package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/action"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/branch"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/embed"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/llm"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/parallel"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/transform"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/vectorsearch"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/vector"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
)

// TracerName is the instrumentation scope of the engine's spans.
const TracerName = "github.com/orchestrator-dev/orchestrator/pkg/engine"

// DefaultSteps returns a registry holding every built-in step type: llm,
// embed, vector_search, transform, action, parallel and branch.
func DefaultSteps() *step.Registry {
	r := step.NewRegistry()
	for _, s := range []step.Spec{
		llm.Spec(), embed.Spec(), vectorsearch.Spec(), transform.Spec(), action.Spec(),
		parallel.Spec(), branch.Spec(),
	} {
		r.Register(s)
	}
	return r
}

// New returns an engine configured by opts (see the With* options for the
// defaults). It fails only when WithMeterProvider's MeterProvider refuses
// an instrument.
func New(opts ...Option) (*Engine, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.steps == nil {
		cfg.steps = DefaultSteps()
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.tracerProvider == nil {
		cfg.tracerProvider = otel.GetTracerProvider()
	}
	if cfg.httpClient == nil {
		cfg.httpClient = defaultHTTPClient(cfg.allowHTTPHosts)
	}
	l := &cfg.limits
	l.MaxSteps = cmpOr(l.MaxSteps, 1000)
	l.MaxDepth = cmpOr(l.MaxDepth, 8)
	l.MaxFileBytes = cmpOr(l.MaxFileBytes, 10<<20)
	l.MaxTemplateBytes = cmpOr(l.MaxTemplateBytes, 1<<20)

	observers := slices.Clone(cfg.observers)
	if cfg.meterProvider != nil || cfg.meterProviderSet {
		var iopts []instrument.Option
		if cfg.cost != nil {
			iopts = append(iopts, instrument.WithCost(cfg.cost))
		}
		rec, err := instrument.New(cfg.meterProvider, iopts...)
		if err != nil {
			return nil, fmt.Errorf("engine: metrics: %w", err)
		}
		observers = append([]observe.Observer{rec}, observers...)
	}
	e := &Engine{
		cfg:    cfg,
		obs:    observe.Multi(observers...),
		tracer: cfg.tracerProvider.Tracer(TracerName),
	}
	if len(observers) == 0 {
		e.obs = observe.Nop{}
	}
	e.env = step.Env{
		BaseDir:          ".",
		HTTPClient:       cfg.httpClient,
		AllowHTTPHosts:   slices.Clone(cfg.allowHTTPHosts),
		MaxTemplateBytes: l.MaxTemplateBytes,
		Logger:           cfg.logger,
		Indexes:          vector.NewCache(),
	}
	return e, nil
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// defaultHTTPClient has a 30 s timeout and refuses redirects to hosts off
// the allowlist.
func defaultHTTPClient(allow []string) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			if !slices.Contains(allow, req.URL.Hostname()) {
				return fmt.Errorf("redirect to host %q refused: not in the allowlist", req.URL.Hostname())
			}
			return nil
		},
	}
}

// logStep logs one step-level line with the run's and step's attributes.
func (r *run) logStep(ctx context.Context, level slog.Level, stepID, msg string, attrs ...slog.Attr) {
	if !r.e.cfg.logger.Enabled(ctx, level) {
		return
	}
	attrs = append(attrs, slog.String("run_id", r.id), slog.String("workflow_name", r.p.name), slog.String("step_id", stepID))
	r.e.cfg.logger.LogAttrs(ctx, level, msg, attrs...)
}
