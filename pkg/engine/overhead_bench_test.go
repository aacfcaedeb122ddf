package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/telemetry"
)

// sleepProvider answers every chat request after its latency (honouring
// ctx) with a fixed usage: the in-process provider of BenchmarkOverhead.
type sleepProvider struct{ latency time.Duration }

func (p sleepProvider) Chat(ctx context.Context, req provider.ChatRequest) (*provider.ChatResponse, error) {
	if p.latency > 0 {
		t := time.NewTimer(p.latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	return &provider.ChatResponse{Text: "ok", Model: req.Model, FinishReason: "stop",
		Usage: provider.Usage{InputTokens: 120, OutputTokens: 30}}, nil
}

func (sleepProvider) Embed(context.Context, provider.EmbedRequest) (*provider.EmbedResponse, error) {
	return &provider.EmbedResponse{}, nil
}

func sleepProviders(b *testing.B, latency time.Duration) *provider.Set {
	reg := provider.NewRegistry()
	reg.Register("sleep", func(provider.Config) (provider.Provider, error) { return sleepProvider{latency}, nil })
	set, err := reg.NewSet([]provider.Config{{Name: "bench", Kind: "sleep"}})
	if err != nil {
		b.Fatal(err)
	}
	return set
}

// overheadWorkflow is a chain of 10 llm steps (each prompt reads the
// previous answer) or of 10 transform template steps.
func overheadWorkflow(kind string) string {
	var sb strings.Builder
	sb.WriteString("name: overhead\nsteps:\n")
	for i := range 10 {
		dep, ref := "", "start"
		if i > 0 {
			dep = fmt.Sprintf(", depends_on: [s%d]", i-1)
			ref = fmt.Sprintf("{{ steps.s%d.%s }}", i-1, map[string]string{"llm": "text", "transform": "result"}[kind])
		}
		switch kind {
		case "llm":
			fmt.Fprintf(&sb, "  - {id: s%d, type: llm, provider: bench, model: bench-model, prompt: %q%s}\n", i, "Summarise "+ref, dep)
		default:
			fmt.Fprintf(&sb, "  - {id: s%d, type: transform, function: template, template: %q%s}\n", i, ref+"x", dep)
		}
	}
	return sb.String()
}

// BenchmarkOverhead measures the cost of the metrics: the same workflow runs
// on an engine recording on the real SDK with the Prometheus exporter (as
// `orchestrator serve` sets it up, through package telemetry) and on an
// engine recording on a no-op MeterProvider. The two runs alternate inside
// one loop, so machine noise hits both alike; the benchmark reports each
// one's median run time and overhead-% = (otel - noop) / noop of the
// medians. ns/op is one run of each.
//
//   - llm: 10 llm steps on an in-process provider answering in 1 ms;
//   - transform: 10 transform steps, no I/O (the worst case).
func BenchmarkOverhead(b *testing.B) {
	for _, kind := range []string{"llm", "transform"} {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			tel, err := telemetry.Setup(ctx, telemetry.Options{Getenv: func(string) string { return "" }})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = tel.Shutdown(ctx) }()
			set := sleepProviders(b, time.Millisecond)
			newPlan := func(mp metric.MeterProvider) (*engine.Engine, *engine.Plan) {
				e, err := engine.New(engine.WithProviders(set), engine.WithMeterProvider(mp), engine.WithLogger(quiet()))
				if err != nil {
					b.Fatal(err)
				}
				p, err := e.Load("overhead.yaml", []byte(overheadWorkflow(kind)))
				if err != nil {
					b.Fatal(err)
				}
				return e, p
			}
			eOTel, pOTel := newPlan(tel.MeterProvider())
			eNoop, pNoop := newPlan(metricnoop.NewMeterProvider())
			run := func(e *engine.Engine, p *engine.Plan, lat *sampler) {
				t0 := time.Now()
				res, err := e.Run(ctx, p, nil)
				lat.add(time.Since(t0))
				if err != nil || res.Status != "success" {
					b.Fatalf("run: %v %+v", err, res)
				}
			}
			otel, noop := newSampler(), newSampler()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%2 == 0 { // alternate which goes first
					run(eNoop, pNoop, noop)
					run(eOTel, pOTel, otel)
				} else {
					run(eOTel, pOTel, otel)
					run(eNoop, pNoop, noop)
				}
			}
			o, n := float64(otel.p50()), float64(noop.p50())
			b.ReportMetric(o, "otel-ns/run")
			b.ReportMetric(n, "noop-ns/run")
			b.ReportMetric(100*(o-n)/n, "overhead-%")
		})
	}
}
