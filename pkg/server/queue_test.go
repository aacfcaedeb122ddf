package server_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/orchestrator-dev/orchestrator/pkg/server"
)

// queueState reads orchestrator.run.queue_depth and the count and sum of
// orchestrator.run.queue_wait.
func queueState(t *testing.T, r *sdkmetric.ManualReader) (depth int64, waits uint64, waitSum float64) {
	t.Helper()
	rm := collect(t, r)
	if m, ok := find(rm, "orchestrator.run.queue_depth"); ok {
		for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
			depth += p.Value
		}
	}
	if m, ok := find(rm, "orchestrator.run.queue_wait"); ok {
		for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
			waits += p.Count
			waitSum += p.Sum
		}
	}
	return depth, waits, waitSum
}

// sumInt64 returns the value of the int64 counter name at the attributes kv.
func sumInt64(t *testing.T, r *sdkmetric.ManualReader, name string, kv ...attribute.KeyValue) int64 {
	t.Helper()
	m, ok := find(collect(t, r), name)
	if !ok {
		return 0
	}
	want := attribute.NewSet(kv...)
	for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if p.Attributes.Equals(&want) {
			return p.Value
		}
	}
	return 0
}

// TestQueue: with one run slot, asynchronous runs wait first in first out
// (status "queued"), the queue is bounded (429 queue_full), synchronous
// runs are still rejected (429 max_inflight), and the queue metrics go up
// and back to 0 with one wait per executed run.
func TestQueue(t *testing.T) {
	e, rec := newEnv(t, server.WithMaxInflight(1), server.WithMaxQueued(2))
	// Rejected before running: no queue wait either.
	if r := e.do("POST", "/v1/workflows/echo/runs", `{"inputs":{"nope":1}}`); r.code != 400 {
		t.Fatalf("invalid inputs: %d %s", r.code, r.raw)
	}
	running := e.do("POST", "/v1/workflows/slow/runs?async=true", ``)
	if running.code != 202 {
		t.Fatalf("first run: %d %s", running.code, running.raw)
	}
	e.fake.waitBlocked(t, 1)

	a := e.do("POST", "/v1/workflows/slow/runs?async=true", ``)
	if a.code != 202 || a.header.Get("Location") != "/v1/runs/"+a.body["id"].(string) {
		t.Fatalf("queued run: %d %v %s", a.code, a.header, a.raw)
	}
	if g := e.do("GET", "/v1/runs/"+a.body["id"].(string), ""); g.code != 200 || g.body["status"] != server.StatusQueued || g.body["workflow"] != "slow" {
		t.Errorf("queued run document: %d %s", g.code, g.raw)
	}
	// Invalid inputs of a run that would queue are answered at once.
	if r := e.do("POST", "/v1/workflows/echo/runs?async=true", `{"inputs":{"nope":1}}`); r.code != 400 || !strings.Contains(r.raw, `unknown input \"nope\"`) {
		t.Errorf("invalid inputs while queueing: %d %s", r.code, r.raw)
	}
	b := e.do("POST", "/v1/runs?async=true", jsonBody(t, map[string]any{"workflow": blockWorkflow}))
	if b.code != 202 {
		t.Fatalf("second queued run: %d %s", b.code, b.raw)
	}
	full := e.do("POST", "/v1/workflows/slow/runs?async=true", ``)
	if full.code != 429 || full.header.Get("Retry-After") != "1" || !strings.Contains(full.raw, "run queue is full") {
		t.Errorf("full queue: %d %v %s", full.code, full.header, full.raw)
	}
	if r := e.do("POST", "/v1/workflows/echo/runs", ``); r.code != 429 || !strings.Contains(r.raw, "too many runs in flight") {
		t.Errorf("sync run past the limit: %d %s", r.code, r.raw)
	}
	if depth, waits, _ := queueState(t, e.reader); depth != 2 || waits != 1 {
		t.Errorf("while queued: depth %d, waits %d; want 2 and 1 (the first run, which did not wait)", depth, waits)
	}

	e.fake.releaseAll()
	if err := e.srv.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids := []string{running.body["id"].(string), a.body["id"].(string), b.body["id"].(string)}
	for _, id := range ids {
		if g := e.do("GET", "/v1/runs/"+id, ""); g.body["status"] != "success" {
			t.Errorf("run %s: %s", id, g.raw)
		}
	}
	rec.mu.Lock()
	order := slices.Clone(rec.started)
	rec.mu.Unlock()
	if !slices.Equal(order, ids) {
		t.Errorf("runs started in order %v, want %v (first in, first out)", order, ids)
	}
	depth, waits, sum := queueState(t, e.reader)
	if depth != 0 || waits != 3 || sum <= 0 {
		t.Errorf("after the runs: depth %d, waits %d (sum %gs); want 0, 3 (one per executed run), > 0", depth, waits, sum)
	}
	if n := sumInt64(t, e.reader, "orchestrator.workflow.executions", attribute.String("status", "success"), attribute.String("workflow_name", "slow")); n != 3 {
		t.Errorf("executions %d, want 3", n)
	}
	assertRejections(t, e.reader, map[string]int64{server.ReasonQueueFull: 1, server.ReasonMaxInflight: 1, server.ReasonInvalidInputs: 2})
}

// TestQueueOff: with --max-queued 0 an asynchronous run past the limit is
// rejected like a synchronous one.
func TestQueueOff(t *testing.T) {
	e, _ := newEnv(t, server.WithMaxInflight(1), server.WithMaxQueued(0))
	if r := e.do("POST", "/v1/workflows/slow/runs?async=true", ``); r.code != 202 {
		t.Fatalf("first run: %d", r.code)
	}
	e.fake.waitBlocked(t, 1)
	if r := e.do("POST", "/v1/workflows/slow/runs?async=true", ``); r.code != 429 || !strings.Contains(r.raw, "limit 1") {
		t.Errorf("async past the limit: %d %s", r.code, r.raw)
	}
	assertRejections(t, e.reader, map[string]int64{server.ReasonMaxInflight: 1})
}

// TestQueueDrain: queued runs keep running while the server drains; past
// the deadline the running and the queued runs are cancelled, answered as
// failures of type canceled and counted, and the queue empties.
func TestQueueDrain(t *testing.T) {
	submit := func(e *env, n int) []string {
		var ids []string
		for range n {
			r := e.do("POST", "/v1/workflows/slow/runs?async=true", ``)
			if r.code != 202 {
				t.Fatalf("submit: %d %s", r.code, r.raw)
			}
			ids = append(ids, r.body["id"].(string))
		}
		return ids
	}
	t.Run("queued runs run during the drain", func(t *testing.T) {
		e, _ := newEnv(t, server.WithMaxInflight(1))
		ids := submit(e, 1)
		e.fake.waitBlocked(t, 1)
		ids = append(ids, submit(e, 2)...)
		e.srv.Drain()
		if r := e.do("POST", "/v1/workflows/slow/runs?async=true", ``); r.code != 503 {
			t.Errorf("async run while draining: %d", r.code)
		}
		done := make(chan error, 1)
		go func() { done <- e.srv.Wait(context.Background()) }()
		e.fake.releaseAll()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if g := e.do("GET", "/v1/runs/"+id, ""); g.body["status"] != "success" {
				t.Errorf("run %s: %s", id, g.raw)
			}
		}
		if depth, waits, _ := queueState(t, e.reader); depth != 0 || waits != 3 {
			t.Errorf("depth %d, waits %d; want 0 and 3", depth, waits)
		}
	})
	t.Run("past the deadline queued runs are cancelled", func(t *testing.T) {
		e, _ := newEnv(t, server.WithMaxInflight(1))
		ids := submit(e, 1)
		e.fake.waitBlocked(t, 1)
		ids = append(ids, submit(e, 2)...)
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		err := e.srv.Wait(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "cancelled 3 in-flight runs") {
			t.Fatalf("Wait: %v", err)
		}
		for _, id := range ids {
			g := e.do("GET", "/v1/runs/"+id, "")
			if errInfo, _ := g.body["error"].(map[string]any); g.body["status"] != "failure" || errInfo["type"] != "canceled" {
				t.Errorf("run %s: %s", id, g.raw)
			}
		}
		if depth, waits, _ := queueState(t, e.reader); depth != 0 || waits != 3 {
			t.Errorf("depth %d, waits %d; want 0 and 3", depth, waits)
		}
		if n := sumInt64(t, e.reader, "orchestrator.errors", attribute.String("error_type", "canceled"), attribute.String("component", "executor")); n != 3 {
			t.Errorf("canceled runs counted %d, want 3", n)
		}
	})
}
