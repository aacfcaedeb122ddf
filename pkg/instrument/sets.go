package instrument

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.38.0"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
)

// Attribute keys of the orchestrator metrics.
const (
	keyStatus    = attribute.Key("status")
	keyWorkflow  = attribute.Key("workflow_name")
	keyProvider  = attribute.Key("provider")
	keyModel     = attribute.Key("model")
	keyType      = attribute.Key("type")
	keyStepType  = attribute.Key("step_type")
	keyErrorType = attribute.Key("error_type")
	keyComponent = attribute.Key("component")
)

func addOpts(kv ...attribute.KeyValue) []metric.AddOption {
	return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
}

func recOpts(kv ...attribute.KeyValue) []metric.RecordOption {
	return []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
}

func errOpts(t errtype.Type, component string) []metric.AddOption {
	return addOpts(keyErrorType.String(string(t)), keyComponent.String(component))
}

// Closed sets of error_type per component. Values outside them are mapped
// to the component's catch-all (see docs/metrics.md).
var (
	providerErrorTypes = set(errtype.Timeout, errtype.RateLimit, errtype.Auth, errtype.InvalidRequest,
		errtype.ProviderError, errtype.Network)
	stepErrorTypes = set(errtype.Timeout, errtype.RateLimit, errtype.Auth, errtype.InvalidRequest,
		errtype.ProviderError, errtype.Network, errtype.Template, errtype.Validation,
		errtype.ExecutionError, errtype.Canceled)
	runErrorTypes = set(errtype.Timeout, errtype.Canceled, errtype.StepFailed)
)

func set(ts ...errtype.Type) map[errtype.Type]bool {
	m := make(map[errtype.Type]bool, len(ts))
	for _, t := range ts {
		m[t] = true
	}
	return m
}

func closed(t errtype.Type, allowed map[errtype.Type]bool, fallback errtype.Type) errtype.Type {
	if allowed[t] {
		return t
	}
	return fallback
}

// Runs.

type runKey struct {
	workflow, status string
	errType          errtype.Type
}

type runSet struct {
	exec  []metric.AddOption    // status, workflow_name
	wf    []metric.RecordOption // workflow_name
	wfAdd []metric.AddOption    // workflow_name
	err   []metric.AddOption    // nil unless the run failed
}

func (r *Recorder) runSet(ctx context.Context, k runKey) *runSet {
	if s, ok := r.runs.load(k); ok {
		return s
	}
	if !r.workflows.admit(k.workflow) {
		r.inst.overflow.Add(ctx, 1, r.overflowWorkflow...)
		k.workflow = OverflowValue
		if s, ok := r.runs.load(k); ok {
			return s
		}
	}
	wf := metric.WithAttributeSet(attribute.NewSet(keyWorkflow.String(k.workflow)))
	s := &runSet{
		exec:  addOpts(keyStatus.String(k.status), keyWorkflow.String(k.workflow)),
		wf:    []metric.RecordOption{wf},
		wfAdd: []metric.AddOption{wf},
	}
	if k.status == observe.StatusFailure {
		s.err = errOpts(closed(k.errType, runErrorTypes, errtype.StepFailed), ComponentExecutor)
	}
	return r.runs.store(k, s)
}

// Steps.

type stepKey struct {
	stepType, status string
	errType          errtype.Type
}

type stepSet struct {
	exec []metric.AddOption    // step_type, status
	dur  []metric.RecordOption // step_type
	err  []metric.AddOption    // nil unless the step failed
}

func (r *Recorder) stepSet(k stepKey) *stepSet {
	if s, ok := r.steps.load(k); ok {
		return s
	}
	s := &stepSet{
		exec: addOpts(keyStepType.String(k.stepType), keyStatus.String(k.status)),
		dur:  recOpts(keyStepType.String(k.stepType)),
	}
	if k.status == observe.StatusFailure {
		s.err = errOpts(closed(k.errType, stepErrorTypes, errtype.ExecutionError), ComponentStepExecutor)
	}
	return r.steps.store(k, s)
}

// Provider requests.

type llmKey struct {
	provider, kind, op, model, respModel, status string
	errType                                      errtype.Type
	addr                                         string
	port                                         int
}

type llmSet struct {
	req    []metric.AddOption    // provider, model, status
	pm     []metric.RecordOption // provider, model
	pmAdd  []metric.AddOption    // provider, model
	tokIn  []metric.AddOption    // provider, model, type=input
	tokOut []metric.AddOption    // provider, model, type=output
	err    []metric.AddOption    // nil unless the attempt failed (and was not canceled)

	gOp     []metric.RecordOption // GenAI operation attributes
	gTokIn  []metric.RecordOption
	gTokOut []metric.RecordOption
}

func (r *Recorder) llmSet(ctx context.Context, k llmKey) *llmSet {
	if s, ok := r.llm.load(k); ok {
		return s
	}
	over := false
	if !r.models.admit(k.model) {
		k.model, over = OverflowValue, true
	}
	if k.respModel != "" && !r.models.admit(k.respModel) {
		k.respModel, over = OverflowValue, true
	}
	if over {
		r.inst.overflow.Add(ctx, 1, r.overflowModel...)
		if s, ok := r.llm.load(k); ok {
			return s
		}
	}
	p, m := keyProvider.String(k.provider), keyModel.String(k.model)
	pm := metric.WithAttributeSet(attribute.NewSet(p, m))
	s := &llmSet{
		req:    addOpts(p, m, keyStatus.String(k.status)),
		pm:     []metric.RecordOption{pm},
		pmAdd:  []metric.AddOption{pm},
		tokIn:  addOpts(p, m, keyType.String("input")),
		tokOut: addOpts(p, m, keyType.String("output")),
	}
	if k.status == observe.StatusFailure && k.errType != errtype.Canceled {
		s.err = errOpts(closed(k.errType, providerErrorTypes, errtype.ProviderError), ComponentProvider)
	}
	if r.genAI {
		kind := k.kind
		if kind == "" {
			kind = k.provider
		}
		g := []attribute.KeyValue{
			semconv.GenAIOperationNameKey.String(k.op),
			semconv.GenAIProviderNameKey.String(kind),
			semconv.GenAIRequestModelKey.String(k.model),
		}
		if k.respModel != "" {
			g = append(g, semconv.GenAIResponseModelKey.String(k.respModel))
		}
		if k.addr != "" {
			g = append(g, semconv.ServerAddressKey.String(k.addr), semconv.ServerPortKey.Int(k.port))
		}
		tok := g
		if k.status == observe.StatusFailure {
			et := k.errType
			if et == "" {
				et = errtype.ProviderError
			}
			g = append(g[:len(g):len(g)], semconv.ErrorTypeKey.String(string(et)))
		}
		s.gOp = recOpts(g...)
		s.gTokIn = recOpts(append(tok[:len(tok):len(tok)], semconv.GenAITokenTypeInput)...)
		s.gTokOut = recOpts(append(tok[:len(tok):len(tok)], semconv.GenAITokenTypeOutput)...)
	}
	return r.llm.store(k, s)
}

// Retries.

type retryKey struct {
	stepType string
	errType  errtype.Type
	provider string // set only for rate-limit retries caused by a provider
}

type retrySet struct {
	retries   []metric.AddOption    // step_type, error_type
	backoff   []metric.RecordOption // step_type
	rateLimit []metric.RecordOption // provider; nil unless a provider rate limit
}

func newRetrySet(k retryKey) *retrySet {
	s := &retrySet{
		retries: addOpts(keyStepType.String(k.stepType), keyErrorType.String(string(k.errType))),
		backoff: recOpts(keyStepType.String(k.stepType)),
	}
	if k.provider != "" {
		s.rateLimit = recOpts(keyProvider.String(k.provider))
	}
	return s
}
