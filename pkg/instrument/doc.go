// Package instrument turns the engine's observe events into OpenTelemetry
// measurements: the nine orchestrator metrics of docs/metrics.md, plus the
// GenAI semantic-convention metrics, time to first token, cost, retry,
// rate-limit, queue and label-overflow metrics.
//
// Start with New: it creates every instrument once, on the MeterProvider it
// is given (nil means the global one), into a Recorder. A Recorder is an
// observe.Observer; hand it to the engine with engine.WithObserver, or let
// engine.WithMeterProvider create one. Views returns the explicit bucket
// boundaries of every histogram; a MeterProvider built for orchestrator
// should be given them (the instruments also carry them as advice, so an SDK
// MeterProvider without the Views still uses the same buckets).
//
// Attribute values come only from closed sets (status, error_type,
// component, token type, operation) or from names the user declared
// (workflow names, provider names, step types, models). Workflow names and
// models are bounded: past a configurable number of distinct values the
// value becomes "_other" and orchestrator_label_overflow_total counts it.
//
// Concurrency: a Recorder is safe for concurrent use. Recording never blocks
// on I/O and never fails: attribute sets are precomputed per label tuple in a
// bounded cache, so the steady-state recording path does not allocate.
package instrument
