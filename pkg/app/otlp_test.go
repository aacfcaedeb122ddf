package app_test

import (
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"github.com/orchestrator-dev/orchestrator/pkg/telemetry/otlptest"
)

// promNames maps the OTLP names of the nine metrics (and the rejection
// counter) to their Prometheus names.
var promNames = map[string]string{
	"orchestrator.workflow.executions":  "orchestrator_workflow_executions_total",
	"orchestrator.workflow.duration":    "orchestrator_workflow_duration_seconds",
	"orchestrator.active_workflows":     "orchestrator_active_workflows",
	"orchestrator.llm.requests":         "orchestrator_llm_requests_total",
	"orchestrator.llm.tokens":           "orchestrator_llm_tokens_total",
	"orchestrator.llm.request.duration": "orchestrator_llm_request_duration_seconds",
	"orchestrator.step.executions":      "orchestrator_step_executions_total",
	"orchestrator.step.duration":        "orchestrator_step_duration_seconds",
	"orchestrator.errors":               "orchestrator_errors_total",
	"orchestrator.run.rejections":       "orchestrator_run_rejections_total",
}

func otlpKey(kvs []*commonpb.KeyValue) string {
	parts := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		parts = append(parts, kv.GetKey()+"="+kv.GetValue().GetStringValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// histo is a histogram point reduced to what both sides carry.
type histo struct {
	count  uint64
	sum    float64
	bounds string // the le boundaries and cumulative counts
}

func promHisto(h *dto.Histogram) histo {
	var b strings.Builder
	for _, bk := range h.GetBucket() {
		if math.IsInf(bk.GetUpperBound(), 1) {
			continue
		}
		b.WriteString(strconvF(bk.GetUpperBound()) + ":" + strconvF(float64(bk.GetCumulativeCount())) + " ")
	}
	return histo{h.GetSampleCount(), h.GetSampleSum(), b.String()}
}

func otlpHisto(p *metricpb.HistogramDataPoint) histo {
	var b strings.Builder
	cum := uint64(0)
	for i, le := range p.GetExplicitBounds() {
		cum += p.GetBucketCounts()[i]
		b.WriteString(strconvF(le) + ":" + strconvF(float64(cum)) + " ")
	}
	return histo{p.GetCount(), p.GetSum(), b.String()}
}

// assertOTLPEqualsProm checks that every point of the exported metrics
// equals the corresponding /metrics series, and that sums and histograms
// are cumulative.
func assertOTLPEqualsProm(t *testing.T, req otlptest.Request, fams map[string]*dto.MetricFamily) {
	t.Helper()
	for _, otlpName := range slices.Sorted(maps.Keys(promNames)) {
		promName := promNames[otlpName]
		m := req.Metric(otlpName)
		fam := fams[promName]
		if m == nil || fam == nil {
			t.Errorf("%s: exported %v, on /metrics %v", otlpName, m != nil, fam != nil)
			continue
		}
		switch {
		case m.GetSum() != nil:
			if m.GetSum().GetAggregationTemporality() != metricpb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE {
				t.Errorf("%s: temporality %v", otlpName, m.GetSum().GetAggregationTemporality())
			}
			got := map[string]float64{}
			for _, p := range m.GetSum().GetDataPoints() {
				got[otlpKey(p.GetAttributes())] = float64(p.GetAsInt()) + p.GetAsDouble()
			}
			if want := values(fams, promName); !maps.Equal(got, want) {
				t.Errorf("%s: exported %v, /metrics %v", otlpName, got, want)
			}
		case m.GetHistogram() != nil:
			if m.GetHistogram().GetAggregationTemporality() != metricpb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE {
				t.Errorf("%s: temporality %v", otlpName, m.GetHistogram().GetAggregationTemporality())
			}
			got, want := map[string]histo{}, map[string]histo{}
			for _, p := range m.GetHistogram().GetDataPoints() {
				got[otlpKey(p.GetAttributes())] = otlpHisto(p)
			}
			for _, pm := range fam.GetMetric() {
				want[key(pm)] = promHisto(pm.GetHistogram())
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s: exported %v\n/metrics %v", otlpName, got, want)
			}
		default:
			t.Errorf("%s: unexpected data %T", otlpName, m.GetData())
		}
	}
}
