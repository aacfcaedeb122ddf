package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
	"github.com/orchestrator-dev/orchestrator/pkg/telemetry"
	"github.com/orchestrator-dev/orchestrator/pkg/telemetry/otlptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func getenv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// syncBuffer is a log sink safe for the exporter's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines returns the decoded JSON log lines whose msg is msg.
func (s *syncBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func setup(t *testing.T, vars map[string]string, log io.Writer) *telemetry.Telemetry {
	t.Helper()
	if log == nil {
		log = io.Discard
	}
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{
		Version:           "1.2.3",
		Getenv:            getenv(vars),
		Logger:            slog.New(slog.NewJSONHandler(log, nil)),
		ReconnectMaxDelay: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tel.Shutdown(ctx)
	})
	return tel
}

func newRecorder(t *testing.T, tel *telemetry.Telemetry) *instrument.Recorder {
	t.Helper()
	rec, err := instrument.New(tel.MeterProvider())
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// feed records one successful run with an llm step and one failed run
// whose provider attempt failed.
func feed(ctx context.Context, rec observe.Observer) {
	rec.RunStarted(ctx, observe.RunStart{Workflow: "triage"})
	rec.ProviderRequestFinished(ctx, observe.ProviderRequest{Provider: "openai", ProviderKind: "openai",
		Operation: observe.OpChat, Model: "gpt-4o-mini", Status: observe.StatusSuccess,
		Duration: 800 * time.Millisecond, InputTokens: 100, OutputTokens: 20})
	rec.StepFinished(ctx, observe.StepEnd{StepType: "llm", Status: observe.StatusSuccess, Attempts: 1, Duration: time.Second})
	rec.RunFinished(ctx, observe.RunEnd{Workflow: "triage", Status: observe.StatusSuccess, Duration: 1100 * time.Millisecond})

	rec.RunStarted(ctx, observe.RunStart{Workflow: "triage"})
	rec.ProviderRequestFinished(ctx, observe.ProviderRequest{Provider: "openai", ProviderKind: "openai",
		Operation: observe.OpChat, Model: "gpt-4o-mini", Status: observe.StatusFailure, ErrorType: errtype.Auth,
		Duration: 50 * time.Millisecond})
	rec.StepFinished(ctx, observe.StepEnd{StepType: "llm", Status: observe.StatusFailure, ErrorType: errtype.Auth,
		Attempts: 1, Duration: 60 * time.Millisecond})
	rec.StepFinished(ctx, observe.StepEnd{StepType: "transform", Status: observe.StatusSkipped})
	rec.RunFinished(ctx, observe.RunEnd{Workflow: "triage", Status: observe.StatusFailure, ErrorType: errtype.StepFailed,
		Duration: 70 * time.Millisecond})
}

// TestOTLPExport: the nine metrics arrive through OTLP with their values,
// cumulative temporality, the resource and the configured headers; the
// shutdown flush delivers them (the interval is an hour).
func TestOTLPExport(t *testing.T) {
	ctx := context.Background()
	recv := otlptest.Start(t)
	tel := setup(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": recv.Endpoint(),
		"OTEL_EXPORTER_OTLP_HEADERS":  "api-key=s3cret%20key, x-tenant=acme",
		"OTEL_SERVICE_NAME":           "orch-test",
		"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment=test,service.name=ignored",
		"OTEL_METRIC_EXPORT_INTERVAL": "3600000",
	}, nil)
	if got := tel.OTLPEndpoint(); got != recv.Addr() {
		t.Errorf("OTLPEndpoint = %q, want %q", got, recv.Addr())
	}
	feed(ctx, newRecorder(t, tel))
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tel.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}

	reqs := recv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d export requests, want 1 (the shutdown flush)", len(reqs))
	}
	req := reqs[0]
	if got := req.Headers.Get("api-key"); len(got) != 1 || got[0] != "s3cret key" {
		t.Errorf("api-key header = %q", got)
	}
	if got := req.Headers.Get("x-tenant"); len(got) != 1 || got[0] != "acme" {
		t.Errorf("x-tenant header = %q", got)
	}
	res := req.Resource()
	for k, v := range map[string]string{"service.name": "orch-test", "service.version": "1.2.3", "deployment.environment": "test"} {
		if res[k] != v {
			t.Errorf("resource %s = %q, want %q", k, res[k], v)
		}
	}
	if len(res["service.instance.id"]) != 36 {
		t.Errorf("service.instance.id = %q, want a UUID", res["service.instance.id"])
	}

	const cumulative = metricpb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE
	ints := []struct {
		metric string
		attrs  []string
		want   int64
	}{
		{"orchestrator.workflow.executions", []string{"status", "success", "workflow_name", "triage"}, 1},
		{"orchestrator.workflow.executions", []string{"status", "failure", "workflow_name", "triage"}, 1},
		{"orchestrator.active_workflows", nil, 0},
		{"orchestrator.llm.requests", []string{"provider", "openai", "model", "gpt-4o-mini", "status", "success"}, 1},
		{"orchestrator.llm.requests", []string{"provider", "openai", "model", "gpt-4o-mini", "status", "failure"}, 1},
		{"orchestrator.llm.tokens", []string{"provider", "openai", "model", "gpt-4o-mini", "type", "input"}, 100},
		{"orchestrator.llm.tokens", []string{"provider", "openai", "model", "gpt-4o-mini", "type", "output"}, 20},
		{"orchestrator.step.executions", []string{"step_type", "llm", "status", "success"}, 1},
		{"orchestrator.step.executions", []string{"step_type", "llm", "status", "failure"}, 1},
		{"orchestrator.step.executions", []string{"step_type", "transform", "status", "skipped"}, 1},
		{"orchestrator.errors", []string{"error_type", "auth", "component", "provider"}, 1},
		{"orchestrator.errors", []string{"error_type", "auth", "component", "step_executor"}, 1},
		{"orchestrator.errors", []string{"error_type", "step_failed", "component", "executor"}, 1},
	}
	for _, c := range ints {
		m := req.Metric(c.metric)
		if m == nil {
			t.Errorf("%s missing", c.metric)
			continue
		}
		if m.GetSum().GetAggregationTemporality() != cumulative {
			t.Errorf("%s: temporality %v", c.metric, m.GetSum().GetAggregationTemporality())
		}
		if got, ok := otlptest.IntValue(m, c.attrs...); !ok || got != c.want {
			t.Errorf("%s%v = %d (found %t), want %d", c.metric, c.attrs, got, ok, c.want)
		}
	}
	if m := req.Metric("orchestrator.active_workflows"); m.GetSum().GetIsMonotonic() {
		t.Error("active_workflows is monotonic")
	}
	hists := []struct {
		metric string
		attrs  []string
		count  uint64
		sum    float64
		bounds []float64
	}{
		{"orchestrator.workflow.duration", []string{"workflow_name", "triage"}, 2, 1.17,
			[]float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120}},
		{"orchestrator.llm.request.duration", []string{"provider", "openai", "model", "gpt-4o-mini"}, 2, 0.85,
			[]float64{0.1, 0.5, 1, 2, 5, 10, 30, 60}},
		{"orchestrator.step.duration", []string{"step_type", "llm"}, 2, 1.06,
			[]float64{0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30}},
	}
	for _, h := range hists {
		m := req.Metric(h.metric)
		if m.GetHistogram().GetAggregationTemporality() != cumulative {
			t.Errorf("%s: temporality %v", h.metric, m.GetHistogram().GetAggregationTemporality())
		}
		p := otlptest.Histogram(m, h.attrs...)
		if p == nil {
			t.Errorf("%s%v missing", h.metric, h.attrs)
			continue
		}
		if p.GetCount() != h.count || abs(p.GetSum()-h.sum) > 1e-9 || !equal(p.GetExplicitBounds(), h.bounds) {
			t.Errorf("%s: count %d sum %g bounds %v, want %d %g %v", h.metric, p.GetCount(), p.GetSum(),
				p.GetExplicitBounds(), h.count, h.sum, h.bounds)
		}
	}
	if otlptest.Histogram(req.Metric("orchestrator.step.duration"), "step_type", "transform") != nil {
		t.Error("skipped step was timed")
	}
}

// TestMetricsHandler: /metrics serves the Prometheus names, without scope
// labels, and passes promlint.
func TestMetricsHandler(t *testing.T) {
	tel := setup(t, map[string]string{"OTEL_SERVICE_NAME": "orch-test"}, nil)
	if tel.OTLPEndpoint() != "" {
		t.Errorf("OTLPEndpoint = %q without OTLP configuration", tel.OTLPEndpoint())
	}
	feed(context.Background(), newRecorder(t, tel))
	body := scrape(t, tel.MetricsHandler())
	for _, line := range []string{
		`orchestrator_workflow_executions_total{status="success",workflow_name="triage"} 1`,
		`orchestrator_workflow_duration_seconds_bucket{workflow_name="triage",le="0.1"} 1`,
		`orchestrator_workflow_duration_seconds_bucket{workflow_name="triage",le="2.5"} 2`,
		`orchestrator_active_workflows 0`,
		`orchestrator_llm_requests_total{model="gpt-4o-mini",provider="openai",status="failure"} 1`,
		`orchestrator_llm_tokens_total{model="gpt-4o-mini",provider="openai",type="input"} 100`,
		`orchestrator_llm_request_duration_seconds_count{model="gpt-4o-mini",provider="openai"} 2`,
		`orchestrator_step_executions_total{status="skipped",step_type="transform"} 1`,
		`orchestrator_step_duration_seconds_bucket{step_type="llm",le="1"} 2`,
		`orchestrator_errors_total{component="executor",error_type="step_failed"} 1`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	if strings.Contains(body, "otel_scope_") {
		t.Error("/metrics has otel_scope_ labels")
	}
	if !strings.Contains(body, `service_name="orch-test"`) {
		t.Error("target_info lacks service_name")
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rr.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rr.Code)
	}
	return rr.Body.String()
}

func TestSDKDisabled(t *testing.T) {
	tel := setup(t, map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, nil)
	feed(context.Background(), newRecorder(t, tel))
	if body := scrape(t, tel.MetricsHandler()); body != "" {
		t.Errorf("/metrics = %q, want empty", body)
	}
	if tel.OTLPEndpoint() != "" {
		t.Errorf("OTLPEndpoint = %q", tel.OTLPEndpoint())
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestOTLPEndpoint: when OTLP is enabled and where it points. Endpoints are
// loopback ports where nothing listens.
func TestOTLPEndpoint(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"nothing set", nil, ""},
		{"endpoint URL", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, "127.0.0.1:1"},
		{"signal endpoint wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
			"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "https://127.0.0.1:2"}, "127.0.0.1:2"},
		{"host without port", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "127.0.0.1",
			"OTEL_EXPORTER_OTLP_INSECURE": "true"}, "127.0.0.1:4317"},
		{"exporter list", map[string]string{"OTEL_METRICS_EXPORTER": "prometheus, otlp"}, "localhost:4317"},
		{"exporter none", map[string]string{"OTEL_METRICS_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, ""},
		{"prometheus only", map[string]string{"OTEL_METRICS_EXPORTER": "prometheus"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := setup(t, tt.env, nil)
			if got := tel.OTLPEndpoint(); got != tt.want {
				t.Errorf("OTLPEndpoint = %q, want %q", got, tt.want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_ = tel.Shutdown(ctx) // nothing listens: the final export fails, bounded by ctx
		})
	}
}

func TestSetupErrors(t *testing.T) {
	const secret = "sk-canary-0123456789"
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad header", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
			"OTEL_EXPORTER_OTLP_HEADERS": "api-key=" + secret + ",broken"}, "OTEL_EXPORTER_OTLP_HEADERS: entry 2"},
		{"bad header encoding", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
			"OTEL_EXPORTER_OTLP_HEADERS": "api-key=" + secret + "%zz"}, "bad percent-encoding"},
		{"bad interval", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
			"OTEL_METRIC_EXPORT_INTERVAL": "soon"}, "OTEL_METRIC_EXPORT_INTERVAL"},
		{"bad scheme", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://127.0.0.1:1"}, "scheme"},
		{"http protocol", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, "only grpc"},
		{"bad disabled", map[string]string{"OTEL_SDK_DISABLED": "maybe"}, "OTEL_SDK_DISABLED"},
		{"bad resource", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "a"}, "OTEL_RESOURCE_ATTRIBUTES"},
		{"bad exemplar filter", map[string]string{"OTEL_METRICS_EXEMPLAR_FILTER": "sometimes"}, "OTEL_METRICS_EXEMPLAR_FILTER"},
		{"missing CA", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://127.0.0.1:1",
			"OTEL_EXPORTER_OTLP_CERTIFICATE": "testdata/missing.pem"}, "OTEL_EXPORTER_OTLP_CERTIFICATE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := telemetry.Setup(context.Background(), telemetry.Options{Getenv: getenv(tt.env)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the header value: %v", err)
			}
		})
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
