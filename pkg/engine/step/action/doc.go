// Package action implements the `action` step type: `action: log` writes
// one structured line to the run's logger, and `action: http` calls a
// webhook on a host of the engine's allowlist (step.Env.AllowHTTPHosts; no
// allowlist disables it, and redirects off the allowlist are refused).
//
// Start with Spec; log.go and http.go hold the two actions. Executors are
// safe for concurrent use and never retry: an unexpected HTTP status is a
// typed failure (5xx provider_error and 429 rate_limit, which the engine
// retries; other statuses are not retried).
package action
