package reliability_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/app"
	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
	"github.com/orchestrator-dev/orchestrator/pkg/telemetry"
)

// distinctWorkflow is a one-step workflow named name.
func distinctWorkflow(name string) string {
	return "name: " + name + "\nsteps:\n  - {id: a, type: transform, function: template, template: hi}\n"
}

// exposition is a parsed /metrics scrape: its sample lines by series.
type exposition map[string]float64

func parseExposition(t testing.TB, body string) exposition {
	t.Helper()
	out := exposition{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func scrape(t testing.TB, h http.Handler) exposition {
	t.Helper()
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rr.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rr.Code)
	}
	return parseExposition(t, rr.Body.String())
}

// heapMiB is the live heap after a full collection.
func heapMiB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// TestCardinalityEngine loads and runs 100,000 workflows of distinct names
// (10,000 with -short) through the engine, recording on the telemetry
// package's MeterProvider, and scrapes /metrics along the way. Past the
// instrument's bound of 200 workflow names every name becomes "_other": the
// series count stops growing, the overflow is counted, and the heap stays
// flat.
func TestCardinalityEngine(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	const bound = 200 // instrument's default WithMaxWorkflowNames
	tel, err := telemetry.Setup(t.Context(), telemetry.Options{Getenv: func(string) string { return "" },
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tel.Shutdown(context.Background()) }()
	rec, err := instrument.New(tel.MeterProvider())
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.WithObserver(rec), engine.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}

	// The runs go in phases, each run by one worker per CPU; /metrics and
	// the heap are measured between phases.
	workers, ctx := runtime.GOMAXPROCS(0), t.Context()
	var firstSeries int
	var firstHeap float64
	start, done := time.Now(), 0
	for _, upto := range []int{1_000, n / 10, n / 2, n} {
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := done + 1 + w; i <= upto; i += workers {
					plan, err := e.Load("wf.yaml", []byte(distinctWorkflow(fmt.Sprintf("wf-%06d", i))))
					if err != nil {
						errs[w] = err
						return
					}
					if res, err := e.Run(ctx, plan, nil); err != nil || res.Status != "success" {
						errs[w] = fmt.Errorf("run %d: %v %+v", i, err, res)
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		done = upto
		exp := scrape(t, tel.MetricsHandler())
		heap := heapMiB()
		t.Logf("after %6d runs: %d series on /metrics, heap %.1f MiB, %.1f µs per load+run so far (%d workers)",
			done, len(exp), heap, float64(time.Since(start).Microseconds())/float64(done), workers)
		switch done {
		case n / 10:
			firstSeries, firstHeap = len(exp), heap
		case n:
			if len(exp) != firstSeries {
				t.Errorf("/metrics grew from %d to %d series between %d and %d runs", firstSeries, len(exp), n/10, n)
			}
			// A leak of even 100 bytes per run would add ~9 MiB here.
			if growth := heap - firstHeap; growth > 4 {
				t.Errorf("heap grew by %.1f MiB between %d and %d runs", growth, n/10, n)
			}
			checkOverflow(t, exp, n, bound)
		}
	}
}

// checkOverflow checks the exact counts of a scrape after n distinct
// workflow names with the given bound.
func checkOverflow(t testing.TB, exp exposition, n, bound int) {
	t.Helper()
	named := 0
	for k := range exp {
		if strings.HasPrefix(k, "orchestrator_workflow_executions_total{") && !strings.Contains(k, `workflow_name="_other"`) {
			named++
		}
	}
	for series, want := range map[string]float64{
		`orchestrator_workflow_executions_total{status="success",workflow_name="_other"}`: float64(n - bound),
		`orchestrator_label_overflow_total{label="workflow_name"}`:                        float64(n - bound),
		`orchestrator_workflow_duration_seconds_count{workflow_name="_other"}`:            float64(n - bound),
		`orchestrator_step_executions_total{status="success",step_type="transform"}`:      float64(n),
		`orchestrator_active_workflows`:                                                   0,
	} {
		if got, ok := exp[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	if named != bound {
		t.Errorf("%d named workflow_name series, want %d", named, bound)
	}
}

// TestCardinalitySDKLimit turns the instrument's own bound off and leaves
// the SDK's cardinality limit (telemetry.Options.CardinalityLimit) as the
// only guard: 100,000 names of recorder events fold into the SDK's
// otel_metric_overflow series and /metrics stays bounded.
func TestCardinalitySDKLimit(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	const limit = 1000
	tel, err := telemetry.Setup(t.Context(), telemetry.Options{Getenv: func(string) string { return "" },
		Logger: slog.New(slog.DiscardHandler), CardinalityLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tel.Shutdown(context.Background()) }()
	rec, err := instrument.New(tel.MeterProvider(), instrument.WithMaxWorkflowNames(n))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for i := 1; i <= n; i++ {
		wf := fmt.Sprintf("wf-%06d", i)
		rec.RunStarted(ctx, observe.RunStart{Workflow: wf})
		rec.RunFinished(ctx, observe.RunEnd{Workflow: wf, Status: observe.StatusSuccess, Duration: time.Millisecond})
	}
	exp := scrape(t, tel.MetricsHandler())
	perName, total := 0, 0.0
	for k, v := range exp {
		if strings.HasPrefix(k, "orchestrator_workflow_executions_total{") {
			perName++
			total += v
		}
	}
	t.Logf("%d names with the SDK limit %d: %d workflow_executions series, %d series on /metrics, heap %.1f MiB",
		n, limit, perName, len(exp), heapMiB())
	if perName != limit {
		t.Errorf("%d workflow_executions series, want the SDK limit %d (limit-1 names and the overflow series)", perName, limit)
	}
	if over := exp[`orchestrator_workflow_executions_total{otel_metric_overflow="true"}`]; over != float64(n-limit+1) {
		t.Errorf("overflow series = %v, want %d", over, n-limit+1)
	}
	if total != float64(n) {
		t.Errorf("sum of workflow_executions = %v, want %d: the overflow series must keep the total", total, n)
	}
}

// TestCardinalityServe posts inline workflows of distinct names to
// `orchestrator serve` while a prober hits /health/live; every probe must
// answer 200, and /metrics and the heap must stop growing once the names
// overflow.
func TestCardinalityServe(t *testing.T) {
	n := 3_000
	if testing.Short() {
		n = 1_000
	}
	const bound = 200 // app.DefaultOptions().MaxWorkflowNames
	in := startServe(t, func(o *app.Options) { o.LogLevel = "warn" })

	var (
		wg             sync.WaitGroup
		probes, failed int
		slowest        time.Duration
		stopProbe      = make(chan struct{})
		probeClient    = newClient(t)
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopProbe:
				return
			case <-tick.C:
			}
			begin := time.Now()
			resp, err := probeClient.Get(in.base + "/health/live")
			probes++
			slowest = max(slowest, time.Since(begin))
			if err != nil {
				failed++
				continue
			}
			if resp.StatusCode != http.StatusOK {
				failed++
			}
			resp.Body.Close()
		}
	}()

	var firstSeries int
	var firstHeap float64
	var firstExp exposition
	in.do("GET", "/metrics", "") // the first scrape adds the HTTP series of /metrics itself
	for i := 1; i <= n; i++ {
		body, _ := json.Marshal(map[string]any{"workflow": distinctWorkflow(fmt.Sprintf("api-%05d", i))})
		req, _ := http.NewRequest(http.MethodPost, in.base+"/v1/runs", strings.NewReader(string(body)))
		resp, err := in.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("run %d: %d", i, resp.StatusCode)
		}
		if i != n/3 && i != n {
			continue
		}
		exp := parseExposition(t, in.do("GET", "/metrics", "").raw)
		heap := heapMiB()
		t.Logf("after %5d API runs: %d series on /metrics, heap %.1f MiB (server and test in one process)", i, len(exp), heap)
		if i == n/3 {
			firstSeries, firstHeap, firstExp = len(exp), heap, exp
			continue
		}
		if len(exp) != firstSeries {
			t.Errorf("/metrics grew from %d to %d series", firstSeries, len(exp))
			for k := range exp {
				if _, ok := firstExp[k]; !ok {
					t.Logf("new series: %s", k)
				}
			}
		}
		if growth := heap - firstHeap; growth > 8 {
			t.Errorf("heap grew by %.1f MiB between %d and %d API runs", growth, n/3, n)
		}
		for series, want := range map[string]float64{
			`orchestrator_workflow_executions_total{status="success",workflow_name="_other"}`: float64(n - bound),
			`orchestrator_label_overflow_total{label="workflow_name"}`:                        float64(n - bound),
		} {
			if exp[series] != want {
				t.Errorf("%s = %v, want %v", series, exp[series], want)
			}
		}
	}
	close(stopProbe)
	wg.Wait()
	t.Logf("liveness: %d probes during the runs, %d failed, slowest %v", probes, failed, slowest.Round(time.Millisecond))
	if failed > 0 || probes == 0 {
		t.Errorf("liveness: %d of %d probes failed", failed, probes)
	}
	if err := in.stop(); err != nil {
		t.Error(err)
	}
}
