package workflow

// Children returns the lists of steps nested in s (parallel tasks, branch
// lists), or nil when s's config does not implement Nested.
func Children(s *Step) [][]*Step {
	if s == nil {
		return nil
	}
	if n, ok := s.Config.(Nested); ok {
		return n.NestedSteps()
	}
	return nil
}

// Walk calls fn for every step, nested steps included, in pre-order: a step
// before the steps nested in it, lists in file order.
func (w *Workflow) Walk(fn func(s *Step)) {
	var walk func(list []*Step)
	walk = func(list []*Step) {
		for _, s := range list {
			if s == nil {
				continue
			}
			fn(s)
			for _, c := range Children(s) {
				walk(c)
			}
		}
	}
	walk(w.Steps)
}

// Step returns the step with id, nested or not, or nil. With duplicate ids
// (an invalid workflow) it returns the first in Walk order.
func (w *Workflow) Step(id string) *Step {
	var found *Step
	w.Walk(func(s *Step) {
		if found == nil && s.ID == id {
			found = s
		}
	})
	return found
}

// Ancestors returns the ids of every step guaranteed to have finished
// before s starts: the steps s depends on, transitively, in its own list;
// every step nested, at any depth, inside those; and, for a nested step,
// the ancestors of each enclosing step. These are the steps whose outputs
// s may reference. s itself is never included, even in a cyclic workflow.
func (w *Workflow) Ancestors(s *Step) map[string]bool {
	out := map[string]bool{}
	if s == nil {
		return out
	}
	for cur := s; cur != nil; cur = cur.Parent {
		siblings := map[string]*Step{}
		for _, t := range w.siblings(cur) {
			if _, dup := siblings[t.ID]; !dup {
				siblings[t.ID] = t
			}
		}
		pending := append([]string(nil), cur.DependsOn...)
		for len(pending) > 0 {
			id := pending[len(pending)-1]
			pending = pending[:len(pending)-1]
			dep := siblings[id]
			if dep == nil || dep == cur || out[id] {
				continue
			}
			out[id] = true
			(&Workflow{Steps: []*Step{dep}}).Walk(func(n *Step) { out[n.ID] = true })
			pending = append(pending, dep.DependsOn...)
		}
	}
	delete(out, s.ID)
	return out
}

// siblings returns the list that holds s.
func (w *Workflow) siblings(s *Step) []*Step {
	if s.Parent == nil {
		return w.Steps
	}
	for _, list := range Children(s.Parent) {
		for _, t := range list {
			if t == s {
				return list
			}
		}
	}
	return nil
}
