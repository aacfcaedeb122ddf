package telemetry_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
	"github.com/orchestrator-dev/orchestrator/pkg/telemetry"
)

func ExampleSetup() {
	ctx := context.Background()
	tel, err := telemetry.Setup(ctx, telemetry.Options{
		Version: "1.0.0",
		Getenv:  func(string) string { return "" }, // no OTLP: /metrics only
	})
	if err != nil {
		panic(err)
	}
	defer func() { _ = tel.Shutdown(ctx) }()

	rec, err := instrument.New(tel.MeterProvider())
	if err != nil {
		panic(err)
	}
	rec.RunStarted(ctx, observe.RunStart{Workflow: "triage"})
	rec.RunFinished(ctx, observe.RunEnd{Workflow: "triage", Status: observe.StatusSuccess, Duration: time.Second})

	rr := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, line := range strings.Split(rr.Body.String(), "\n") {
		if strings.HasPrefix(line, "orchestrator_workflow_executions_total") || strings.HasPrefix(line, "orchestrator_active") {
			fmt.Println(line)
		}
	}
	// Output:
	// orchestrator_active_workflows 0
	// orchestrator_workflow_executions_total{status="success",workflow_name="triage"} 1
}
