package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/dag"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/retry"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
)

// run is the state of one Run. Each step's slot is written only by the
// goroutine that runs or skips that step; slots of finished steps are read
// after the scheduler's join, which orders the accesses.
type run struct {
	e       *Engine
	p       *compiled
	id      string
	obs     observe.Observer
	inputs  map[string]any
	slots   []slot
	ran     []atomic.Bool // per nested group: RunGroup or SkipGroup was called
	tracing bool          // spans are worth creating (a real TracerProvider)
	debug   bool          // the logger takes debug records (checked once per run)
	// failed is the index of the first step that failed, anywhere in the
	// run, or -1. Once set, no step starts any more (fail fast).
	failed atomic.Int32
}

type slot struct {
	res   StepResult
	obj   map[string]any // the output object of a successful step
	err   error
	ended bool
	// data is the template data (a map[string]any) of every step whose
	// dataOwner this step is, built by the first of them to start.
	data atomic.Value
}

// Run validates inputs (required ones present, declared defaults applied,
// and, when the workflow declares inputs, no undeclared ones: otherwise a
// wrapped ErrInvalidInputs and no events) and runs the plan to completion.
// See the Engine doc for the run semantics.
func (e *Engine) Run(ctx context.Context, p *Plan, inputs map[string]any, opts ...RunOption) (*Result, error) {
	if p == nil || p.plan == nil {
		return nil, errors.New("engine: run of a nil plan")
	}
	c := p.plan
	in, err := c.bindInputs(inputs)
	if err != nil {
		return nil, err
	}
	var rc runConfig
	for _, o := range opts {
		o(&rc)
	}
	if rc.id == "" {
		rc.id = fmt.Sprintf("%016x", rand.Uint64())
	}
	r := &run{e: e, p: c, id: rc.id, obs: e.obs, inputs: in, slots: make([]slot, len(c.steps))}
	r.failed.Store(-1)
	if rc.observer != nil {
		r.obs = observe.Multi(e.obs, rc.observer)
	}
	if len(c.groups) > 0 {
		r.ran = make([]atomic.Bool, len(c.groups))
	}

	start := e.cfg.now()
	ctx, span := e.tracer.Start(ctx, "workflow.execute", trace.WithAttributes(
		attribute.String("workflow.name", c.name), attribute.String("orchestrator.run.id", r.id)))
	r.tracing = span.IsRecording() || span.SpanContext().IsValid()
	r.debug = e.cfg.logger.Enabled(ctx, slog.LevelDebug)
	r.obs.RunStarted(ctx, observe.RunStart{RunID: r.id, Workflow: c.name, Start: start})

	runCtx, cancel := context.WithTimeoutCause(ctx, c.timeout, c.cause)
	out := c.top.graph.Run(runCtx, c.top.limit, &groupRun{r: r, g: c.top, ctx: runCtx})
	res := r.result(runCtx, out, start)
	cancel()

	end := observe.RunEnd{RunID: r.id, Workflow: c.name, Status: res.Status, Duration: res.Duration, CostUSD: res.CostUSD}
	if res.Error != nil {
		end.ErrorType = errtype.Type(res.Error.Type)
		span.SetStatus(codes.Error, res.Error.Message)
		span.SetAttributes(attribute.String("error.type", res.Error.Type))
		if l := e.cfg.logger; l.Enabled(ctx, slog.LevelWarn) {
			l.LogAttrs(ctx, slog.LevelWarn, "workflow failed", slog.String("run_id", r.id), slog.String("workflow_name", c.name),
				slog.String("error_type", res.Error.Type), slog.String("error", res.Error.Message), slog.Duration("duration", res.Duration))
		}
	} else if l := e.cfg.logger; l.Enabled(ctx, slog.LevelInfo) {
		l.LogAttrs(ctx, slog.LevelInfo, "workflow finished", slog.String("run_id", r.id), slog.String("workflow_name", c.name),
			slog.Duration("duration", res.Duration))
	}
	r.obs.RunFinished(ctx, end)
	span.End()
	return res, nil
}

// CheckInputs applies Run's input rules without running: it returns the
// same wrapped ErrInvalidInputs Run would. A server uses it to answer 400
// before queueing a run.
func (p *Plan) CheckInputs(inputs map[string]any) error {
	if p == nil || p.plan == nil {
		return errors.New("engine: inputs of a nil plan")
	}
	_, err := p.plan.bindInputs(inputs)
	return err
}

// bindInputs checks inputs against the declarations and applies defaults.
func (c *compiled) bindInputs(given map[string]any) (map[string]any, error) {
	if len(c.inputs) == 0 {
		if given == nil {
			return map[string]any{}, nil
		}
		return maps.Clone(given), nil
	}
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(given)) {
		if c.inputs[k] == nil {
			problems = append(problems, fmt.Sprintf("unknown input %q", k))
		}
	}
	out := make(map[string]any, len(c.inputs))
	for _, name := range slices.Sorted(maps.Keys(c.inputs)) {
		decl := c.inputs[name]
		if v, ok := given[name]; ok {
			out[name] = v
			continue
		}
		switch {
		case decl.HasDefault:
			out[name] = decl.Default
		case decl.Required:
			problems = append(problems, fmt.Sprintf("missing required input %q", name))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidInputs, strings.Join(problems, "; "))
	}
	return out, nil
}

// result assembles the run's Result once every step has ended.
func (r *run) result(runCtx context.Context, out dag.Outcome, start time.Time) *Result {
	c := r.p
	res := &Result{
		ID: r.id, Workflow: c.name, Status: observe.StatusSuccess, StartedAt: start,
		Steps: make(map[string]*StepResult, len(c.steps)), Outputs: make(map[string]any, len(c.sinks)),
	}
	for i := range r.slots {
		sl := &r.slots[i]
		if _, dup := res.Steps[c.steps[i].id]; !dup {
			res.Steps[c.steps[i].id] = &sl.res
		}
		res.CostUSD += sl.res.CostUSD
	}
	for _, i := range c.sinks {
		if sl := &r.slots[i]; sl.res.Status == observe.StatusSuccess {
			res.Outputs[c.steps[i].id] = sl.obj
		}
	}
	if out.Failed >= 0 || out.Stopped != "" {
		res.Status = observe.StatusFailure
		switch {
		case runCtx.Err() != nil:
			cause := context.Cause(runCtx)
			t := errtype.Of(cause)
			if t != errtype.Timeout {
				t = errtype.Canceled
			}
			msg := cause.Error()
			if t == errtype.Canceled {
				msg = "run canceled: " + msg
			}
			res.Error = &ErrorInfo{Type: string(t), Message: msg}
		default:
			i := int(r.failed.Load())
			if i < 0 {
				i = c.top.members[out.Failed]
			}
			res.Error = &ErrorInfo{Type: string(errtype.StepFailed),
				Message: fmt.Sprintf("step %q failed: %v", c.steps[i].id, r.slots[i].err)}
		}
	}
	res.Duration = r.e.cfg.now().Sub(start)
	res.DurationMS = ms(res.Duration)
	return res
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// groupRun runs one group of one run; it is the scheduler's dag.Handler.
type groupRun struct {
	r   *run
	g   *group
	ctx context.Context // for events emitted by Skip
}

func (gr *groupRun) Execute(ctx context.Context, k int) dag.Status {
	return gr.r.execStep(ctx, gr.r.p.steps[gr.g.members[k]])
}

func (gr *groupRun) Skip(k int, reason string) {
	gr.r.skip(gr.ctx, gr.g.members[k], reason)
}

func (gr *groupRun) Stopped() bool { return gr.r.failed.Load() >= 0 }

// execStep runs one step: condition, attempts with retries, output
// binding, events, and the bookkeeping of nested steps.
func (r *run) execStep(ctx context.Context, cs *cstep) dag.Status {
	rt := &stepRT{r: r, cs: cs, data: r.dataFor(cs)}
	if cs.cond != nil {
		ok, err := evalCondition(cs, rt.data)
		switch {
		case err != nil:
			err = fmt.Errorf("condition: %w", err)
			start := r.e.cfg.now()
			r.obs.StepStarted(ctx, observe.StepStart{RunID: r.id, Workflow: r.p.name, StepID: cs.id, StepType: cs.typ})
			return r.finish(ctx, nil, cs, nil, 0, err, start)
		case !ok:
			r.skip(ctx, cs.idx, "condition false")
			return dag.Skipped
		}
	}

	start := r.e.cfg.now()
	sctx := ctx
	if cs.provider {
		sctx = context.WithValue(sctx, runtimeKey{}, rt)
	}
	var span trace.Span
	if r.tracing {
		sctx, span = r.e.tracer.Start(sctx, "step.execute", trace.WithAttributes(
			attribute.String("workflow.name", r.p.name), attribute.String("orchestrator.run.id", r.id),
			attribute.String("orchestrator.step.id", cs.id), attribute.String("orchestrator.step.type", cs.typ)))
	}
	rt.ctx = sctx
	r.obs.StepStarted(sctx, observe.StepStart{RunID: r.id, Workflow: r.p.name, StepID: cs.id, StepType: cs.typ})
	if r.debug {
		r.logStep(sctx, slog.LevelDebug, cs.id, "step started", slog.String("step_type", cs.typ))
	}

	var err error
	var attempts int
	if cs.exec == nil {
		attempts, err = 1, errtype.New(errtype.ExecutionError, errors.New("step was not compiled"))
	} else {
		attempts, err = retry.Do(sctx, cs.policy, rt.attempt, retry.Notify(rt))
	}
	if err != nil && ctx.Err() != nil {
		err = ctxError(ctx, err)
	}
	return r.finish(sctx, span, cs, rt, attempts, err, start)
}

// evalCondition evaluates the step's condition; a panic in the expression
// library is a failure of the step, not of the process.
func evalCondition(cs *cstep, data map[string]any) (ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			ok, err = false, errtype.New(errtype.ExecutionError, fmt.Errorf("panicked: %v", p))
		}
	}()
	return cs.cond.Bool(data)
}

// ctxError gives err the type of ctx's cause (timeout or canceled): the
// step failed because the run (or the enclosing step) was cut off.
func ctxError(ctx context.Context, err error) error {
	cause := context.Cause(ctx)
	t := errtype.Of(cause)
	if t != errtype.Timeout {
		t = errtype.Canceled
	}
	if errtype.Of(err) == t {
		return err
	}
	return errtype.New(t, fmt.Errorf("%v: %w", cause, err))
}

// finish records a started step's outcome, ends its nested steps that
// never ran, and emits StepEnd.
func (r *run) finish(ctx context.Context, span trace.Span, cs *cstep, rt *stepRT, attempts int, err error, start time.Time) dag.Status {
	d := r.e.cfg.now().Sub(start)
	sl := &r.slots[cs.idx]
	sl.res = StepResult{Status: observe.StatusSuccess, Type: cs.typ, Attempts: attempts, Duration: d, DurationMS: ms(d)}
	if rt != nil {
		sl.res.CostUSD = rt.cost()
	}
	status := dag.Succeeded
	ev := observe.StepEnd{RunID: r.id, Workflow: r.p.name, StepID: cs.id, StepType: cs.typ, Attempts: attempts, Duration: d}
	if err != nil {
		status = dag.Failed
		r.failed.CompareAndSwap(-1, int32(cs.idx))
		t := errtype.Of(err)
		sl.err = err
		sl.res.Status = observe.StatusFailure
		sl.res.Error = &ErrorInfo{Type: string(t), Message: err.Error()}
		ev.ErrorType, ev.Error = t, err.Error()
		r.logStep(ctx, slog.LevelWarn, cs.id, "step failed", slog.String("step_type", cs.typ),
			slog.String("error_type", string(t)), slog.String("error", err.Error()), slog.Int("attempts", attempts))
		if span != nil {
			span.SetStatus(codes.Error, err.Error())
			span.SetAttributes(attribute.String("error.type", string(t)))
		}
	} else {
		sl.obj = rt.obj
		sl.res.Output = rt.obj
		if r.debug {
			r.logStep(ctx, slog.LevelDebug, cs.id, "step finished", slog.String("step_type", cs.typ), slog.Duration("duration", d))
		}
	}
	ev.Status = sl.res.Status
	// Nested steps that never ran end now, before their parent.
	if len(cs.groups) > 0 {
		reason := fmt.Sprintf("step %q did not run it", cs.id)
		if err != nil {
			reason = fmt.Sprintf("step %q failed", cs.id)
		}
		r.skipNested(ctx, cs, reason)
	}
	sl.ended = true
	r.obs.StepFinished(ctx, ev)
	if span != nil {
		span.SetAttributes(attribute.Int("orchestrator.step.attempts", attempts))
		span.End()
	}
	return status
}

// skip records that step i, and everything nested in it, will not run.
func (r *run) skip(ctx context.Context, i int, reason string) {
	cs := r.p.steps[i]
	r.skipNested(ctx, cs, fmt.Sprintf("step %q was skipped: %s", cs.id, reason))
	r.skipOne(ctx, cs, reason)
}

// skipNested skips the steps nested in cs that have not ended, each after
// its own nested steps.
func (r *run) skipNested(ctx context.Context, cs *cstep, reason string) {
	for _, g := range cs.groups {
		for _, m := range g.members {
			r.skipNested(ctx, r.p.steps[m], reason)
			if !r.slots[m].ended {
				r.skipOne(ctx, r.p.steps[m], reason)
			}
		}
	}
}

// skipOne records that cs will not run and emits its StepEnd.
func (r *run) skipOne(ctx context.Context, cs *cstep, reason string) {
	sl := &r.slots[cs.idx]
	sl.res = StepResult{Status: observe.StatusSkipped, Type: cs.typ, SkipReason: reason}
	sl.ended = true
	if r.debug {
		r.logStep(ctx, slog.LevelDebug, cs.id, "step skipped", slog.String("step_type", cs.typ), slog.String("reason", reason))
	}
	r.obs.StepFinished(ctx, observe.StepEnd{RunID: r.id, Workflow: r.p.name, StepID: cs.id, StepType: cs.typ,
		Status: observe.StatusSkipped, Error: reason, SkipReason: reason})
}

// dataFor returns the template data of step cs, shared (read-only) with
// the steps that have the same visible steps: their visible steps all ended
// before any of them starts, so the first to start builds it for all.
func (r *run) dataFor(cs *cstep) map[string]any {
	v := &r.slots[cs.dataOwner].data
	if d, ok := v.Load().(map[string]any); ok {
		return d
	}
	d := r.data(cs)
	if !v.CompareAndSwap(nil, d) {
		d = v.Load().(map[string]any)
	}
	return d
}

// data returns the template data of step cs: the inputs and the objects of
// the visible steps that succeeded (skipped steps are absent).
func (r *run) data(cs *cstep) map[string]any {
	steps := make(map[string]any, len(cs.visible))
	for _, j := range cs.visible {
		if o := r.slots[j].obj; o != nil {
			steps[r.p.steps[j].id] = o
		}
	}
	return map[string]any{"inputs": r.inputs, "steps": steps}
}

// runtimeKey is the context key under which a step's ctx carries its
// *stepRT, for the observed provider.
type runtimeKey struct{}

// stepRT is the step.Runtime of one step execution (all its attempts).
type stepRT struct {
	r    *run
	cs   *cstep
	ctx  context.Context // the step's context, for events between attempts
	data map[string]any
	obj  map[string]any // set by the successful attempt

	grouped atomic.Bool // the step ran or skipped a nested group

	mu      sync.Mutex
	costUSD float64
}

var _ step.Runtime = (*stepRT)(nil)

func (rt *stepRT) Data() map[string]any { return rt.data }
func (rt *stepRT) StepID() string       { return rt.cs.id }

func (rt *stepRT) Logger() *slog.Logger {
	return rt.r.e.cfg.logger.With(slog.String("run_id", rt.r.id), slog.String("workflow_name", rt.r.p.name),
		slog.String("step_id", rt.cs.id))
}

// attempt runs one attempt: the per-attempt timeout, panic recovery and
// output binding.
func (rt *stepRT) attempt(ctx context.Context, n int) (err error) {
	cs := rt.cs
	actx := ctx
	if cs.timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeoutCause(ctx, cs.timeout, cs.cause)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			rt.r.logStep(ctx, slog.LevelError, cs.id, "step panicked", slog.String("step_type", cs.typ),
				slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			err = errtype.New(errtype.ExecutionError, fmt.Errorf("attempt %d panicked: %v", n, p))
		}
		if err != nil && rt.grouped.Load() {
			// Nested steps ran (with their own retries); they cannot
			// run again in this run.
			err = retry.Permanent(err)
		}
	}()
	res, err := cs.exec.Execute(actx, rt)
	if err != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			err = errtype.New(errtype.Timeout, fmt.Errorf("%v: %w", context.Cause(actx), err))
		}
		return err
	}
	rt.obj, err = bind(cs.output, res)
	return err
}

// bind builds a step's output object: the executor's Object plus its Values
// bound, in order, to the step's output names.
func bind(names []string, res step.Result) (map[string]any, error) {
	if len(names) > len(res.Values) {
		return nil, errtype.New(errtype.Validation, fmt.Errorf("output lists %d names but the step produced %d values", len(names), len(res.Values)))
	}
	if len(names) == 0 {
		if res.Object == nil {
			return map[string]any{}, nil
		}
		return res.Object, nil
	}
	obj := make(map[string]any, len(res.Object)+len(names))
	maps.Copy(obj, res.Object)
	for k, name := range names {
		obj[name] = res.Values[k]
	}
	return obj, nil
}

// Retrying is the step's retry.Notifier: it emits StepRetry and logs the
// failed attempt.
func (rt *stepRT) Retrying(attempt int, err error, wait time.Duration, fromRetryAfter bool) {
	ev := observe.StepRetry{RunID: rt.r.id, Workflow: rt.r.p.name, StepID: rt.cs.id, StepType: rt.cs.typ,
		Attempt: attempt, ErrorType: errtype.Of(err), Wait: wait, RetryAfter: fromRetryAfter}
	var ce *callError
	if errors.As(err, &ce) {
		ev.Provider = ce.provider
	}
	rt.r.logStep(rt.ctx, slog.LevelInfo, rt.cs.id, "step attempt failed, retrying", slog.String("step_type", rt.cs.typ),
		slog.Int("attempt", attempt), slog.String("error_type", string(ev.ErrorType)), slog.String("error", err.Error()),
		slog.Duration("wait", wait))
	rt.r.obs.StepRetrying(rt.ctx, ev)
}

func (rt *stepRT) addCost(usd float64) {
	rt.mu.Lock()
	rt.costUSD += usd
	rt.mu.Unlock()
}

func (rt *stepRT) cost() float64 {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.costUSD
}

// group checks that g is one of the running step's groups and marks it
// used; a group runs (or is skipped) at most once per run.
func (rt *stepRT) group(g step.Group) (*group, error) {
	gg, ok := g.(*group)
	if !ok || gg.parent != rt.cs.idx {
		return nil, errtype.New(errtype.ExecutionError, errNoGroup)
	}
	rt.grouped.Store(true)
	if gg.idx >= 0 && !rt.r.ran[gg.idx].CompareAndSwap(false, true) {
		return nil, errtype.New(errtype.ExecutionError, errors.New("nested steps already ran"))
	}
	return gg, nil
}

// RunGroup runs nested steps with the engine's scheduling: see
// step.Runtime. The error wraps the first failed nested step's error (so it
// has that step's type); or the cause of ctx when ctx ended before every
// nested step ran; or is of type canceled when a failure elsewhere in the
// run stopped the group (fail fast is run-wide).
func (rt *stepRT) RunGroup(ctx context.Context, g step.Group) error {
	gg, err := rt.group(g)
	if err != nil {
		return err
	}
	out := gg.graph.Run(ctx, gg.limit, &groupRun{r: rt.r, g: gg, ctx: ctx})
	switch {
	case out.Failed >= 0:
		i := gg.members[out.Failed]
		return fmt.Errorf("step %q failed: %w", rt.r.p.steps[i].id, rt.r.slots[i].err)
	case out.Stopped != "" && ctx.Err() != nil:
		return fmt.Errorf("nested steps did not all run: %w", context.Cause(ctx))
	case out.Stopped != "":
		// Another step of the run failed first.
		return errtype.New(errtype.Canceled, fmt.Errorf("nested steps did not all run: %s", out.Stopped))
	}
	return nil
}

// SkipGroup reports every step of g (one of the running step's groups) as
// skipped with reason, for example "branch not taken". Step types in this
// module use it through an interface assertion.
func (rt *stepRT) SkipGroup(ctx context.Context, g step.Group, reason string) error {
	gg, err := rt.group(g)
	if err != nil {
		return err
	}
	for _, m := range gg.members {
		rt.r.skip(ctx, m, reason)
	}
	return nil
}

// GroupOutputs returns the output objects of g's steps that succeeded, by
// step id. Call it after RunGroup returned. Step types in this module use
// it through an interface assertion.
func (rt *stepRT) GroupOutputs(g step.Group) map[string]any {
	gg, ok := g.(*group)
	if !ok || gg.parent != rt.cs.idx {
		return nil
	}
	out := make(map[string]any, len(gg.members))
	for _, m := range gg.members {
		if sl := &rt.r.slots[m]; sl.ended && sl.res.Status == observe.StatusSuccess {
			out[rt.r.p.steps[m].id] = sl.obj
		}
	}
	return out
}
