package telemetry_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/telemetry/otlptest"
)

// waitFor polls cond (a condition on logs or received data, not a timing
// assertion) until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestOTLPOutage: with nothing listening the service keeps recording, memory
// stays bounded, failures are logged once per interval; when the receiver
// comes back, export resumes by itself with the correct cumulative counts.
func TestOTLPOutage(t *testing.T) {
	ctx := context.Background()
	recv := otlptest.Start(t)
	recv.Stop() // the collector is down
	var logs syncBuffer
	tel := setup(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": recv.Endpoint(),
		"OTEL_METRIC_EXPORT_INTERVAL": "20",
		"OTEL_METRIC_EXPORT_TIMEOUT":  "500",
	}, &logs)
	rec := newRecorder(t, tel)

	feed(ctx, rec)
	waitFor(t, "a failed export", func() bool { return len(logs.lines(t, "otlp metric export failed")) > 0 })
	before := heapAlloc()
	const rounds = 5000 // 10,000 runs
	for range rounds - 1 {
		feed(ctx, rec)
	}
	if grown := int64(heapAlloc()) - int64(before); grown > 4<<20 {
		t.Errorf("heap grew by %d bytes over %d runs during the outage", grown, 2*rounds)
	}
	// Let more exports fail: they must not produce more log lines.
	failures := logs.lines(t, "otlp metric export failed")
	time.Sleep(200 * time.Millisecond)
	if n := len(logs.lines(t, "otlp metric export failed")); n != 1 || len(failures) != 1 {
		t.Errorf("logged %d failure lines, want 1 (rate limited)", n)
	}
	if msg, _ := failures[0]["error"].(string); !strings.Contains(msg, "connection refused") && !strings.Contains(msg, "Unavailable") {
		t.Errorf("failure line error = %q", msg)
	}

	recv.Restart(t)
	req := waitExecutions(t, recv, rounds)
	m := req.Metric("orchestrator.llm.requests")
	if got, _ := otlptest.IntValue(m, "provider", "openai", "model", "gpt-4o-mini", "status", "failure"); got != rounds {
		t.Errorf("llm failures = %d, want %d", got, rounds)
	}
	if got, _ := otlptest.IntValue(req.Metric("orchestrator.active_workflows")); got != 0 {
		t.Errorf("active workflows = %d, want 0", got)
	}
	waitFor(t, "the recovery line", func() bool { return len(logs.lines(t, "otlp metric export recovered")) == 1 })
	rl := logs.lines(t, "otlp metric export recovered")[0]
	if n, _ := rl["failed_exports"].(float64); n < 2 {
		t.Errorf("recovery line reports %v failed exports, want >= 2", rl["failed_exports"])
	}
}

// waitExecutions waits for an export whose cumulative workflow executions
// are n successes and n failures.
func waitExecutions(t *testing.T, recv *otlptest.Receiver, n int64) otlptest.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var last otlptest.Request
	err := recv.Wait(ctx, func(reqs []otlptest.Request) bool {
		req, ok := otlptest.Last(reqs, "orchestrator.workflow.executions")
		if !ok {
			return false
		}
		last = req
		m := req.Metric("orchestrator.workflow.executions")
		s, _ := otlptest.IntValue(m, "status", "success", "workflow_name", "triage")
		f, _ := otlptest.IntValue(m, "status", "failure", "workflow_name", "triage")
		return s == n && f == n
	})
	if err != nil {
		t.Fatalf("no export with %d runs of each status: %v", n, err)
	}
	return last
}

// TestOTLPBlackhole: a backend that accepts connections and never answers
// does not stop recording or /metrics, and Shutdown is bounded by its ctx.
func TestOTLPBlackhole(t *testing.T) {
	ctx := context.Background()
	addr := otlptest.StartBlackhole(t)
	var logs syncBuffer
	tel := setup(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + addr,
		"OTEL_METRIC_EXPORT_INTERVAL": "20",
		"OTEL_METRIC_EXPORT_TIMEOUT":  "100",
	}, &logs)
	rec := newRecorder(t, tel)
	for range 1000 {
		feed(ctx, rec)
	}
	waitFor(t, "a failed export", func() bool { return len(logs.lines(t, "otlp metric export failed")) > 0 })
	for range 1000 {
		feed(ctx, rec)
	}
	if body := scrape(t, tel.MetricsHandler()); !strings.Contains(body,
		`orchestrator_workflow_executions_total{status="success",workflow_name="triage"} 2000`+"\n") {
		t.Error("/metrics lacks the 2000 successful runs")
	}
	sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := tel.Shutdown(sctx); err == nil {
		t.Error("Shutdown reported success although the final export cannot be delivered")
	}
}
