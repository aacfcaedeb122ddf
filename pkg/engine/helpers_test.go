package engine_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/branch"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/parallel"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// fakeConfig configures the test-only `fake` step type.
type fakeConfig struct {
	SleepMS      int    `yaml:"sleep_ms"`   // sleep, honouring ctx unless ignore_ctx
	IgnoreCtx    bool   `yaml:"ignore_ctx"` // sleep through cancellation
	Fail         string `yaml:"fail"`       // fail with this error type
	FailTimes    int    `yaml:"fail_times"` // fail only the first n attempts (0: every attempt)
	RetryAfterMS int    `yaml:"retry_after_ms"`
	Panic        bool   `yaml:"panic"`
	Value        string `yaml:"value"`    // object {"value": value}, values [value]
	Read         string `yaml:"read"`     // object["read"] = steps.<read>.value, "" when absent
	Provider     string `yaml:"provider"` // call Chat (or Embed) on this provider first
	Model        string `yaml:"model"`
	Stream       bool   `yaml:"stream"`
	Embed        bool   `yaml:"embed"`
	Template     string `yaml:"template"` // object["rendered"] = the rendering
}

// recorder watches fake steps: peak concurrency, start times, attempts.
type recorder struct {
	t0      time.Time
	mu      sync.Mutex
	running int
	peak    int
	starts  map[string]time.Duration
	attempt map[string]int
}

func newRecorder() *recorder {
	return &recorder{t0: time.Now(), starts: map[string]time.Duration{}, attempt: map[string]int{}}
}

func (r *recorder) begin(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running++
	r.peak = max(r.peak, r.running)
	if _, ok := r.starts[id]; !ok {
		r.starts[id] = time.Since(r.t0)
	}
	r.attempt[id]++
	return r.attempt[id]
}

func (r *recorder) end() {
	r.mu.Lock()
	r.running--
	r.mu.Unlock()
}

func (r *recorder) peakRunning() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peak
}

func (r *recorder) started(id string) (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.starts[id]
	return d, ok
}

// fakeSpec is the `fake` step type, reporting to rec (nil: no recording).
func fakeSpec(rec *recorder) step.Spec {
	return step.Spec{
		Type:      "fake",
		NewConfig: func() any { return new(fakeConfig) },
		Build: func(b step.Builder, s *workflow.Step) step.Executor {
			c := s.Config.(*fakeConfig)
			var p provider.Provider
			if c.Provider != "" {
				if p = b.Provider("provider", c.Provider); p == nil {
					return nil
				}
			}
			var tpl *tmpl.Template
			if c.Template != "" {
				if tpl = b.Template("template", c.Template); tpl == nil {
					return nil
				}
			}
			if c.Fail != "" && !slices.Contains(errTypes, errtype.Type(c.Fail)) {
				b.Errorf("fail", "unknown error type %q", c.Fail)
				return nil
			}
			return step.ExecutorFunc(func(ctx context.Context, rt step.Runtime) (step.Result, error) {
				attempt := 1
				if rec != nil {
					attempt = rec.begin(rt.StepID())
					defer rec.end()
				}
				obj := map[string]any{}
				if p != nil {
					text, err := callProvider(ctx, p, c)
					if err != nil {
						return step.Result{}, err
					}
					obj["text"] = text
				}
				if c.SleepMS > 0 {
					if c.IgnoreCtx {
						time.Sleep(time.Duration(c.SleepMS) * time.Millisecond)
					} else {
						select {
						case <-time.After(time.Duration(c.SleepMS) * time.Millisecond):
						case <-ctx.Done():
							return step.Result{}, ctx.Err()
						}
					}
				}
				if c.Panic {
					panic("fake step exploded")
				}
				if c.Fail != "" && (c.FailTimes == 0 || attempt <= c.FailTimes) {
					if c.RetryAfterMS > 0 {
						return step.Result{}, &provider.Error{Type: errtype.Type(c.Fail), StatusCode: 429,
							RetryAfter: time.Duration(c.RetryAfterMS) * time.Millisecond, Message: "slow down"}
					}
					return step.Result{}, errtype.New(errtype.Type(c.Fail), fmt.Errorf("fake failure on attempt %d", attempt))
				}
				if c.Read != "" {
					steps := rt.Data()["steps"].(map[string]any)
					v := ""
					if o, ok := steps[c.Read].(map[string]any); ok {
						v = fmt.Sprint(o["value"])
					}
					obj["read"] = v
				}
				if tpl != nil {
					out, err := tpl.Render(rt.Data())
					if err != nil {
						return step.Result{}, err
					}
					obj["rendered"] = out
				}
				if c.Value != "" {
					obj["value"] = c.Value
					return step.Result{Object: obj, Values: []any{c.Value}}, nil
				}
				return step.Result{Object: obj}, nil
			})
		},
	}
}

var errTypes = []errtype.Type{errtype.Timeout, errtype.RateLimit, errtype.Auth, errtype.InvalidRequest,
	errtype.ProviderError, errtype.Network, errtype.Template, errtype.Validation, errtype.ExecutionError}

func callProvider(ctx context.Context, p provider.Provider, c *fakeConfig) (string, error) {
	if c.Embed {
		_, err := p.Embed(ctx, provider.EmbedRequest{Model: c.Model, Input: []string{"a", "b"}})
		return "", err
	}
	var chunks []string
	resp, err := p.Chat(ctx, provider.ChatRequest{Model: c.Model, Prompt: "hello", Stream: c.Stream,
		OnChunk: func(d string) { chunks = append(chunks, d) }})
	if err != nil {
		return "", err
	}
	if c.Stream && strings.Join(chunks, "") != resp.Text {
		return "", fmt.Errorf("chunks %q do not add up to %q", chunks, resp.Text)
	}
	return resp.Text, nil
}

// fakeProvider answers by model name: "ok" (10 in, 5 out tokens, reports
// model "ok-v2"), "slow" (1 s, honours ctx), "broken" (500 with a partial
// usage of 7 input tokens), "limited" (429 with Retry-After 2 s).
type fakeProvider struct{}

func (fakeProvider) Chat(ctx context.Context, req provider.ChatRequest) (*provider.ChatResponse, error) {
	switch req.Model {
	case "slow":
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return nil, &provider.Error{Type: errtype.Timeout, Message: "request cut off", Err: ctx.Err()}
		}
	case "broken":
		return &provider.ChatResponse{Usage: provider.Usage{InputTokens: 7}}, &provider.Error{Type: errtype.ProviderError, StatusCode: 500, Message: "internal"}
	case "limited":
		return nil, &provider.Error{Type: errtype.RateLimit, StatusCode: 429, RetryAfter: 2 * time.Second, Message: "slow down"}
	}
	if req.Stream {
		time.Sleep(100 * time.Millisecond)
		for _, d := range []string{"hel", "lo"} {
			req.OnChunk(d)
		}
	}
	return &provider.ChatResponse{Text: "hello", Model: "ok-v2", FinishReason: "stop", Usage: provider.Usage{InputTokens: 10, OutputTokens: 5}}, nil
}

func (fakeProvider) Embed(ctx context.Context, req provider.EmbedRequest) (*provider.EmbedResponse, error) {
	return &provider.EmbedResponse{Vectors: [][]float64{{1}, {0}}, Model: req.Model, Usage: provider.Usage{InputTokens: 2}}, nil
}

func fakeProviders(t testing.TB) *provider.Set {
	reg := provider.NewRegistry()
	reg.Register("fake", func(provider.Config) (provider.Provider, error) { return fakeProvider{}, nil })
	reg.Register("nokey", func(provider.Config) (provider.Provider, error) { return nil, errors.New("FAKE_API_KEY is not set") })
	set, err := reg.NewSet([]provider.Config{
		{Name: "myfake", Kind: "fake", BaseURL: "http://127.0.0.1:8089/v1"},
		{Name: "secure", Kind: "fake", BaseURL: "https://llm.example.test/v1"},
		{Name: "keyless", Kind: "nokey"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// testSteps is a registry with the fake type, parallel and branch.
func testSteps(rec *recorder) *step.Registry {
	r := step.NewRegistry()
	r.Register(fakeSpec(rec))
	r.Register(parallel.Spec())
	r.Register(branch.Spec())
	return r
}

// events is an Observer recording every event as one line.
type events struct {
	mu    sync.Mutex
	lines []string
}

func (e *events) add(format string, args ...any) {
	e.mu.Lock()
	e.lines = append(e.lines, fmt.Sprintf(format, args...))
	e.mu.Unlock()
}

func (e *events) RunStarted(_ context.Context, ev observe.RunStart) {
	e.add("run start %s", ev.Workflow)
}
func (e *events) RunFinished(_ context.Context, ev observe.RunEnd) {
	e.add("run end %s %s %s", ev.Workflow, ev.Status, ev.ErrorType)
}
func (e *events) StepStarted(_ context.Context, ev observe.StepStart) {
	e.add("step start %s %s", ev.StepID, ev.StepType)
}
func (e *events) StepFinished(_ context.Context, ev observe.StepEnd) {
	if ev.Status == observe.StatusSkipped {
		e.add("step end %s %s skipped (%s) attempts=%d", ev.StepID, ev.StepType, ev.SkipReason, ev.Attempts)
		return
	}
	e.add("step end %s %s %s %s attempts=%d", ev.StepID, ev.StepType, ev.Status, ev.ErrorType, ev.Attempts)
}
func (e *events) StepRetrying(_ context.Context, ev observe.StepRetry) {
	e.add("retry %s attempt=%d %s provider=%q retry_after=%v", ev.StepID, ev.Attempt, ev.ErrorType, ev.Provider, ev.RetryAfter)
}
func (e *events) ProviderRequestFinished(_ context.Context, ev observe.ProviderRequest) {
	e.add("provider %s %s/%s %s %s model=%s status=%s %s in=%d out=%d stream=%v ttfc=%v server=%s:%d",
		ev.StepID, ev.Provider, ev.ProviderKind, ev.Operation, ev.Model, ev.ResponseModel, ev.Status, ev.ErrorType,
		ev.InputTokens, ev.OutputTokens, ev.Stream, ev.TimeToFirstChunk > 0, ev.ServerAddress, ev.ServerPort)
}

func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.lines)
}

// sorted returns the lines sorted, for runs whose order is not fixed.
func (e *events) sorted() []string {
	l := e.get()
	slices.Sort(l)
	return l
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newEngine returns an engine with the test step types and providers.
func newEngine(t testing.TB, rec *recorder, opts ...engine.Option) (*engine.Engine, *events) {
	t.Helper()
	ev := &events{}
	opts = append([]engine.Option{engine.WithSteps(testSteps(rec)), engine.WithProviders(fakeProviders(t)),
		engine.WithObserver(ev), engine.WithLogger(quiet())}, opts...)
	e, err := engine.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e, ev
}

func load(t testing.TB, e *engine.Engine, src string) *engine.Plan {
	t.Helper()
	p, err := e.Load("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return p
}

func mustRun(t testing.TB, ctx context.Context, e *engine.Engine, p *engine.Plan, inputs map[string]any) *engine.Result {
	t.Helper()
	res, err := e.Run(ctx, p, inputs)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

// summary is "id:status[:errtype][:attempts]" per step, sorted.
func summary(res *engine.Result) string {
	var out []string
	for id, s := range res.Steps {
		x := id + ":" + s.Status
		if s.Error != nil {
			x += ":" + s.Error.Type
		}
		if s.Status != observe.StatusSkipped {
			x += fmt.Sprintf(":%d", s.Attempts)
		} else {
			x += "(" + s.SkipReason + ")"
		}
		out = append(out, x)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func diff(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("lines:\n  got:\n\t%s\n  want:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}
