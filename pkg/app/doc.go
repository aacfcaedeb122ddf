// Package app wires `orchestrator serve`: telemetry (Prometheus registry,
// OTLP push), the provider set, the engine, preloaded workflows, health
// checks and the HTTP server, plus the graceful shutdown sequence.
//
// Start with DefaultOptions, Options.Validate and Run. Run blocks until its
// ctx ends (cmd/orchestrator cancels it on SIGINT/SIGTERM) and tests start
// it on 127.0.0.1:0, learning the bound address through Options.OnListen.
// Providers, Preload, ReadTokenFile and NewLogger are the pieces the CLI
// shares.
//
// Concurrency: Run owns every goroutine it starts (the HTTP server, the
// asynchronous runs through the server) and returns only after they have
// ended. Several Runs in one process share no state.
package app
