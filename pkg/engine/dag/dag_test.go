package dag_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/dag"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// node describes a fake node: how long it runs and how it ends.
type node struct {
	name   string
	deps   []string
	sleep  time.Duration
	status dag.Status // default Succeeded
}

// recorder is a Handler that sleeps (fake time inside synctest), records
// start/end times and the peak number of nodes running at once.
type recorder struct {
	nodes []node
	stop  func() bool // Stopped; nil: never

	mu      sync.Mutex
	running int
	peak    int
	started map[string]time.Duration
	ended   map[string]time.Duration
	skipped map[string]string
	seen    map[string]int
	t0      time.Time
}

func build(t *testing.T, nodes []node) (*dag.Graph, *recorder) {
	t.Helper()
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.name
	}
	deps := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, d := range n.deps {
			deps[i] = append(deps[i], slices.Index(names, d))
		}
	}
	g, err := dag.New(names, deps)
	if err != nil {
		t.Fatal(err)
	}
	return g, &recorder{nodes: nodes, started: map[string]time.Duration{}, ended: map[string]time.Duration{},
		skipped: map[string]string{}, seen: map[string]int{}, t0: time.Now()}
}

func (r *recorder) Execute(ctx context.Context, i int) dag.Status {
	n := r.nodes[i]
	r.mu.Lock()
	r.seen[n.name]++
	r.started[n.name] = time.Since(r.t0)
	r.running++
	r.peak = max(r.peak, r.running)
	r.mu.Unlock()
	select {
	case <-time.After(n.sleep):
	case <-ctx.Done():
	}
	r.mu.Lock()
	r.running--
	r.ended[n.name] = time.Since(r.t0)
	r.mu.Unlock()
	if n.status == 0 {
		return dag.Succeeded
	}
	return n.status
}

func (r *recorder) Skip(i int, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[r.nodes[i].name]++
	r.skipped[r.nodes[i].name] = reason
}

func (r *recorder) Stopped() bool { return r.stop != nil && r.stop() }

func (r *recorder) checkOnce(t *testing.T) {
	t.Helper()
	for _, n := range r.nodes {
		if r.seen[n.name] != 1 {
			t.Errorf("node %s seen %d times, want exactly once", n.name, r.seen[n.name])
		}
	}
}

// run runs the graph inside a synctest bubble, so sleeps take fake time.
func run(t *testing.T, nodes []node, limit int) (*recorder, dag.Outcome) {
	t.Helper()
	var rec *recorder
	var out dag.Outcome
	synctest.Test(t, func(t *testing.T) {
		var g *dag.Graph
		g, rec = build(t, nodes)
		out = g.Run(t.Context(), limit, rec)
	})
	rec.checkOnce(t)
	return rec, out
}

func TestIndependentNodesOverlap(t *testing.T) {
	rec, out := run(t, []node{
		{name: "a", sleep: time.Second},
		{name: "b", deps: []string{"a"}, sleep: time.Second},
		{name: "c", deps: []string{"a"}, sleep: time.Second},
		{name: "d", deps: []string{"b", "c"}, sleep: time.Second},
	}, 8)
	if rec.peak != 2 {
		t.Errorf("peak concurrency %d, want 2 (b and c overlap)", rec.peak)
	}
	if rec.started["b"] != time.Second || rec.started["c"] != time.Second || rec.started["d"] != 2*time.Second {
		t.Errorf("starts %v, want b and c at 1s, d at 2s", rec.started)
	}
	if out != (dag.Outcome{Failed: -1}) {
		t.Errorf("outcome %+v", out)
	}
}

func TestNothingWaitsOnUnrelated(t *testing.T) {
	rec, _ := run(t, []node{
		{name: "slow", sleep: 10 * time.Second},
		{name: "fast", sleep: time.Second},
		{name: "after_fast", deps: []string{"fast"}, sleep: time.Second},
		{name: "after_both", deps: []string{"slow", "after_fast"}},
	}, 8)
	if rec.started["after_fast"] != time.Second {
		t.Errorf("after_fast started at %v, want 1s (not waiting for slow)", rec.started["after_fast"])
	}
	if rec.started["after_both"] != 10*time.Second {
		t.Errorf("after_both started at %v, want 10s", rec.started["after_both"])
	}
}

func TestLimit(t *testing.T) {
	for _, limit := range []int{1, 3, 10, 0} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			var nodes []node
			for i := range 10 {
				nodes = append(nodes, node{name: fmt.Sprint("n", i), sleep: time.Second})
			}
			rec, _ := run(t, nodes, limit)
			want := limit
			if limit == 0 {
				want = 10
			}
			if rec.peak != want {
				t.Errorf("peak concurrency %d, want %d", rec.peak, want)
			}
		})
	}
}

func TestFailFast(t *testing.T) {
	rec, out := run(t, []node{
		{name: "a", sleep: time.Second, status: dag.Failed},
		{name: "long", sleep: 5 * time.Second},
		{name: "after_a", deps: []string{"a"}},
		{name: "after_long", deps: []string{"long"}},
		{name: "after_both", deps: []string{"after_a", "after_long"}},
	}, 8)
	if out.Failed != 0 || out.Stopped != "run stopped after a failure" {
		t.Errorf("outcome %+v", out)
	}
	if rec.ended["long"] != 5*time.Second {
		t.Errorf("running node long ended at %v, want 5s (it finishes)", rec.ended["long"])
	}
	want := map[string]string{
		"after_a":    `dependency "a" failed`,
		"after_long": "run stopped after a failure",
		"after_both": "run stopped after a failure",
	}
	if fmt.Sprint(rec.skipped) != fmt.Sprint(want) {
		t.Errorf("skipped %v, want %v", rec.skipped, want)
	}
}

func TestFailFastLimitOne(t *testing.T) {
	rec, out := run(t, []node{
		{name: "a", status: dag.Failed},
		{name: "b"},
		{name: "c"},
	}, 1)
	if out.Failed != 0 || len(rec.started) != 1 {
		t.Errorf("outcome %+v, started %v; want only a started", out, rec.started)
	}
	if rec.skipped["b"] != "run stopped after a failure" || rec.skipped["c"] != "run stopped after a failure" {
		t.Errorf("skipped %v", rec.skipped)
	}
}

func TestStoppedFromOutside(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, rec := build(t, []node{
			{name: "a", sleep: 2 * time.Second},
			{name: "b", deps: []string{"a"}},
			{name: "c", sleep: time.Second},
		})
		start := time.Now()
		rec.stop = func() bool { return time.Since(start) >= time.Second }
		out := g.Run(t.Context(), 8, rec)
		if out.Failed != -1 || out.Stopped != "run stopped after a failure" {
			t.Errorf("outcome %+v", out)
		}
		if _, ran := rec.started["b"]; ran || rec.skipped["b"] != out.Stopped || rec.ended["a"] != 2*time.Second {
			t.Errorf("started %v skipped %v ended %v; want a finished, b skipped", rec.started, rec.skipped, rec.ended)
		}
		rec.checkOnce(t)
	})
}

func TestSkippedDependencyCountsAsFinished(t *testing.T) {
	rec, out := run(t, []node{
		{name: "a", status: dag.Skipped},
		{name: "b", deps: []string{"a"}},
		{name: "c", deps: []string{"b", "a"}},
	}, 8)
	if _, ok := rec.started["c"]; !ok || out != (dag.Outcome{Failed: -1}) {
		t.Errorf("c did not run after a skipped dependency: started %v outcome %+v", rec.started, out)
	}
}

func TestCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, rec := build(t, []node{
			{name: "a", sleep: time.Hour},
			{name: "b", deps: []string{"a"}},
		})
		ctx, cancel := context.WithCancelCause(t.Context())
		time.AfterFunc(time.Second, func() { cancel(errors.New("workflow timed out after 1s")) })
		out := g.Run(ctx, 8, rec)
		if out.Stopped != "run stopped: workflow timed out after 1s" {
			t.Errorf("outcome %+v", out)
		}
		if rec.ended["a"] != time.Second || rec.skipped["b"] != out.Stopped {
			t.Errorf("ended %v skipped %v", rec.ended, rec.skipped)
		}
		rec.checkOnce(t)
	})
}

func TestAlreadyCanceled(t *testing.T) {
	g, rec := build(t, []node{{name: "a"}, {name: "b"}})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	out := g.Run(ctx, 2, rec)
	if len(rec.started) != 0 || out.Stopped != "run stopped: context canceled" {
		t.Errorf("started %v outcome %+v", rec.started, out)
	}
	rec.checkOnce(t)
}

func TestEmpty(t *testing.T) {
	g, err := dag.New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out := g.Run(t.Context(), 1, nil); out != (dag.Outcome{Failed: -1}) {
		t.Errorf("outcome %+v", out)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		deps  [][]int
		want  string
	}{
		{"two", []string{"a", "b"}, [][]int{{1}, {0}}, "dependency cycle: a -> b -> a"},
		{"three", []string{"x", "a", "b", "c"}, [][]int{nil, {3}, {1}, {2}}, "dependency cycle: a -> b -> c -> a"},
		{"self", []string{"a"}, [][]int{{0}}, "dependency cycle: a -> a"},
		{"out of range", []string{"a"}, [][]int{{3}}, `dag: node "a" depends on index 3 out of range`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dag.New(tt.names, tt.deps)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	_, err := dag.New([]string{"a", "b"}, [][]int{{1}, {0}})
	var ce *dag.CycleError
	if !errors.As(err, &ce) || strings.Join(ce.Cycle, ",") != "a,b" {
		t.Errorf("err = %#v, want a *CycleError naming a and b", err)
	}
}

func TestDuplicateDeps(t *testing.T) {
	g, err := dag.New([]string{"a", "b"}, [][]int{nil, {0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Deps(1)) != 1 || len(g.Dependents(0)) != 1 || g.Len() != 2 {
		t.Errorf("deps %v dependents %v", g.Deps(1), g.Dependents(0))
	}
}

// TestConcurrentRuns runs one graph many times at once under -race.
func TestConcurrentRuns(t *testing.T) {
	nodes := []node{{name: "a"}, {name: "b", deps: []string{"a"}}, {name: "c", deps: []string{"a"}}, {name: "d", deps: []string{"b", "c"}}}
	g, _ := build(t, nodes)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, rec := build(t, nodes)
			if out := g.Run(t.Context(), 2, rec); out.Failed != -1 {
				t.Errorf("outcome %+v", out)
			}
			rec.checkOnce(t)
		})
	}
	wg.Wait()
}
