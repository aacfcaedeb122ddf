package engine

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/cond"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/dag"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/internal/suggest"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/retry"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// compiled is the immutable, run-ready form of a workflow.
type compiled struct {
	name    string
	inputs  map[string]*workflow.Input // declared inputs; empty: any input allowed
	timeout time.Duration
	cause   error    // context cause of the workflow timeout
	steps   []*cstep // every step, parents before their nested steps
	groups  []*group // every nested group
	top     *group   // the top-level steps
	sinks   []int    // top-level steps no other step depends on
}

// cstep is one compiled step.
type cstep struct {
	idx     int
	id, typ string
	exec    step.Executor
	cond    *cond.Expr
	policy  retry.Policy
	timeout time.Duration
	cause   error // context cause of the attempt timeout
	output  []string
	parent  int      // index of the enclosing step, -1 at top level
	groups  []*group // the nested groups this step owns
	nested  []int    // every step nested in this one, at any depth
	visible []int    // steps that always finished before this one starts
	// dataOwner is the first step with the same visible steps: steps with
	// equal visible sets share one template data map per run.
	dataOwner int
	// provider: the step resolved a provider, so its ctx carries the
	// runtime the observed provider reads.
	provider bool
}

// group is a compiled list of steps: the top level or one nested list.
type group struct {
	step.GroupMarker
	idx     int   // position in compiled.groups; -1 for the top level
	parent  int   // owning step, -1 for the top level
	members []int // step indices, in list order
	graph   *dag.Graph
	limit   int
}

// compiler turns a decoded workflow into a compiled plan, collecting
// problems.
type compiler struct {
	e        *Engine
	wf       *workflow.Workflow
	c        *compiled
	byID     map[string]int
	wsteps   []*workflow.Step          // by step index
	lists    map[*workflow.Step]*group // first step of a nested list -> its group
	built    []bool
	env      *step.Env
	problems workflow.Problems
	wrapped  map[string]*observedProvider
	// cyclic is set when a dependency cycle makes the plan unusable.
	cyclic bool
}

// Load decodes data strictly (see workflow.Decode), validates it and
// compiles it: every step is built by its type's Spec, templates and
// expressions are parsed and their references checked (an input must be
// declared when the workflow declares inputs; a step must be an ancestor),
// providers are resolved. It returns every problem at once, as
// workflow.Problems sorted by position. file names the source in problems
// and its directory resolves relative paths (vector corpora).
func (e *Engine) Load(file string, data []byte) (*Plan, error) {
	lim := e.cfg.limits
	wf, probs := workflow.Decode(file, data, e.cfg.steps,
		workflow.WithMaxSteps(lim.MaxSteps), workflow.WithMaxDepth(lim.MaxDepth), workflow.WithMaxBytes(lim.MaxFileBytes))
	if wf == nil {
		if len(probs) == 0 {
			probs = workflow.Problems{{File: file, Line: 1, Column: 1, Message: "workflow could not be decoded"}}
		}
		return nil, probs
	}
	env := e.env
	env.BaseDir = filepath.Dir(file)
	cp := &compiler{
		e: e, wf: wf, env: &env, problems: probs,
		byID: map[string]int{}, lists: map[*workflow.Step]*group{}, wrapped: map[string]*observedProvider{},
		c: &compiled{name: wf.Name, inputs: wf.Inputs},
	}
	cp.compile(len(probs) == 0)
	if len(cp.problems) > 0 {
		slices.SortStableFunc(cp.problems, func(a, b workflow.Problem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, cp.problems
	}
	return &Plan{Workflow: wf, plan: cp.c}, nil
}

func (cp *compiler) compile(reportCycles bool) {
	c, wf := cp.c, cp.wf
	secs := wf.TimeoutSeconds
	if secs <= 0 {
		secs = workflow.DefaultTimeoutSeconds
	}
	c.timeout = seconds(secs)
	c.cause = errtype.New(errtype.Timeout, fmt.Errorf("workflow timed out after %s", c.timeout))
	c.top = cp.index(wf.Steps, -1, reportCycles)
	if cp.cyclic {
		return
	}
	state := make([]bool, len(c.steps))
	owners := map[string]int{}
	for i := range c.steps {
		k := visibleKey(cp.visible(i, state))
		if _, ok := owners[k]; !ok {
			owners[k] = i
		}
		c.steps[i].dataOwner = owners[k]
	}
	cp.built = make([]bool, len(c.steps))
	for _, i := range c.top.members {
		cp.build(i)
	}
	for _, i := range c.top.members {
		if len(c.top.graph.Dependents(slices.Index(c.top.members, i))) == 0 {
			c.sinks = append(c.sinks, i)
		}
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// index assigns step indices to a list and its nested lists, builds their
// graphs and returns the list's group.
func (cp *compiler) index(list []*workflow.Step, parent int, reportCycles bool) *group {
	g := &group{idx: -1, parent: parent}
	if parent >= 0 {
		g.idx = len(cp.c.groups)
		cp.c.groups = append(cp.c.groups, g)
	}
	for _, s := range list {
		if s == nil {
			continue
		}
		i := len(cp.c.steps)
		cs := &cstep{idx: i, id: s.ID, typ: s.Type, parent: parent, output: s.Output, policy: retry.FromWorkflow(s.Retry)}
		if s.TimeoutSeconds > 0 {
			cs.timeout = seconds(s.TimeoutSeconds)
			cs.cause = errtype.New(errtype.Timeout, fmt.Errorf("attempt timed out after %s", cs.timeout))
		}
		cp.c.steps = append(cp.c.steps, cs)
		cp.wsteps = append(cp.wsteps, s)
		if _, dup := cp.byID[s.ID]; !dup {
			cp.byID[s.ID] = i
		}
		g.members = append(g.members, i)
	}
	// Nested lists get their indices after the whole list, so that a list's
	// members are numbered before anything nested in them.
	for _, i := range slices.Clone(g.members) {
		n, ok := cp.wsteps[i].Config.(workflow.Nested)
		if !ok {
			continue
		}
		for _, l := range n.NestedSteps() {
			ng := cp.index(l, i, reportCycles)
			cp.c.steps[i].groups = append(cp.c.steps[i].groups, ng)
			if k := slices.IndexFunc(l, func(s *workflow.Step) bool { return s != nil }); k >= 0 {
				cp.lists[l[k]] = ng
			}
		}
	}
	for _, i := range g.members {
		cs := cp.c.steps[i]
		for _, ng := range cs.groups {
			for _, m := range ng.members {
				cs.nested = append(cs.nested, m)
				cs.nested = append(cs.nested, cp.c.steps[m].nested...)
			}
		}
	}

	names := make([]string, len(g.members))
	deps := make([][]int, len(g.members))
	for k, i := range g.members {
		names[k] = cp.c.steps[i].id
		for _, d := range cp.wsteps[i].DependsOn {
			// Decode reports unknown dependencies and dependencies
			// outside the list; they are ignored here.
			if j := slices.IndexFunc(g.members, func(m int) bool { return cp.c.steps[m].id == d }); j >= 0 {
				deps[k] = append(deps[k], j)
			}
		}
	}
	graph, err := dag.New(names, deps)
	if err != nil {
		cp.cyclic = true
		if reportCycles {
			at := workflow.Pos{}
			if len(g.members) > 0 {
				at = cp.wsteps[g.members[0]].Pos
			}
			cp.problems = append(cp.problems, workflow.Problem{File: cp.wf.File, Line: at.Line, Column: at.Column, Message: err.Error()})
		}
		return g
	}
	g.graph = graph
	g.limit = cp.limitFor(parent)
	return g
}

// limitFor returns the concurrency limit of a group owned by parent: the
// owner's own limit when its config has one (parallel's max_concurrency,
// through a ConcurrencyLimit() int method), else the workflow's, which
// WithMaxConcurrency overrides.
func (cp *compiler) limitFor(parent int) int {
	limit := cp.wf.MaxConcurrency
	if n := cp.e.cfg.maxConcurrency; n > 0 {
		limit = n
	}
	if parent >= 0 {
		if l, ok := cp.wsteps[parent].Config.(interface{ ConcurrencyLimit() int }); ok && l.ConcurrencyLimit() > 0 {
			limit = l.ConcurrencyLimit()
		}
	}
	if limit <= 0 {
		limit = workflow.DefaultMaxConcurrency
	}
	return limit
}

// visible computes, memoised, the steps that always finished before step i
// starts: those visible to its parent, its dependencies with everything
// nested in them, and what is visible to its dependencies.
func (cp *compiler) visible(i int, visiting []bool) []int {
	cs := cp.c.steps[i]
	if cs.visible != nil || visiting[i] {
		return cs.visible
	}
	visiting[i] = true
	set := map[int]bool{}
	if cs.parent >= 0 {
		for _, v := range cp.visible(cs.parent, visiting) {
			set[v] = true
		}
	}
	g := cp.c.top
	if cs.parent >= 0 {
		g = groupOf(cp.c, i)
	}
	k := slices.Index(g.members, i)
	for _, dk := range g.graph.Deps(k) {
		d := g.members[dk]
		set[d] = true
		for _, n := range cp.c.steps[d].nested {
			set[n] = true
		}
		for _, v := range cp.visible(d, visiting) {
			set[v] = true
		}
	}
	cs.visible = make([]int, 0, len(set))
	for v := range set {
		cs.visible = append(cs.visible, v)
	}
	slices.Sort(cs.visible)
	return cs.visible
}

// visibleKey encodes a visible set as a map key.
func visibleKey(v []int) string {
	b := make([]byte, 0, 4*len(v))
	for _, i := range v {
		b = strconv.AppendInt(b, int64(i), 36)
		b = append(b, ',')
	}
	return string(b)
}

// groupOf returns the nested group holding step i.
func groupOf(c *compiled, i int) *group {
	for _, g := range c.steps[c.steps[i].parent].groups {
		if slices.Contains(g.members, i) {
			return g
		}
	}
	return nil
}

// build compiles step i with its type's Spec, and everything nested in it.
func (cp *compiler) build(i int) {
	if cp.built[i] {
		return
	}
	cp.built[i] = true
	cs, s := cp.c.steps[i], cp.wsteps[i]
	b := &builder{cp: cp, cs: cs, s: s}
	if s.Condition != "" {
		cs.cond = b.Expr("condition", s.Condition)
	}
	spec, ok := cp.e.cfg.steps.Lookup(s.Type)
	if ok && s.Config != nil {
		before := len(cp.problems)
		cs.exec = spec.Build(b, s)
		if cs.exec == nil && len(cp.problems) == before {
			b.Errorf("type", "step type %q did not build the step and reported no problem", s.Type)
		}
	}
	// Nested steps the type did not compile are still checked and run
	// through the engine's bookkeeping (they end skipped).
	for _, g := range cs.groups {
		for _, m := range g.members {
			cp.build(m)
		}
	}
}

// builder implements step.Builder for one step.
type builder struct {
	cp *compiler
	cs *cstep
	s  *workflow.Step
}

var _ step.Builder = (*builder)(nil)

func (b *builder) Errorf(field, format string, args ...any) {
	at := b.s.PosOf(field)
	b.cp.problems = append(b.cp.problems, workflow.Problem{
		File: b.cp.wf.File, Line: at.Line, Column: at.Column, Step: b.s.ID, Message: fmt.Sprintf(format, args...),
	})
}

func (b *builder) Env() *step.Env { return b.cp.env }

// Step returns the workflow step with the given id, or nil (used by
// vector_search to find the embed step its query refers to).
func (b *builder) Step(id string) *workflow.Step {
	if i, ok := b.cp.byID[id]; ok {
		return b.cp.wsteps[i]
	}
	return nil
}

func (b *builder) Template(field, src string) *tmpl.Template {
	t, err := tmpl.Parse(src)
	if err != nil {
		b.Errorf(field, "template: %v", err)
		return nil
	}
	if !b.checkRefs(field, "template", t.Refs()) {
		return nil
	}
	return t
}

func (b *builder) Expr(field, src string) *cond.Expr {
	x, err := cond.Compile(src)
	if err != nil {
		b.Errorf(field, "expression: %v", err)
		return nil
	}
	if !b.checkRefs(field, "expression", x.Refs()) {
		return nil
	}
	return x
}

// checkRefs reports references to undeclared inputs and to steps that are
// not ancestors. It reports whether all references are fine.
func (b *builder) checkRefs(field, what string, refs []string) bool {
	ok := true
	seen := map[string]bool{}
	for _, r := range refs {
		root, rest, _ := strings.Cut(r, ".")
		name, _, _ := strings.Cut(rest, ".")
		if name == "" || seen[root+"."+name] {
			continue
		}
		seen[root+"."+name] = true
		switch root {
		case "inputs":
			if len(b.cp.wf.Inputs) > 0 && b.cp.wf.Inputs[name] == nil {
				b.Errorf(field, "%s references input %q, which is not declared in inputs", what, name)
				ok = false
			}
		case "steps":
			j, known := b.cp.byID[name]
			switch {
			case !known:
				b.Errorf(field, "%s references unknown step %q", what, name)
				ok = false
			case !slices.Contains(b.cs.visible, j):
				b.Errorf(field, "%s references step %q, which is not an ancestor (add it to depends_on)", what, name)
				ok = false
			}
		}
	}
	return ok
}

func (b *builder) Provider(field, name string) provider.Provider {
	set := b.cp.e.cfg.providers
	entry, ok := set.Lookup(name)
	switch {
	case !ok && len(set.Names()) == 0:
		b.Errorf(field, "unknown provider %q: no providers are configured", name)
		return nil
	case !ok:
		b.Errorf(field, "unknown provider %q%s (known: %s)", name, suggest.DidYouMean(name, set.Names()), strings.Join(set.Names(), ", "))
		return nil
	case entry.Err != nil:
		b.Errorf(field, "%v", entry.Err)
		return nil
	case entry.Provider == nil:
		b.Errorf(field, "provider %q is not usable", name)
		return nil
	}
	b.cs.provider = true
	if p, ok := b.cp.wrapped[name]; ok {
		return p
	}
	p := newObservedProvider(b.cp.e, entry)
	b.cp.wrapped[name] = p
	return p
}

func (b *builder) Group(field string, steps []*workflow.Step) step.Group {
	k := slices.IndexFunc(steps, func(s *workflow.Step) bool { return s != nil })
	if k < 0 {
		// An empty list: a group with nothing to run.
		g, _ := dag.New(nil, nil)
		return &group{idx: -1, parent: b.cs.idx, graph: g}
	}
	g, ok := b.cp.lists[steps[k]]
	if !ok || g.parent != b.cs.idx {
		b.Errorf(field, "internal error: %s is not a list of steps nested in this step", field)
		return nil
	}
	for _, m := range g.members {
		b.cp.build(m)
	}
	return g
}

// errNoGroup is returned by RunGroup for a group that is not the running
// step's.
var errNoGroup = errors.New("group does not belong to this step")
