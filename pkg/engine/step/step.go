package step

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/cond"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// Spec describes one step type: the YAML `type:` name, its config struct
// and how to compile a step of that type into an Executor.
type Spec struct {
	Type string
	// NewConfig returns a pointer to a fresh config struct (see
	// workflow.StepTypes for the tag rules).
	NewConfig func() any
	// Build compiles a decoded step (s.Config is the value NewConfig
	// returned, filled in) into an Executor. It reports every problem
	// through b (parse templates, look up providers, check values) and
	// returns nil when it reported any. It runs once, at load time.
	Build func(b Builder, s *workflow.Step) Executor
}

// Builder is what Spec.Build uses to compile a step. Problems are reported
// at the position of the named field (a key of the step, such as "prompt").
// Not safe for concurrent use.
type Builder interface {
	// Template parses src at load time and checks that every reference is
	// an input or an output of an ancestor step. It reports problems and
	// returns nil on any.
	Template(field, src string) *tmpl.Template
	// Expr compiles an expression (conditions, branch `on`) and checks its
	// references like Template. It reports problems and returns nil on any.
	Expr(field, src string) *cond.Expr
	// Provider returns the named provider, wrapped so that every call
	// emits a ProviderRequest event (provider name as written, model,
	// status, duration, tokens, time to first chunk). It reports an unknown
	// or unusable provider and returns nil.
	Provider(field, name string) provider.Provider
	// Group compiles nested steps (parallel tasks, a branch's list).
	Group(field string, steps []*workflow.Step) Group
	// Errorf reports a problem at field's position.
	Errorf(field, format string, args ...any)
	// Env returns engine-wide settings.
	Env() *Env
}

// Group is a compiled list of nested steps. Run it with Runtime.RunGroup.
type Group interface{ isGroup() }

// GroupMarker is embedded by the engine's Group implementation.
type GroupMarker struct{}

func (GroupMarker) isGroup() {}

// Env holds engine-wide settings that step types need.
type Env struct {
	// BaseDir resolves relative file paths (vector corpora). It is the
	// directory of the workflow file, or the process's working directory.
	BaseDir string
	// HTTPClient is used by action: http. Never nil.
	HTTPClient *http.Client
	// AllowHTTPHosts is the allowlist for action: http; empty disables it.
	AllowHTTPHosts []string
	// MaxTemplateBytes bounds one template's rendered output.
	MaxTemplateBytes int
	// Logger is the engine's logger; Runtime.Logger adds run and step attributes.
	Logger *slog.Logger
	// Indexes caches loaded vector indexes, shared by every run of the engine.
	Indexes any
}

// Runtime is what an executor sees during one attempt.
type Runtime interface {
	// Data is the template data: {"inputs": {...}, "steps": {id: object}}.
	// Read-only; it holds only finished steps.
	Data() map[string]any
	// RunGroup runs nested steps with the engine's scheduling, retries,
	// events and fail-fast rules. It returns a non-nil error when any
	// nested step failed.
	RunGroup(ctx context.Context, g Group) error
	// Logger carries run_id, workflow_name and step_id.
	Logger() *slog.Logger
	// StepID is the running step's id.
	StepID() string
}

// Result is what one successful attempt produced.
type Result struct {
	// Object is the step's output object, visible as steps.<id> to later
	// steps (for example text, model, usage, finish_reason for llm).
	Object map[string]any
	// Values are bound, in order, to the names in the step's `output:`
	// list and added to Object.
	Values []any
}

// Executor runs one attempt of a compiled step. Execute honours ctx (the
// attempt's deadline and the run's cancellation) and returns typed errors
// (errtype.Typed or *provider.Error) so that the engine can classify and
// retry them. It must not retry, log failures or record metrics itself; the
// engine does. It is called from many goroutines at once and must be safe
// for concurrent use.
type Executor interface {
	Execute(ctx context.Context, rt Runtime) (Result, error)
}

// ExecutorFunc adapts a function to Executor.
type ExecutorFunc func(ctx context.Context, rt Runtime) (Result, error)

// Execute calls f.
func (f ExecutorFunc) Execute(ctx context.Context, rt Runtime) (Result, error) { return f(ctx, rt) }

// Registry maps step types to specs. It implements workflow.StepTypes.
// Build it before use; it is safe for concurrent reads.
type Registry struct {
	specs map[string]Spec
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{specs: map[string]Spec{}} }

// Register adds a spec. Registering a type twice panics.
func (r *Registry) Register(s Spec) {
	if _, dup := r.specs[s.Type]; dup {
		panic(fmt.Sprintf("step: type %q registered twice", s.Type))
	}
	r.specs[s.Type] = s
}

// Lookup returns the spec for typ.
func (r *Registry) Lookup(typ string) (Spec, bool) {
	s, ok := r.specs[typ]
	return s, ok
}

// NewConfig implements workflow.StepTypes.
func (r *Registry) NewConfig(typ string) (any, bool) {
	s, ok := r.specs[typ]
	if !ok {
		return nil, false
	}
	return s.NewConfig(), true
}

// Types implements workflow.StepTypes.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.specs))
	for t := range r.specs {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
