package dag

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Graph is an immutable dependency graph over nodes 0..n-1.
type Graph struct {
	names      []string
	deps       [][]int
	dependents [][]int
	roots      []int
}

// CycleError reports a dependency cycle.
type CycleError struct {
	// Cycle lists the names of the nodes in one cycle, in dependency
	// order, starting from its smallest node index.
	Cycle []string
}

func (e *CycleError) Error() string {
	return "dependency cycle: " + strings.Join(append(slices.Clone(e.Cycle), e.Cycle[0]), " -> ")
}

// New builds the graph of len(names) nodes where node i depends on the
// nodes deps[i]. Duplicate dependencies are ignored. It returns a
// *CycleError when the graph has a cycle, and an error for an index out of
// range or a self-dependency.
func New(names []string, deps [][]int) (*Graph, error) {
	n := len(names)
	if len(deps) > n {
		return nil, fmt.Errorf("dag: %d dependency lists for %d nodes", len(deps), n)
	}
	g := &Graph{names: names, deps: make([][]int, n), dependents: make([][]int, n)}
	for i := range deps {
		for _, d := range deps[i] {
			if d < 0 || d >= n {
				return nil, fmt.Errorf("dag: node %q depends on index %d out of range", names[i], d)
			}
			if slices.Contains(g.deps[i], d) {
				continue
			}
			g.deps[i] = append(g.deps[i], d)
			g.dependents[d] = append(g.dependents[d], i)
		}
	}
	for i := range n {
		slices.Sort(g.dependents[i])
		if len(g.deps[i]) == 0 {
			g.roots = append(g.roots, i)
		}
	}
	if c := g.findCycle(); c != nil {
		return nil, c
	}
	return g, nil
}

// findCycle returns one cycle, found by depth-first search, or nil.
func (g *Graph) findCycle() *CycleError {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, len(g.names))
	var path []int
	var visit func(i int) []int
	visit = func(i int) []int {
		state[i] = onPath
		path = append(path, i)
		for _, d := range g.deps[i] {
			switch state[d] {
			case onPath:
				return path[slices.Index(path, d):]
			case unseen:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		return nil
	}
	for i := range g.names {
		if state[i] != unseen {
			continue
		}
		if c := visit(i); c != nil {
			// path runs from dependent to dependency; report it in
			// dependency order, starting from the smallest index.
			c = slices.Clone(c)
			slices.Reverse(c)
			start := slices.Index(c, slices.Min(c))
			c = append(c[start:], c[:start]...)
			names := make([]string, len(c))
			for k, idx := range c {
				names[k] = g.names[idx]
			}
			return &CycleError{Cycle: names}
		}
	}
	return nil
}

// Len is the number of nodes.
func (g *Graph) Len() int { return len(g.names) }

// Deps returns node i's direct dependencies. The slice must not be modified.
func (g *Graph) Deps(i int) []int { return g.deps[i] }

// Dependents returns the nodes that depend directly on node i, sorted. The
// slice must not be modified.
func (g *Graph) Dependents(i int) []int { return g.dependents[i] }

// Status is the outcome of one node.
type Status uint8

// Node outcomes. The zero Status means the node has not finished.
const (
	Succeeded Status = iota + 1
	Failed
	Skipped
)

// Handler runs the nodes of one Run.
type Handler interface {
	// Execute runs node i and returns its outcome (a node may skip
	// itself, for example when its condition is false). It is called on a
	// goroutine of its own, or on Run's goroutine when no other node is
	// running, and must not panic. ctx is the ctx given to Run.
	Execute(ctx context.Context, i int) Status
	// Skip reports that node i will never start, and why. It is called on
	// Run's goroutine, once the running nodes have finished.
	Skip(i int, reason string)
	// Stopped reports whether a failure elsewhere (for example in another
	// graph of the same run) stops this graph: no node starts any more,
	// as after a failure of one of its own nodes. It is called on Run's
	// goroutine before each start and must be cheap.
	Stopped() bool
}

// Outcome summarises a Run.
type Outcome struct {
	// Failed is the smallest index of a failed node, or -1.
	Failed int
	// Stopped is the reason nodes were left unstarted ("" when every node
	// ran or skipped itself).
	Stopped string
}

// Run schedules every node of g: Execute for each node it starts, Skip for
// each node it never starts, so that h sees every node exactly once. At
// most limit nodes run at once; limit <= 0 means no limit. Run returns when
// every node is accounted for and every goroutine it started has returned.
func (g *Graph) Run(ctx context.Context, limit int, h Handler) Outcome {
	n := len(g.names)
	if limit <= 0 || limit > n {
		limit = n
	}
	out := Outcome{Failed: -1}
	if n == 0 {
		return out
	}
	status := make([]Status, n)
	pending := make([]int, n)
	for i := range n {
		pending[i] = len(g.deps[i])
	}
	// ready is a FIFO queue; every node enters it at most once.
	ready := append(make([]int, 0, n), g.roots...)
	head := 0
	var done chan int
	running := 0

	complete := func(i int, s Status) {
		status[i] = s
		if s == Failed {
			if out.Failed < 0 || i < out.Failed {
				out.Failed = i
			}
			return // no dependent of a failed node ever starts
		}
		for _, d := range g.dependents[i] {
			if pending[d]--; pending[d] == 0 {
				ready = append(ready, d)
			}
		}
	}

	for {
		for head < len(ready) && running < limit && out.Failed < 0 && ctx.Err() == nil && !h.Stopped() {
			i := ready[head]
			head++
			if running == 0 && head == len(ready) {
				// Nothing else can run or become ready meanwhile: run
				// it here and save a goroutine and a channel hop.
				complete(i, h.Execute(ctx, i))
				continue
			}
			if done == nil {
				done = make(chan int, limit)
			}
			running++
			go func() {
				status[i] = h.Execute(ctx, i)
				done <- i
			}()
		}
		if running == 0 {
			break
		}
		i := <-done
		running--
		complete(i, status[i])
	}

	for i := range n {
		if status[i] != 0 {
			continue
		}
		if out.Stopped == "" {
			out.Stopped = "run stopped after a failure"
			if ctx.Err() != nil {
				out.Stopped = "run stopped: " + context.Cause(ctx).Error()
			}
		}
		reason := out.Stopped
		for _, d := range g.deps[i] {
			if status[d] == Failed {
				reason = fmt.Sprintf("dependency %q failed", g.names[d])
				break
			}
		}
		status[i] = Skipped
		h.Skip(i, reason)
	}
	return out
}
