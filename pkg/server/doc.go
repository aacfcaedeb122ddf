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
//	GET  /v1/runs/{id}              a run document (status "queued", then "running" until done)
//	GET  /v1/workflows              the preloaded workflows
//	POST /v1/workflows/{name}/runs  run a preloaded workflow ({"inputs"}; ?async=true)
//	GET  /metrics, /health/live, /health/ready (injected handlers)
//
// Admission (admission.go): at most MaxInflight runs execute at once.
// Synchronous submissions past the limit get 429 with Retry-After;
// asynchronous ones wait in a FIFO queue of at most MaxQueued runs (answered
// 202 at once, status "queued") and get 429 only when it is full. Every
// rejection is counted in orchestrator.run.rejections{reason}; rejected
// submissions (limit, full queue, draining, malformed body, invalid workflow
// or inputs) never run and are not workflow executions. A QueueObserver
// sees every run enter and leave the queue, or start without waiting.
//
// Lifecycle: Drain makes every new run submission answer 503; Wait drains,
// waits for the runs in flight and in the queue (synchronous and
// asynchronous) and, once its ctx is done, cancels them and waits for them
// to return. A Server owns the goroutines of its asynchronous runs: call
// Wait before discarding it.
//
// Concurrency: a Server is safe for concurrent use.
package server
