package telemetry_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
	"github.com/orchestrator-dev/orchestrator/pkg/telemetry"
)

// BenchmarkScrape measures one /metrics render (the OTel Prometheus
// exporter behind promhttp, nothing of ours in between) for a realistic
// deployment (50 workflows x 5 models, 4 step types, a few failures) and for
// about 10,000 series. It reports the number of Prometheus series (sample
// lines: each histogram bucket, _sum and _count is one).
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
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			tel, err := telemetry.Setup(ctx, telemetry.Options{Getenv: func(string) string { return "" }})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = tel.Shutdown(ctx) }()
			rec, err := instrument.New(tel.MeterProvider(), instrument.WithMaxWorkflowNames(c.workflows))
			if err != nil {
				b.Fatal(err)
			}
			populate(ctx, rec, c.workflows, c.models, c.withSteps, c.failing)
			h := tel.MetricsHandler()
			body := render(b, h)
			series := strings.Count(body, "\n") - strings.Count(body, "# ") // every sample line is a series
			for b.Loop() {
				rr := httptest.NewRecorder()
				h.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
				_, _ = io.Copy(io.Discard, rr.Body)
			}
			b.ReportMetric(float64(series), "series")
		})
	}
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
