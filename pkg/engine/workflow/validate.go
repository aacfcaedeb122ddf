package workflow

import (
	"fmt"
	"slices"
	"strings"
)

// validate checks what needs the whole workflow: step id uniqueness and,
// list by list, dependencies and cycles.
func (d *decoder) validate(w *Workflow) {
	all := map[string]*Step{}
	w.Walk(func(s *Step) {
		if s.ID == "" {
			return
		}
		if first, dup := all[s.ID]; dup {
			d.stepErrorf(s, "id", "duplicate step id %q (first defined at line %d)", s.ID, first.PosOf("id").Line)
			return
		}
		all[s.ID] = s
	})
	var check func(list []*Step)
	check = func(list []*Step) {
		d.dependencies(list, all)
		for _, s := range list {
			for _, c := range Children(s) {
				check(c)
			}
		}
	}
	check(w.Steps)
}

func (d *decoder) stepErrorf(s *Step, field, format string, args ...any) {
	d.step = s.ID
	d.errorf(s.PosOf(field), format, args...)
	d.step = ""
}

// dependencies checks the depends_on lists of one list of sibling steps and
// reports each dependency cycle among them once.
func (d *decoder) dependencies(list []*Step, all map[string]*Step) {
	siblings := map[string]*Step{}
	var ids []string
	for _, s := range list {
		if _, dup := siblings[s.ID]; !dup && s.ID != "" {
			siblings[s.ID] = s
			ids = append(ids, s.ID)
		}
	}
	slices.Sort(ids)
	edges := map[*Step][]*Step{}
	for _, s := range list {
		seen := map[string]bool{}
		for i, dep := range s.DependsOn {
			field := index("depends_on", i)
			dst, ok := siblings[dep]
			switch {
			case seen[dep]:
				d.stepErrorf(s, field, "depends_on %q is listed twice", dep)
			case dep == s.ID:
				d.stepErrorf(s, field, "depends_on %q: a step cannot depend on itself", dep)
			case ok:
				edges[s] = append(edges[s], dst)
			case all[dep] != nil:
				d.stepErrorf(s, field, "depends_on %q: step %q is %s, not in the same list as this step; a step can only depend on its siblings",
					dep, dep, where(all[dep]))
			default:
				d.stepErrorf(s, field, "depends_on %q: no such step%s", dep, d.didYouMean(dep, ids))
			}
			seen[dep] = true
		}
	}
	d.findCycles(list, edges)
}

func where(s *Step) string {
	if s.Parent == nil {
		return "a top-level step"
	}
	return fmt.Sprintf("nested in step %q", s.Parent.ID)
}

// cycles reports, for a depth-first search over the list in file order,
// one cycle per back edge: each cycle once, named in depends_on order and
// starting from its step that comes first in the file. Removing one
// dependency from each reported cycle makes the list acyclic.
func (d *decoder) findCycles(list []*Step, edges map[*Step][]*Step) {
	order := map[*Step]int{}
	for i, s := range list {
		order[s] = i
	}
	const (
		unvisited = iota
		onStack
		done
	)
	state := map[*Step]int{}
	var stack []*Step
	var visit func(s *Step)
	visit = func(s *Step) {
		state[s] = onStack
		stack = append(stack, s)
		for _, t := range edges[s] {
			switch state[t] {
			case unvisited:
				visit(t)
			case onStack:
				d.reportCycle(stack[slices.Index(stack, t):], order)
			}
		}
		stack = stack[:len(stack)-1]
		state[s] = done
	}
	for _, s := range list {
		if state[s] == unvisited {
			visit(s)
		}
	}
}

// maxCycles bounds the cycles reported for one workflow: a dense graph
// can have a cycle for almost every dependency.
const maxCycles = 100

func (d *decoder) reportCycle(cycle []*Step, order map[*Step]int) {
	if d.cycles++; d.cycles > maxCycles {
		if d.cycles == maxCycles+1 {
			d.stepErrorf(cycle[0], "depends_on", "more than %d dependency cycles; the others are not reported", maxCycles)
		}
		return
	}
	first := 0
	for i, s := range cycle {
		if order[s] < order[cycle[first]] {
			first = i
		}
	}
	names := make([]string, 0, len(cycle)+1)
	for i := range cycle {
		names = append(names, cycle[(first+i)%len(cycle)].ID)
	}
	names = append(names, names[0])
	s := cycle[first]
	next := cycle[(first+1)%len(cycle)]
	d.stepErrorf(s, index("depends_on", slices.Index(s.DependsOn, next.ID)), "dependency cycle: %s", strings.Join(names, " -> "))
}
