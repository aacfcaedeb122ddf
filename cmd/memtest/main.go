// Command memtest measures the memory held by in-flight runs, behind
// `make mem`.
//
// It wires the serve pipeline in process (telemetry with the Prometheus
// exporter, the metrics recorder, the engine on the simulated provider and,
// with -mode api, the HTTP API handler), starts -runs runs of a one-step llm
// workflow whose simulated model answers after -latency, waits until every
// run is inside its provider call, and compares the live heap (after a full
// GC) with the heap before the runs started. It prints the heap and the
// goroutine stacks per in-flight run and the process's peak RSS (VmHWM).
//
//   - mode engine: one goroutine per run calling engine.Run (the runs a
//     library user holds);
//   - mode api: POST /v1/workflows/mem/runs?async=true through the server's
//     handler (no sockets): the run document in the history, the
//     admission slot and the run's goroutine are included.
//
// It sends no network traffic and stops by itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/builtin"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
	"github.com/orchestrator-dev/orchestrator/pkg/server"
	"github.com/orchestrator-dev/orchestrator/pkg/telemetry"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "memtest:", err)
		os.Exit(1)
	}
}

func run() error {
	runs := flag.Int("runs", 10_000, "concurrent in-flight runs")
	latency := flag.Duration("latency", time.Second, "simulated model latency (every run must still be in flight when measured)")
	mode := flag.String("mode", "engine", "engine (engine.Run per goroutine) or api (async POSTs through the HTTP handler)")
	flag.Parse()
	if *runs < 1 || *latency < 100*time.Millisecond {
		return errors.New("-runs must be >= 1 and -latency >= 100ms")
	}
	if *mode != "engine" && *mode != "api" {
		return fmt.Errorf("-mode must be engine or api, got %q", *mode)
	}
	ctx := context.Background()
	noEnv := func(string) string { return "" }
	tel, err := telemetry.Setup(ctx, telemetry.Options{Getenv: noEnv})
	if err != nil {
		return err
	}
	defer func() { _ = tel.Shutdown(ctx) }()
	rec, err := instrument.New(tel.MeterProvider())
	if err != nil {
		return err
	}
	set, err := builtin.Registry().NewSet(builtin.DefaultConfigs(noEnv))
	if err != nil {
		return err
	}
	var progress counter
	log := slog.New(slog.DiscardHandler)
	eng, err := engine.New(engine.WithProviders(set), engine.WithObserver(rec), engine.WithObserver(&progress),
		engine.WithLogger(log))
	if err != nil {
		return err
	}
	src := fmt.Sprintf(`name: mem
inputs:
  text: {default: hello}
steps:
  - id: answer
    type: llm
    provider: simulated
    model: sim-default
    latency_ms: %d
    prompt: "Reply to {{ inputs.text }}"
`, latency.Milliseconds())
	plan, err := eng.Load("mem.yaml", []byte(src))
	if err != nil {
		return err
	}

	var start func() error
	var wg sync.WaitGroup
	var failed atomic.Int64
	var srv *server.Server
	switch *mode {
	case "engine":
		inputs := map[string]any{"text": "hello"}
		start = func() error {
			wg.Go(func() {
				if res, err := eng.Run(ctx, plan, inputs); err != nil || res.Status != observe.StatusSuccess {
					failed.Add(1)
				}
			})
			return nil
		}
	case "api":
		srv, err = server.New(eng, server.WithWorkflows(plan), server.WithMaxInflight(*runs+64),
			server.WithMeterProvider(tel.MeterProvider()), server.WithLogger(log))
		if err != nil {
			return err
		}
		h := srv.Handler()
		start = func() error {
			req := httptest.NewRequest(http.MethodPost, "/v1/workflows/mem/runs?async=true", strings.NewReader(`{"inputs":{"text":"hello"}}`))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusAccepted {
				return fmt.Errorf("POST: %d %s", w.Code, w.Body)
			}
			return nil
		}
	}

	before := liveMem()
	t0 := time.Now()
	for range *runs {
		if err := start(); err != nil {
			return err
		}
	}
	for progress.inFlight() < int64(*runs) {
		if progress.finished.Load() > 0 {
			return fmt.Errorf("a run finished before all %d were in flight (%s to start them): raise -latency", *runs, time.Since(t0))
		}
		time.Sleep(time.Millisecond)
	}
	started := time.Since(t0)
	during := liveMem()
	if n := progress.finished.Load(); n > 0 {
		return fmt.Errorf("%d runs finished before the measurement: raise -latency", n)
	}

	wg.Wait()
	if srv != nil {
		if err := srv.Wait(ctx); err != nil {
			return err
		}
	}
	for progress.finished.Load() < int64(*runs) {
		time.Sleep(time.Millisecond)
	}
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d runs failed", n)
	}
	rss, err := peakRSS()
	if err != nil {
		return err
	}
	n := float64(*runs)
	kib := func(b uint64, a uint64) float64 { return (float64(b) - float64(a)) / n / 1024 }
	fmt.Printf("mode=%s runs=%d latency=%s started_in=%s goroutines_in_flight=%d\n",
		*mode, *runs, *latency, started.Round(time.Millisecond), during.goroutines)
	fmt.Printf("heap/run=%.1f KiB (live heap %.1f -> %.1f MiB) stack/run=%.1f KiB\n",
		kib(during.heap, before.heap), mib(before.heap), mib(during.heap), kib(during.stack, before.stack))
	fmt.Printf("peak RSS=%.1f MiB (%.1f KiB/run over the idle process)\n", mib(rss), kib(rss, before.rss))
	return nil
}

// counter counts runs inside their provider call and finished runs.
type counter struct {
	observe.Nop
	steps, requests, finished atomic.Int64
}

func (c *counter) StepStarted(context.Context, observe.StepStart) { c.steps.Add(1) }
func (c *counter) ProviderRequestFinished(context.Context, observe.ProviderRequest) {
	c.requests.Add(1)
}
func (c *counter) RunFinished(context.Context, observe.RunEnd) { c.finished.Add(1) }

// inFlight is the number of runs whose llm step started and whose provider
// request has not returned.
func (c *counter) inFlight() int64 { return c.steps.Load() - c.requests.Load() }

type mem struct {
	heap, stack, rss uint64
	goroutines       int
}

// liveMem collects garbage twice (the second pass frees what finalizers
// released) and reads the live heap, the stacks in use and the RSS.
func liveMem() mem {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, _ := statusKB("VmRSS:")
	return mem{heap: ms.HeapAlloc, stack: ms.StackInuse, rss: rss, goroutines: runtime.NumGoroutine()}
}

func peakRSS() (uint64, error) { return statusKB("VmHWM:") }

// statusKB reads a "kB" field of /proc/self/status, in bytes.
func statusKB(field string) (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", field)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
