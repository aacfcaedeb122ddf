package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/server"
)

// BenchmarkPostWorkflowRun measures the API path of one run of a one-step
// preloaded workflow, in process (no network): routing, otelhttp, body
// decoding, admission, history, the engine and the JSON answer.
func BenchmarkPostWorkflowRun(b *testing.B) {
	for _, bc := range []struct {
		name, path, body string
	}{
		{"preloaded", "/v1/workflows/one/runs", `{"inputs":{"text":"hello"}}`},
		{"inline", "/v1/runs", `{"workflow":"name: one\ninputs:\n  text: {default: x}\nsteps:\n  - id: t\n    type: transform\n    function: template\n    template: \"{{ inputs.text }}\"\n","inputs":{"text":"hello"}}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			defer mp.Shutdown(context.Background())
			eng, err := engine.New(engine.WithMeterProvider(mp), engine.WithLogger(discardLogger()))
			if err != nil {
				b.Fatal(err)
			}
			plan, err := eng.Load("one.yaml", []byte("name: one\ninputs:\n  text: {default: x}\nsteps:\n  - id: t\n    type: transform\n    function: template\n    template: \"{{ inputs.text }}\"\n"))
			if err != nil {
				b.Fatal(err)
			}
			srv, err := server.New(eng, server.WithWorkflows(plan), server.WithMeterProvider(mp))
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Wait(context.Background())
			h := srv.Handler()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, bc.path, strings.NewReader(bc.body))
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
