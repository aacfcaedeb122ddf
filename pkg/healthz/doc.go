// Package healthz serves orchestrator's health endpoints with health-go v5:
// /health/live (no dependency checks) and /health/ready (memory, provider
// reachability, the OTLP endpoint, and draining during shutdown).
//
// Start with New, mount LiveHandler and ReadyHandler, and call SetDraining
// first thing on shutdown.
//
// health-go runs every check on every request while holding a mutex, and
// leaks a goroutine whenever a check outlives health-go's timer. This
// package guards against both: every check runs under its own context
// deadline (CheckTimeout), shorter than health-go's timer, so it always
// returns first; readiness results are cached for CacheInterval and
// concurrent probes share one measurement (singleflight), so frequent
// probes cannot pile up behind the mutex.
//
// Concurrency: a Health is safe for concurrent use. The checks it runs are
// owned by the measurement and finish before it returns.
package healthz
