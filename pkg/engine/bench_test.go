package engine_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/transform"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// noopSpec is the trivial step type of the benchmarks: it returns a small
// constant object and does no work.
func noopSpec() step.Spec {
	obj := map[string]any{"result": "ok"}
	return step.Spec{
		Type:      "noop",
		NewConfig: func() any { return new(struct{}) },
		Build: func(step.Builder, *workflow.Step) step.Executor {
			return step.ExecutorFunc(func(context.Context, step.Runtime) (step.Result, error) {
				return step.Result{Object: obj, Values: []any{"ok"}}, nil
			})
		},
	}
}

// spinSpec is the CPU-bound step type of the benchmarks: it hashes 64 KiB
// (tens of microseconds of CPU, no I/O), so that a fan-out can show whether
// it keeps both cores busy.
func spinSpec() step.Spec {
	buf := make([]byte, 64<<10)
	return step.Spec{
		Type:      "spin",
		NewConfig: func() any { return new(struct{}) },
		Build: func(step.Builder, *workflow.Step) step.Executor {
			return step.ExecutorFunc(func(context.Context, step.Runtime) (step.Result, error) {
				sum := sha256.Sum256(buf)
				return step.Result{Object: map[string]any{"result": sum[0]}}, nil
			})
		},
	}
}

func benchEngine(b *testing.B) *engine.Engine {
	r := step.NewRegistry()
	r.Register(noopSpec())
	r.Register(spinSpec())
	r.Register(transform.Spec())
	e, err := engine.New(engine.WithSteps(r), engine.WithLogger(quiet()))
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// stepYAML is one step of the given kind.
func stepYAML(kind, id string, deps ...string) string {
	dep := ""
	if len(deps) > 0 {
		dep = ", depends_on: [" + strings.Join(deps, ", ") + "]"
	}
	if kind == "noop" || kind == "spin" {
		return fmt.Sprintf("  - {id: %s, type: %s%s}\n", id, kind, dep)
	}
	tpl := "x"
	if len(deps) > 0 {
		tpl = "{{ steps." + deps[0] + ".result }}x"
	}
	return fmt.Sprintf("  - {id: %s, type: transform, function: template, template: %q%s}\n", id, tpl, dep)
}

// benchRun runs the workflow build(kind) for each step kind (noop and
// transform are trivial, spin is CPU-bound) and
// reports, besides ns/op (one run of 10 steps): ns/step (mean), p50-ns/step
// (median run / 10), steps/s, and cores: process CPU time (user+sys, from
// getrusage) over wall time, i.e. how many cores the runs kept busy.
func benchRun(b *testing.B, build func(kind string) string) {
	for _, kind := range []string{"noop", "transform", "spin"} {
		b.Run(kind, func(b *testing.B) {
			e := benchEngine(b)
			p, err := e.Load("bench.yaml", []byte(build(kind)))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			lat := newSampler()
			b.ReportAllocs()
			cpu0, wall0 := cpuTime(b), time.Now()
			for b.Loop() {
				t0 := time.Now()
				res, err := e.Run(ctx, p, nil)
				lat.add(time.Since(t0))
				if err != nil || res.Status != "success" {
					b.Fatalf("run: %v %+v", err, res)
				}
			}
			cpu, wall := cpuTime(b)-cpu0, time.Since(wall0)
			perStep := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / 10
			b.ReportMetric(perStep, "ns/step")
			b.ReportMetric(float64(lat.p50().Nanoseconds())/10, "p50-ns/step")
			b.ReportMetric(1e9/perStep, "steps/s")
			b.ReportMetric(float64(cpu)/float64(wall), "cores")
		})
	}
}

// BenchmarkLinear10 runs a chain of 10 trivial steps.
func BenchmarkLinear10(b *testing.B) {
	benchRun(b, func(kind string) string {
		src := "name: linear\nsteps:\n" + stepYAML(kind, "s0")
		for i := 1; i < 10; i++ {
			src += stepYAML(kind, fmt.Sprint("s", i), fmt.Sprint("s", i-1))
		}
		return src
	})
}

// BenchmarkFanout10 runs 10 independent trivial steps at once.
func BenchmarkFanout10(b *testing.B) {
	benchRun(b, func(kind string) string {
		src := "name: fanout\nmax_concurrency: 10\nsteps:\n"
		for i := range 10 {
			src += stepYAML(kind, fmt.Sprint("s", i))
		}
		return src
	})
}
