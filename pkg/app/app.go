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
	"github.com/orchestrator-dev/orchestrator/pkg/healthz"
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
//  1. readiness turns unavailable and new runs get 503 at once;
//  2. the listener stops accepting;
//  3. in-flight runs drain for up to ShutdownTimeout, then the rest are
//     cancelled (failures of type canceled, counted by the engine);
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
	eng, err := engine.New(
		engine.WithProviders(set),
		engine.WithMeterProvider(mp),
		engine.WithLogger(log),
		engine.WithObserver(logObserver{log}),
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
	}

	health, err := healthz.New(healthz.Options{
		Version:      o.Version,
		MaxHeap:      o.MaxHeap,
		Getenv:       o.Getenv,
		Providers:    set,
		OTLPEndpoint: tel.OTLPEndpoint(),
	})
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	srv, err := server.New(eng,
		server.WithWorkflows(plans...),
		server.WithMaxInflight(o.MaxInflight),
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
	health.SetDraining()
	srv.Drain()
	deadline := time.Now().Add(o.ShutdownTimeout)
	shutCtx, cancelShut := context.WithDeadline(context.WithoutCancel(ctx), deadline.Add(responseGrace))
	defer cancelShut()
	shut := make(chan error, 1)
	go func() { shut <- hs.Shutdown(shutCtx) }() // stops accepting now, then waits for handlers

	drainCtx, cancelDrain := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancelDrain()
	if werr := srv.Wait(drainCtx); werr != nil {
		log.Warn("shutdown timeout reached", "error", werr)
	}
	if serr := <-shut; serr != nil {
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
