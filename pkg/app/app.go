package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/healthz"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
	"github.com/orchestrator-dev/orchestrator/pkg/prices"
	"github.com/orchestrator-dev/orchestrator/pkg/server"
	"github.com/orchestrator-dev/orchestrator/pkg/telemetry"
)

// Grace periods of the shutdown sequence, after the runs have drained.
const (
	responseGrace = 2 * time.Second  // for handlers to write the answers of drained runs
	flushTimeout  = 10 * time.Second // for the final metric export
)

// Run serves the API until ctx ends, then shuts down gracefully:
//
//  1. new runs get 503 and readiness turns unavailable, at once;
//  2. in-flight and queued runs (sync and async) drain for up to
//     ShutdownTimeout, then the rest are cancelled (failures of type
//     canceled, counted by the engine) and awaited; the listener stays open
//     meanwhile, answering 503 to new runs;
//  3. the listener closes once every answer is written (http.Server.Shutdown);
//  4. telemetry is shut down, which flushes a final export.
//
// It returns nil after a graceful shutdown, or the error that stopped
// start-up or serving.
func Run(ctx context.Context, o Options) (err error) {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("invalid options: %w", err)
	}
	log, err := NewLogger(o.Stderr, o.LogFormat, o.LogLevel)
	if err != nil {
		return err
	}
	token, err := ReadTokenFile(o.AuthTokenFile)
	if err != nil {
		return err
	}

	tel, err := telemetry.Setup(ctx, telemetry.Options{Getenv: o.Getenv, Version: o.Version, Logger: log})
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	defer func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
		defer cancel()
		if serr := tel.Shutdown(fctx); serr != nil {
			log.Warn("telemetry shutdown", "error", serr)
		}
	}()
	mp := tel.MeterProvider()

	set, err := Providers(o.Getenv, o.ProvidersFile)
	if err != nil {
		return err
	}
	table, err := prices.Load(o.PricesFile, prices.WithLogger(log))
	if err != nil {
		return err
	}
	// The recorder is built here rather than by engine.WithMeterProvider so
	// that preloaded workflow names stay out of the workflow_name bound.
	rec, err := instrument.New(mp, instrument.WithGenAI(o.Semconv == "genai"),
		instrument.WithMaxWorkflowNames(o.MaxWorkflowNames), instrument.WithMaxModels(o.MaxModels),
		instrument.WithCost(table.Cost))
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	rec.ExposeZeroes(ctx)
	eng, err := engine.New(
		engine.WithProviders(set),
		engine.WithObserver(rec),
		engine.WithCost(table.Cost),
		engine.WithLogger(log),
		engine.WithMaxConcurrency(o.MaxConcurrency),
		engine.WithAllowHTTPHosts(o.AllowHTTPHosts...),
	)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	var plans []*engine.Plan
	if o.WorkflowsDir != "" {
		if plans, err = Preload(eng, o.WorkflowsDir); err != nil {
			return err
		}
		for _, p := range plans {
			rec.AllowWorkflowNames(p.Workflow.Name)
		}
	}

	health, err := healthz.New(healthz.Options{
		Name:         "orchestrator",
		Version:      o.Version,
		MaxHeapBytes: uint64(o.MaxHeap),
		Providers:    healthProviders(set),
		OTLPEndpoint: tel.OTLPEndpoint(),
	})
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	srv, err := server.New(eng,
		server.WithWorkflows(plans...),
		server.WithInlineDir(o.WorkflowsDir),
		server.WithMaxInflight(o.MaxInflight),
		server.WithMaxQueued(o.MaxQueued),
		server.WithQueueObserver(rec),
		server.WithHistorySize(o.HistorySize),
		server.WithAuthToken(token),
		server.WithProtectOps(o.ProtectOps),
		server.WithMetricsHandler(tel.MetricsHandler()),
		server.WithHealthHandlers(health.LiveHandler(), health.ReadyHandler()),
		server.WithLogger(log),
		server.WithMeterProvider(mp),
	)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "workflows", len(plans), "version", o.Version)
	banner(o, ln.Addr(), plans)
	if o.OnListen != nil {
		o.OnListen(ln.Addr())
	}

	var serveErr error
	select {
	case serveErr = <-served: // the listener failed
		log.Error("serve", "error", serveErr)
	case <-ctx.Done():
		log.Info("shutting down: draining in-flight runs", "timeout", o.ShutdownTimeout.String())
	}
	// New runs get 503 first, then readiness turns unavailable: a client
	// that saw "not ready" can never have a run admitted afterwards. The
	// listener stays open while runs drain, so that late requests get a
	// clear 503 and probes see "not ready" rather than a refused connection.
	srv.Drain()
	health.SetDraining()
	drainCtx, cancelDrain := context.WithTimeout(context.WithoutCancel(ctx), o.ShutdownTimeout)
	defer cancelDrain()
	if werr := srv.Wait(drainCtx); werr != nil {
		log.Warn("shutdown timeout reached", "error", werr)
	}
	// Every run has returned; its handler is writing the answer.
	shutCtx, cancelShut := context.WithTimeout(context.WithoutCancel(ctx), responseGrace)
	defer cancelShut()
	if serr := hs.Shutdown(shutCtx); serr != nil {
		log.Warn("closing connections still open", "error", serr)
		_ = hs.Close()
	}
	if serveErr == nil {
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			serveErr = serr
		}
	}
	if serveErr != nil {
		return fmt.Errorf("serve: %w", serveErr)
	}
	log.Info("stopped")
	return nil
}

// healthProviders lists the usable providers with a base URL, for the
// readiness reachability check. Unusable ones (a missing key) are left out:
// they cannot serve runs anyway, and workflows using them do not load.
func healthProviders(set *provider.Set) []healthz.Provider {
	var out []healthz.Provider
	for _, name := range set.Names() {
		if e, _ := set.Lookup(name); e.Err == nil && e.BaseURL != "" {
			out = append(out, healthz.Provider{Name: name, BaseURL: e.BaseURL})
		}
	}
	return out
}
