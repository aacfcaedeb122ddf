package instrument

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
)

// Values of the component attribute of orchestrator_errors_total.
const (
	ComponentProvider     = "provider"      // one failed provider request attempt
	ComponentStepExecutor = "step_executor" // one step that ended in failure
	ComponentExecutor     = "executor"      // one run that ended in failure
)

// Option configures a Recorder.
type Option func(*config)

type config struct {
	genAI        bool
	cost         func(observe.ProviderRequest) float64
	maxWorkflows int
	maxModels    int
	cacheSize    int
}

// WithGenAI turns the GenAI semantic-convention metrics
// (gen_ai.client.operation.duration, gen_ai.client.token.usage,
// gen_ai.client.operation.time_to_first_chunk) on or off. Default: on.
func WithGenAI(on bool) Option { return func(c *config) { c.genAI = on } }

// WithCost sets the function that prices one provider request, in US
// dollars, for orchestrator_llm_cost_usd_total. It must be fast and safe for
// concurrent use; a result <= 0 records nothing. Default: nil, which records
// no per-request cost (orchestrator_workflow_cost_usd_total still comes from
// the run's own cost).
func WithCost(f func(observe.ProviderRequest) float64) Option {
	return func(c *config) { c.cost = f }
}

// WithMaxWorkflowNames bounds the distinct workflow_name values beyond those
// allowed with AllowWorkflowNames. Past the bound the value is "_other".
// Default: 200. Values < 0 are treated as 0.
func WithMaxWorkflowNames(n int) Option { return func(c *config) { c.maxWorkflows = max(n, 0) } }

// WithMaxModels bounds the distinct model values (requested and reported
// models together). Past the bound the value is "_other". Default: 100.
// Values < 0 are treated as 0.
func WithMaxModels(n int) Option { return func(c *config) { c.maxModels = max(n, 0) } }

// WithCacheSize bounds the number of precomputed attribute sets kept per
// event kind. Past it, attribute sets are built per call (correct but
// allocating). Default: 8192. Values < 1 are treated as 1.
func WithCacheSize(n int) Option { return func(c *config) { c.cacheSize = max(n, 1) } }

// Recorder records the orchestrator metrics from engine events. It is an
// observe.Observer and is safe for concurrent use. Create one with New.
type Recorder struct {
	inst      instruments
	genAI     bool
	cost      func(observe.ProviderRequest) float64
	workflows *limiter
	models    *limiter

	runs    *cache[runKey, *runSet]
	steps   *cache[stepKey, *stepSet]
	llm     *cache[llmKey, *llmSet]
	retries *cache[retryKey, *retrySet]

	overflowWorkflow []metric.AddOption
	overflowModel    []metric.AddOption
}

var _ observe.Observer = (*Recorder)(nil)

type instruments struct {
	// The nine.
	wfExec   metric.Int64Counter
	wfDur    metric.Float64Histogram
	active   metric.Int64UpDownCounter
	llmReq   metric.Int64Counter
	llmTok   metric.Int64Counter
	llmDur   metric.Float64Histogram
	stepExec metric.Int64Counter
	stepDur  metric.Float64Histogram
	errs     metric.Int64Counter

	// Beyond the nine.
	ttft          metric.Float64Histogram
	llmCost       metric.Float64Counter
	wfCost        metric.Float64Counter
	retries       metric.Int64Counter
	backoff       metric.Float64Histogram
	rateLimitWait metric.Float64Histogram
	queueDepth    metric.Int64UpDownCounter
	queueWait     metric.Float64Histogram
	overflow      metric.Int64Counter

	// GenAI semantic conventions (nil when off).
	genAIDur  metric.Float64Histogram
	genAITok  metric.Int64Histogram
	genAITTFC metric.Float64Histogram
}

// New creates every instrument on mp (nil means otel.GetMeterProvider()).
// It fails only if the MeterProvider refuses an instrument.
func New(mp metric.MeterProvider, opts ...Option) (*Recorder, error) {
	cfg := config{genAI: true, maxWorkflows: 200, maxModels: 100, cacheSize: 8192}
	for _, o := range opts {
		o(&cfg)
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	b := builder{m: mp.Meter(ScopeName)}
	in := instruments{
		wfExec:   b.counter(nameWorkflowExecutions, "{execution}", "Finished workflow runs, by final status."),
		wfDur:    b.histogram(nameWorkflowDuration, "s", "Duration of finished workflow runs."),
		active:   b.upDown(nameActiveWorkflows, "{workflow}", "Workflow runs in progress."),
		llmReq:   b.counter(nameLLMRequests, "{request}", "LLM provider request attempts, chat and embeddings."),
		llmTok:   b.counter(nameLLMTokens, "{token}", "Tokens reported by LLM providers, by type (input, output)."),
		llmDur:   b.histogram(nameLLMDuration, "s", "Duration of LLM provider request attempts."),
		stepExec: b.counter(nameStepExecutions, "{execution}", "Finished steps, by type and final status."),
		stepDur:  b.histogram(nameStepDuration, "s", "Duration of executed steps, retries and backoff included."),
		errs:     b.counter(nameErrors, "{error}", "Errors, by error type and component (provider, step_executor, executor)."),

		ttft:          b.histogram(nameTTFT, "s", "Time from the start of a streamed LLM request to its first content chunk."),
		llmCost:       b.floatCounter(nameLLMCost, "{USD}", "Cost of LLM provider requests, in US dollars."),
		wfCost:        b.floatCounter(nameWorkflowCost, "{USD}", "Cost of finished workflow runs, in US dollars."),
		retries:       b.counter(nameStepRetries, "{retry}", "Step retries, by the error type of the failed attempt."),
		backoff:       b.histogram(nameStepBackoff, "s", "Backoff waits between step attempts."),
		rateLimitWait: b.histogram(nameRateLimitWait, "s", "Backoff waits caused by provider rate limits."),
		queueDepth:    b.upDown(nameQueueDepth, "{run}", "Runs waiting for admission."),
		queueWait:     b.histogram(nameQueueWait, "s", "Time runs waited for admission."),
		overflow:      b.counter(nameLabelOverflow, "{measurement}", "Measurements whose label value was replaced by _other."),
	}
	if cfg.genAI {
		in.genAIDur = b.histogram(nameGenAIDuration, "s", "GenAI operation duration.")
		in.genAITok = b.intHistogram(nameGenAITokens, "{token}", "Number of input and output tokens used.")
		in.genAITTFC = b.histogram(nameGenAIFirstChnk, "s", "Time to the first chunk of a streamed GenAI response.")
	}
	if b.err != nil {
		return nil, fmt.Errorf("create instruments: %w", b.err)
	}
	return &Recorder{
		inst:             in,
		genAI:            cfg.genAI,
		cost:             cfg.cost,
		workflows:        newLimiter(cfg.maxWorkflows),
		models:           newLimiter(cfg.maxModels),
		runs:             newCache[runKey, *runSet](cfg.cacheSize),
		steps:            newCache[stepKey, *stepSet](cfg.cacheSize),
		llm:              newCache[llmKey, *llmSet](cfg.cacheSize),
		retries:          newCache[retryKey, *retrySet](cfg.cacheSize),
		overflowWorkflow: addOpts(attribute.String("label", "workflow_name")),
		overflowModel:    addOpts(attribute.String("label", "model")),
	}, nil
}

// AllowWorkflowNames declares workflow names (for example the preloaded
// workflows) that are always used as workflow_name, outside the bound of
// WithMaxWorkflowNames. Safe for concurrent use.
func (r *Recorder) AllowWorkflowNames(names ...string) { r.workflows.allow(names...) }

// RunStarted counts the run as active.
func (r *Recorder) RunStarted(ctx context.Context, _ observe.RunStart) {
	r.inst.active.Add(ctx, 1)
}

// RunFinished records the run's execution, duration and cost, its failure
// (component executor), and ends its activity.
func (r *Recorder) RunFinished(ctx context.Context, e observe.RunEnd) {
	r.inst.active.Add(ctx, -1)
	s := r.runSet(ctx, runKey{workflow: e.Workflow, status: e.Status, errType: e.ErrorType})
	r.inst.wfExec.Add(ctx, 1, s.exec...)
	r.inst.wfDur.Record(ctx, e.Duration.Seconds(), s.wf...)
	if s.err != nil {
		r.inst.errs.Add(ctx, 1, s.err...)
	}
	if e.CostUSD > 0 {
		r.inst.wfCost.Add(ctx, e.CostUSD, s.wfAdd...)
	}
}

// StepStarted records nothing: steps are measured when they finish.
func (r *Recorder) StepStarted(context.Context, observe.StepStart) {}

// StepFinished records the step's execution, its duration unless it was
// skipped, and its failure (component step_executor).
func (r *Recorder) StepFinished(ctx context.Context, e observe.StepEnd) {
	s := r.stepSet(stepKey{stepType: e.StepType, status: e.Status, errType: e.ErrorType})
	r.inst.stepExec.Add(ctx, 1, s.exec...)
	if e.Status != observe.StatusSkipped {
		r.inst.stepDur.Record(ctx, e.Duration.Seconds(), s.dur...)
	}
	if s.err != nil {
		r.inst.errs.Add(ctx, 1, s.err...)
	}
}

// StepRetrying counts the retry and its backoff wait; a wait caused by a
// provider rate limit is also recorded per provider.
func (r *Recorder) StepRetrying(ctx context.Context, e observe.StepRetry) {
	k := retryKey{stepType: e.StepType, errType: e.ErrorType}
	if e.ErrorType == errtype.RateLimit {
		k.provider = e.Provider
	}
	s, ok := r.retries.load(k)
	if !ok {
		s = r.retries.store(k, newRetrySet(k))
	}
	r.inst.retries.Add(ctx, 1, s.retries...)
	r.inst.backoff.Record(ctx, e.Wait.Seconds(), s.backoff...)
	if s.rateLimit != nil {
		r.inst.rateLimitWait.Record(ctx, e.Wait.Seconds(), s.rateLimit...)
	}
}

// ProviderRequestFinished records one provider request attempt: request
// count and duration, reported tokens, its failure (component provider),
// time to first token, cost and the GenAI metrics.
func (r *Recorder) ProviderRequestFinished(ctx context.Context, e observe.ProviderRequest) {
	k := llmKey{provider: e.Provider, model: e.Model, status: e.Status, errType: e.ErrorType}
	if r.genAI { // the GenAI attributes; left empty otherwise so the key hashes faster
		k.kind, k.op, k.respModel, k.addr, k.port = e.ProviderKind, e.Operation, e.ResponseModel, e.ServerAddress, e.ServerPort
	}
	s := r.llmSet(ctx, k)
	dur := e.Duration.Seconds()
	r.inst.llmReq.Add(ctx, 1, s.req...)
	r.inst.llmDur.Record(ctx, dur, s.pm...)
	if e.InputTokens > 0 {
		r.inst.llmTok.Add(ctx, e.InputTokens, s.tokIn...)
	}
	if e.OutputTokens > 0 {
		r.inst.llmTok.Add(ctx, e.OutputTokens, s.tokOut...)
	}
	if s.err != nil {
		r.inst.errs.Add(ctx, 1, s.err...)
	}
	streamed := e.Stream && e.TimeToFirstChunk > 0
	if streamed {
		r.inst.ttft.Record(ctx, e.TimeToFirstChunk.Seconds(), s.pm...)
	}
	if r.cost != nil {
		if c := r.cost(e); c > 0 {
			r.inst.llmCost.Add(ctx, c, s.pmAdd...)
		}
	}
	if !r.genAI {
		return
	}
	r.inst.genAIDur.Record(ctx, dur, s.gOp...)
	if streamed {
		r.inst.genAITTFC.Record(ctx, e.TimeToFirstChunk.Seconds(), s.gOp...)
	}
	if e.InputTokens > 0 {
		r.inst.genAITok.Record(ctx, e.InputTokens, s.gTokIn...)
	}
	if e.OutputTokens > 0 {
		r.inst.genAITok.Record(ctx, e.OutputTokens, s.gTokOut...)
	}
}

// QueueEntered counts one run waiting for admission (an asynchronous run
// queued behind --max-inflight). Pair it with QueueLeft.
func (r *Recorder) QueueEntered(ctx context.Context) { r.inst.queueDepth.Add(ctx, 1) }

// QueueLeft ends a QueueEntered, recording how long the run waited.
func (r *Recorder) QueueLeft(ctx context.Context, waited time.Duration) {
	r.inst.queueDepth.Add(ctx, -1)
	r.inst.queueWait.Record(ctx, waited.Seconds())
}

// builder creates instruments, collecting errors.
type builder struct {
	m   metric.Meter
	err error
}

func (b *builder) keep(err error) { b.err = errors.Join(b.err, err) }

func (b *builder) counter(name, unit, desc string) metric.Int64Counter {
	c, err := b.m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.keep(err)
	return c
}

func (b *builder) floatCounter(name, unit, desc string) metric.Float64Counter {
	c, err := b.m.Float64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.keep(err)
	return c
}

func (b *builder) upDown(name, unit, desc string) metric.Int64UpDownCounter {
	c, err := b.m.Int64UpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.keep(err)
	return c
}

func (b *builder) histogram(name, unit, desc string) metric.Float64Histogram {
	h, err := b.m.Float64Histogram(name, metric.WithUnit(unit), metric.WithDescription(desc),
		metric.WithExplicitBucketBoundaries(histogramBuckets[name]...))
	b.keep(err)
	return h
}

func (b *builder) intHistogram(name, unit, desc string) metric.Int64Histogram {
	h, err := b.m.Int64Histogram(name, metric.WithUnit(unit), metric.WithDescription(desc),
		metric.WithExplicitBucketBoundaries(histogramBuckets[name]...))
	b.keep(err)
	return h
}
