package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCollectorValidate runs the distribution's own config validation on
// otel-collector/config.yaml, with the defaults and with every port
// overridden the way the integration test does; a broken config must fail.
func TestCollectorValidate(t *testing.T) {
	bin := collectorBin(t)
	overrides := []string{
		"OTELCOL_OTLP_GRPC_ENDPOINT=127.0.0.1:1", "OTELCOL_OTLP_HTTP_ENDPOINT=127.0.0.1:2",
		"OTELCOL_PROMETHEUS_ENDPOINT=127.0.0.1:3", "OTELCOL_HEALTH_ENDPOINT=127.0.0.1:4",
		"OTELCOL_TELEMETRY_HOST=127.0.0.1", "OTELCOL_TELEMETRY_PORT=5",
	}
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	raw, err := os.ReadFile(path(t, "otel-collector", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// An exporter name the pipeline references but nobody defines.
	if err := os.WriteFile(broken, []byte(strings.Replace(string(raw), "exporters: [prometheus, debug]", "exporters: [prometheus, debug, otlp]", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		config  string
		env     []string
		wantErr bool
	}{
		{"defaults", "otel-collector/config.yaml", nil, false},
		{"env overrides", "otel-collector/config.yaml", overrides, false},
		{"broken", broken, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, "otelcol validate", bin, cleanEnv(tc.env...), "validate", "--config="+tc.config)
			err := p.wait(2 * time.Minute)
			if tc.wantErr && !strings.Contains(p.out.tail(4096), "otlp") {
				t.Errorf("validate failed for another reason:\n%s", p.out.tail(4096))
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("validate: err = %v, want error: %v\n%s", err, tc.wantErr, p.out.tail(4096))
			}
		})
	}
}
