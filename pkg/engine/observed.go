package engine

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
)

// observedProvider wraps a provider of the Set so that every Chat and Embed
// call emits one observe.ProviderRequest (and an llm.request span). The run
// and step come from the ctx the engine gives the step; outside a run the
// call is passed through unobserved.
type observedProvider struct {
	e       *Engine
	p       provider.Provider
	name    string
	kind    string
	address string
	port    int
}

var _ provider.Provider = (*observedProvider)(nil)

func newObservedProvider(e *Engine, entry *provider.Entry) *observedProvider {
	o := &observedProvider{e: e, p: entry.Provider, name: entry.Name, kind: entry.Kind}
	if u, err := url.Parse(entry.BaseURL); err == nil && u.Host != "" {
		o.address = u.Hostname()
		switch p, err := strconv.Atoi(u.Port()); {
		case err == nil:
			o.port = p
		case u.Scheme == "https":
			o.port = 443
		case u.Scheme == "http":
			o.port = 80
		}
	}
	return o
}

// callError tells which provider a failed request went to. Its message is
// the provider's error: the step's id and attempt give the context.
type callError struct {
	provider string
	err      error
}

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

func (o *observedProvider) Chat(ctx context.Context, req provider.ChatRequest) (*provider.ChatResponse, error) {
	rt, _ := ctx.Value(runtimeKey{}).(*stepRT)
	if rt == nil {
		return o.p.Chat(ctx, req)
	}
	ev := o.event(rt, observe.OpChat, req.Model)
	ev.Stream = req.Stream
	start := o.e.cfg.now()
	if req.Stream {
		next := req.OnChunk
		req.OnChunk = func(delta string) {
			if ev.TimeToFirstChunk == 0 {
				ev.TimeToFirstChunk = max(o.e.cfg.now().Sub(start), 1)
			}
			if next != nil {
				next(delta)
			}
		}
	}
	ctx, span := o.span(ctx, rt, observe.OpChat, req.Model)
	resp, err := o.p.Chat(ctx, req)
	if resp != nil {
		ev.ResponseModel = resp.Model
		ev.InputTokens, ev.OutputTokens = resp.Usage.InputTokens, resp.Usage.OutputTokens
	}
	return resp, o.done(ctx, span, rt, &ev, start, err)
}

func (o *observedProvider) Embed(ctx context.Context, req provider.EmbedRequest) (*provider.EmbedResponse, error) {
	rt, _ := ctx.Value(runtimeKey{}).(*stepRT)
	if rt == nil {
		return o.p.Embed(ctx, req)
	}
	ev := o.event(rt, observe.OpEmbeddings, req.Model)
	start := o.e.cfg.now()
	ctx, span := o.span(ctx, rt, observe.OpEmbeddings, req.Model)
	resp, err := o.p.Embed(ctx, req)
	if resp != nil {
		ev.ResponseModel = resp.Model
		ev.InputTokens, ev.OutputTokens = resp.Usage.InputTokens, resp.Usage.OutputTokens
	}
	return resp, o.done(ctx, span, rt, &ev, start, err)
}

func (o *observedProvider) event(rt *stepRT, op, model string) observe.ProviderRequest {
	return observe.ProviderRequest{
		RunID: rt.r.id, Workflow: rt.r.p.name, StepID: rt.cs.id,
		Provider: o.name, ProviderKind: o.kind, ServerAddress: o.address, ServerPort: o.port,
		Operation: op, Model: model, Status: observe.StatusSuccess,
	}
}

func (o *observedProvider) span(ctx context.Context, rt *stepRT, op, model string) (context.Context, trace.Span) {
	if !rt.r.tracing {
		return ctx, nil
	}
	attrs := []attribute.KeyValue{
		attribute.String("gen_ai.operation.name", op),
		attribute.String("gen_ai.provider.name", o.kind),
		attribute.String("gen_ai.request.model", model),
		attribute.String("orchestrator.provider", o.name),
	}
	if o.address != "" {
		attrs = append(attrs, attribute.String("server.address", o.address), attribute.Int("server.port", o.port))
	}
	return rt.r.e.tracer.Start(ctx, "llm.request", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// done completes the event, emits it, ends the span and returns err
// wrapped with the provider's name.
func (o *observedProvider) done(ctx context.Context, span trace.Span, rt *stepRT, ev *observe.ProviderRequest, start time.Time, err error) error {
	ev.Duration = o.e.cfg.now().Sub(start)
	if err != nil {
		ev.Status = observe.StatusFailure
		ev.ErrorType = providerErrorType(err)
		err = &callError{provider: o.name, err: err}
	}
	if f := o.e.cfg.cost; f != nil {
		if usd := f(*ev); usd > 0 {
			rt.addCost(usd)
		}
	}
	rt.r.obs.ProviderRequestFinished(ctx, *ev)
	if span != nil {
		span.SetAttributes(attribute.String("gen_ai.response.model", ev.ResponseModel),
			attribute.Int64("gen_ai.usage.input_tokens", ev.InputTokens),
			attribute.Int64("gen_ai.usage.output_tokens", ev.OutputTokens))
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
			span.SetAttributes(attribute.String("error.type", string(ev.ErrorType)))
		}
		span.End()
	}
	return err
}

// providerErrorType maps a failed request's error into the six provider
// error types: a provider's own type when it is one of them, timeout for a
// request cut off by a deadline or a cancellation, provider_error otherwise.
func providerErrorType(err error) errtype.Type {
	switch t := errtype.Of(err); t {
	case errtype.Timeout, errtype.RateLimit, errtype.Auth, errtype.InvalidRequest, errtype.ProviderError, errtype.Network:
		return t
	case errtype.Canceled:
		return errtype.Timeout
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errtype.Timeout
	}
	return errtype.ProviderError
}
