package telemetry_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
	"github.com/orchestrator-dev/orchestrator/pkg/telemetry"
)

// BenchmarkScrape measures one /metrics render for a realistic deployment
// (50 workflows x 5 models, 4 step types, a few failures) and for about
// 10,000 series, side by side:
//
//   - handler=orchestrator: MetricsHandler, i.e. the OTel Prometheus
//     exporter behind promhttp, nothing of ours in between;
//   - handler=bare-exporter: the OTel Prometheus exporter with its default
//     options on a plain MeterProvider (with our Views), behind a plain
//     promhttp handler: the exporter's own cost;
//   - handler=client_golang: the same families, label sets and buckets
//     recorded natively in client_golang vectors and rendered by promhttp:
//     the reference the exporter is compared with.
//
// It reports the number of Prometheus series (sample lines: each histogram
// bucket, _sum and _count is one) and ns/series.
func BenchmarkScrape(b *testing.B) {
	cases := []struct {
		name               string
		workflows, models  int
		withSteps, failing bool
	}{
		{"deployment=50x5", 50, 5, true, true},
		{"series=10k", 770, 1, false, false}, // 770 x (1 counter + 12 histogram series)
	}
	for _, c := range cases {
		ctx := context.Background()
		tel, err := telemetry.Setup(ctx, telemetry.Options{Getenv: func(string) string { return "" }})
		if err != nil {
			b.Fatal(err)
		}
		rec, err := instrument.New(tel.MeterProvider(), instrument.WithMaxWorkflowNames(c.workflows))
		if err != nil {
			b.Fatal(err)
		}
		populate(ctx, rec, c.workflows, c.models, c.withSteps, c.failing)
		body := render(b, tel.MetricsHandler())
		native := nativeRegistry(b, body)
		bare := bareExporter(b, func(rec *instrument.Recorder) {
			populate(ctx, rec, c.workflows, c.models, c.withSteps, c.failing)
		}, c.workflows)
		for _, h := range []struct {
			name string
			h    http.Handler
		}{
			{"orchestrator", tel.MetricsHandler()},
			{"bare-exporter", bare},
			{"client_golang", promhttp.HandlerFor(native, promhttp.HandlerOpts{})},
		} {
			b.Run(c.name+"/handler="+h.name, func(b *testing.B) {
				series := seriesOf(render(b, h.h))
				for b.Loop() {
					rr := httptest.NewRecorder()
					h.h.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
					_, _ = io.Copy(io.Discard, rr.Body)
				}
				b.ReportMetric(float64(series), "series")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(series), "ns/series")
			})
		}
		_ = tel.Shutdown(ctx)
	}
}

// bareExporter returns the /metrics handler of a MeterProvider with the
// OTel Prometheus exporter in its default configuration, populated by fill.
func bareExporter(b *testing.B, fill func(*instrument.Recorder), workflows int) http.Handler {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		b.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithView(instrument.Views()...))
	b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	rec, err := instrument.New(mp, instrument.WithMaxWorkflowNames(workflows))
	if err != nil {
		b.Fatal(err)
	}
	fill(rec)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// seriesOf counts the sample lines of a text exposition.
func seriesOf(body string) int { return strings.Count(body, "\n") - strings.Count(body, "# ") }

// nativeRegistry records, in client_golang vectors on a new registry, one
// observation per series of every orchestrator family of the exposition
// body: the same names, label sets and buckets.
func nativeRegistry(b *testing.B, body string) *prometheus.Registry {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	for name, f := range fams {
		if len(f.GetMetric()) == 0 {
			continue
		}
		// The union of the label names (error.type is on failures only);
		// a series without one of them gets "".
		var labels []string
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if !slices.Contains(labels, l.GetName()) {
					labels = append(labels, l.GetName())
				}
			}
		}
		values := func(m *dto.Metric) []string {
			out := make([]string, len(labels))
			for _, l := range m.GetLabel() {
				out[slices.Index(labels, l.GetName())] = l.GetValue()
			}
			return out
		}
		help := f.GetHelp()
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
			reg.MustRegister(v)
			for _, m := range f.GetMetric() {
				v.WithLabelValues(values(m)...).Add(m.GetCounter().GetValue())
			}
		case dto.MetricType_GAUGE:
			v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
			reg.MustRegister(v)
			for _, m := range f.GetMetric() {
				v.WithLabelValues(values(m)...).Set(m.GetGauge().GetValue())
			}
		case dto.MetricType_HISTOGRAM:
			var buckets []float64
			for _, bk := range f.GetMetric()[0].GetHistogram().GetBucket() {
				if ub := bk.GetUpperBound(); !math.IsInf(ub, 1) {
					buckets = append(buckets, ub)
				}
			}
			v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
			reg.MustRegister(v)
			for _, m := range f.GetMetric() {
				v.WithLabelValues(values(m)...).Observe(1)
			}
		}
	}
	return reg
}

func render(b *testing.B, h http.Handler) string {
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rr.Code != http.StatusOK {
		b.Fatalf("/metrics: %d", rr.Code)
	}
	return rr.Body.String()
}

func populate(ctx context.Context, rec *instrument.Recorder, workflows, models int, withSteps, failing bool) {
	stepTypes := []string{"llm", "transform", "http", "embed"}
	for w := range workflows {
		wf := fmt.Sprintf("workflow-%04d", w)
		for _, status := range []string{observe.StatusSuccess, observe.StatusFailure} {
			if status == observe.StatusFailure && !failing {
				continue
			}
			rec.RunStarted(ctx, observe.RunStart{Workflow: wf})
			if withSteps {
				for m := range models {
					rec.ProviderRequestFinished(ctx, observe.ProviderRequest{Provider: "openai", ProviderKind: "openai",
						Operation: observe.OpChat, Model: fmt.Sprintf("model-%d", m), ResponseModel: fmt.Sprintf("model-%d", m),
						Status: status, Duration: time.Second, InputTokens: 100, OutputTokens: 10})
				}
				for _, st := range stepTypes {
					rec.StepFinished(ctx, observe.StepEnd{StepType: st, Status: status, Duration: time.Second})
				}
			}
			et := ""
			if status == observe.StatusFailure {
				et = "step_failed"
			}
			rec.RunFinished(ctx, observe.RunEnd{Workflow: wf, Status: status, ErrorType: errtype.Type(et), Duration: time.Second})
		}
	}
}
