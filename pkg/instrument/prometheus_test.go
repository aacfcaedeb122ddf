package instrument_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/otlptranslator"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
)

// TestPrometheusNames proves the Prometheus names and types of every
// metric through the OTel Prometheus exporter, configured as pkg/telemetry
// configures it, and that the exposition passes promlint.
func TestPrometheusNames(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes))
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithView(instrument.Views()...))
	t.Cleanup(func() { _ = mp.Shutdown(ctx) })
	rec, err := instrument.New(mp, instrument.WithMaxModels(1),
		instrument.WithCost(func(observe.ProviderRequest) float64 { return 0.001 }))
	if err != nil {
		t.Fatal(err)
	}
	feedAll(ctx, rec)
	rec.ProviderRequestFinished(ctx, chat("openai", "second-model", ok, "", ms, 1, 1)) // past WithMaxModels

	want := map[string]string{
		// The nine.
		"orchestrator_workflow_executions_total":    "COUNTER",
		"orchestrator_workflow_duration_seconds":    "HISTOGRAM",
		"orchestrator_active_workflows":             "GAUGE",
		"orchestrator_llm_requests_total":           "COUNTER",
		"orchestrator_llm_tokens_total":             "COUNTER",
		"orchestrator_llm_request_duration_seconds": "HISTOGRAM",
		"orchestrator_step_executions_total":        "COUNTER",
		"orchestrator_step_duration_seconds":        "HISTOGRAM",
		"orchestrator_errors_total":                 "COUNTER",
		// Beyond the nine.
		"orchestrator_llm_time_to_first_token_seconds":        "HISTOGRAM",
		"orchestrator_llm_cost_usd_total":                     "COUNTER",
		"orchestrator_workflow_cost_usd_total":                "COUNTER",
		"orchestrator_step_retries_total":                     "COUNTER",
		"orchestrator_step_backoff_seconds":                   "HISTOGRAM",
		"orchestrator_llm_rate_limit_wait_seconds":            "HISTOGRAM",
		"orchestrator_run_queue_depth":                        "GAUGE",
		"orchestrator_run_queue_wait_seconds":                 "HISTOGRAM",
		"orchestrator_label_overflow_total":                   "COUNTER",
		"gen_ai_client_operation_duration_seconds":            "HISTOGRAM",
		"gen_ai_client_token_usage":                           "HISTOGRAM",
		"gen_ai_client_operation_time_to_first_chunk_seconds": "HISTOGRAM",
		"target_info": "GAUGE",
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	got := map[string]string{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf.GetType().String()
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	for name, typ := range want {
		if got[name] != typ {
			t.Errorf("%s: type %q, want %q", name, got[name], typ)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected metric family %s", name)
		}
	}

	text := buf.String()
	for _, line := range []string{
		`orchestrator_workflow_executions_total{status="failure",workflow_name="triage"} 1`,
		`orchestrator_workflow_duration_seconds_bucket{workflow_name="triage",le="2.5"} 1`,
		`orchestrator_workflow_duration_seconds_bucket{workflow_name="triage",le="+Inf"} 1`,
		`orchestrator_active_workflows 0`,
		`orchestrator_llm_requests_total{model="gpt-4o-mini",provider="openai",status="failure"} 1`,
		`orchestrator_llm_requests_total{model="gpt-4o-mini",provider="openai",status="success"} 1`,
		`orchestrator_llm_tokens_total{model="gpt-4o-mini",provider="openai",type="output"} 20`,
		`orchestrator_llm_request_duration_seconds_bucket{model="gpt-4o-mini",provider="openai",le="1"} 2`,
		`orchestrator_step_executions_total{status="skipped",step_type="transform"} 1`,
		`orchestrator_step_duration_seconds_bucket{step_type="llm",le="0.01"} 0`,
		`orchestrator_step_duration_seconds_count{step_type="transform"} 1`,
		`orchestrator_errors_total{component="provider",error_type="rate_limit"} 1`,
		`orchestrator_errors_total{component="executor",error_type="step_failed"} 1`,
		`orchestrator_llm_requests_total{model="_other",provider="openai",status="success"} 1`,
		`orchestrator_label_overflow_total{label="model"} 1`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("exposition lacks %q", line)
		}
	}
	if strings.Contains(text, "otel_scope_") {
		t.Error("exposition has otel_scope_ labels")
	}
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	if t.Failed() {
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range got {
				if !yield(n) {
					return
				}
			}
		})
		t.Logf("families: %v", names)
	}
}
