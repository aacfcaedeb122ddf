// Package reliability holds orchestrator's reliability and security tests
// (issue 6). It has no API: everything is in its _test.go files, which
// drive the real engine, providers, metrics pipeline, health checks and,
// where noted, the `serve` application and the CLI, from the outside.
//
// Where to start:
//
//   - faults_test.go: the provider fault matrix. Every fault of
//     providertest (connection refused, reset mid-body, truncated stream,
//     garbage JSON, HTML page, empty choices, slow first byte, slowloris,
//     429 with and without Retry-After, 5xx, 529, error events, 400, 401)
//     against the real openai and anthropic providers (chat, streamed and
//     plain; OpenAI embeddings), transient and persistent. Each case checks the step's status, error
//     type and attempts, that attempts equal the requests the fake saw,
//     and the exact orchestrator_llm_requests_total,
//     orchestrator_errors_total and token counts on a ManualReader; and
//     that no connection stays open on the fake.
//   - secrets_test.go, serve_test.go, otlp_test.go: a random canary API
//     key must never appear in run results, errors, logs, spans, /metrics,
//     health JSON, the CLI's output or the server's answers and logs, even
//     when the provider or the OTLP backend quotes it back.
//   - sandbox_test.go: templates, conditions, branch keys, vector_search
//     and action: http cannot read the environment or files.
//   - limits_test.go: steps, nesting depth, file, template output,
//     provider response and API body limits fail with clear errors.
//   - cardinality_test.go: 100,000 runs of distinct workflow names keep the
//     /metrics series count and the heap bounded (workflow_name overflows to
//     "_other", counted by orchestrator_label_overflow_total; the SDK's
//     cardinality limit is the second guard), and liveness answers
//     throughout.
//
// docs/reliability.md records the figures these tests log, how to repeat
// them, and what is not covered.
//
// Concurrency: the tests run their subtests in parallel where they only
// wait (step timeouts, slow fakes). Every test package checks for goroutine
// leaks with goleak, and every fake provider is checked for open
// connections once its test is done.
package reliability
