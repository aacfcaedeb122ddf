// Command gen writes the Grafana dashboards of the bundled stack,
// grafana/dashboards/*.json, as code with the Grafana Foundation SDK
// (github.com/grafana/grafana-foundation-sdk/go).
//
//	go run ./grafana/gen          # regenerate (make dashboards)
//	go run ./grafana/gen -check   # exit 1 when a committed file is stale (make check-stack)
//
// Start at dashboards() in dashboards.go: one builder per dashboard
// (overview.go, llm.go); panel helpers live in panels.go. Every query uses the
// Prometheus datasource with the fixed uid "prometheus" provisioned in
// grafana/provisioning/datasources. The tests in this package prove that the
// committed JSON equals the generator's output and strictly unmarshals; the
// tests in pkg/stack run every query against a real Prometheus.
package main
