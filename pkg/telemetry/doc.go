// Package telemetry builds orchestrator's metrics pipeline: an OpenTelemetry
// SDK MeterProvider with the instrument package's Views, a Prometheus
// exporter on its own registry for /metrics, and, when the standard OTEL_*
// environment asks for it, an OTLP/gRPC push exporter.
//
// Start with Setup, record through Telemetry.MeterProvider (usually via
// instrument.New or engine.WithMeterProvider), serve
// Telemetry.MetricsHandler, and call Telemetry.Shutdown last so that the
// final values reach the OTLP endpoint. The environment is read through
// Options.Getenv; nothing here sets or reads an OpenTelemetry global.
//
// OTLP export failures never affect recording: the SDK keeps one cumulative
// aggregate per series, so memory stays bounded during an outage, and the
// next successful export carries the correct totals. Failures are logged at
// most once per Options.ErrorLogInterval with a count of the suppressed
// ones, and a line is logged when export recovers.
//
// Concurrency: a Telemetry is safe for concurrent use; Shutdown may be
// called more than once. The subpackage otlptest is an in-process OTLP
// receiver for tests.
package telemetry
