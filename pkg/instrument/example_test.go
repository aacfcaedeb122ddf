package instrument_test

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
)

// A Recorder on an application's own MeterProvider: no global is touched.
func ExampleNew() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithView(instrument.Views()...))
	defer func() { _ = mp.Shutdown(ctx) }()

	rec, err := instrument.New(mp) // hand rec to engine.WithObserver
	if err != nil {
		panic(err)
	}
	rec.RunStarted(ctx, observe.RunStart{Workflow: "triage"})
	rec.RunFinished(ctx, observe.RunEnd{Workflow: "triage", Status: observe.StatusSuccess, Duration: time.Second})

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(ctx, &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if s, ok := m.Data.(metricdata.Sum[int64]); ok {
			p := s.DataPoints[0]
			fmt.Printf("%s{%s} %d\n", m.Name, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Value)
		}
	}
	// Unordered output:
	// orchestrator.workflow.executions{status=success,workflow_name=triage} 1
	// orchestrator.active_workflows{} 0
}
