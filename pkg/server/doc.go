// Package server is the HTTP API of `orchestrator serve`: it accepts
// workflow runs (inline or preloaded, synchronous or asynchronous), keeps a
// bounded history of run documents, applies admission control and optional
// bearer-token auth, and mounts the /metrics and health handlers it is
// given.
//
// Start with New and Server.Handler; see docs/api.md for the wire format.
//
// Routes:
//
//	POST /v1/runs                   run an inline workflow ({"workflow", "inputs"}; ?async=true)
//	GET  /v1/runs/{id}              a run document (status "running" until done)
//	GET  /v1/workflows              the preloaded workflows
//	POST /v1/workflows/{name}/runs  run a preloaded workflow ({"inputs"}; ?async=true)
//	GET  /metrics, /health/live, /health/ready (injected handlers)
//
// Lifecycle: Drain makes every new run submission answer 503; Wait drains,
// waits for in-flight runs (synchronous and asynchronous) and, once its ctx
// is done, cancels them and waits for them to return. A Server owns the
// goroutines of its asynchronous runs: call Wait before discarding it.
//
// Concurrency: a Server is safe for concurrent use. At most MaxInflight runs
// execute at once; submissions past the limit get 429 with Retry-After and
// are counted in orchestrator.run.rejections{reason}. Rejected submissions
// (limit, draining, malformed body, invalid workflow or inputs) never run
// and are not workflow executions.
package server
