package steptest

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/cond"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// Builder is a fake step.Builder. Unlike the engine's, Template does not
// check that references point at ancestors.
type Builder struct {
	// Settings is returned by Env.
	Settings *step.Env
	// Providers are the providers Provider resolves, by name.
	Providers map[string]provider.Provider
	// Steps are the steps decoded so far by Build, found by Step.
	Steps []*workflow.Step
	// Problems holds every reported problem as "field: message".
	Problems []string
}

// NewBuilder returns a Builder with a discarding logger, the default HTTP
// client, the given providers, and no HTTP allowlist.
func NewBuilder(providers map[string]provider.Provider) *Builder {
	return &Builder{
		Settings: &step.Env{
			BaseDir:    ".",
			HTTPClient: http.DefaultClient,
			Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		},
		Providers: providers,
	}
}

var _ step.Builder = (*Builder)(nil)

// Template parses src with tmpl.Parse.
func (b *Builder) Template(field, src string) *tmpl.Template {
	t, err := tmpl.Parse(src)
	if err != nil {
		b.Errorf(field, "%v", err)
		return nil
	}
	return t
}

// Expr compiles src with cond.Compile.
func (b *Builder) Expr(field, src string) *cond.Expr {
	e, err := cond.Compile(src)
	if err != nil {
		b.Errorf(field, "%v", err)
		return nil
	}
	return e
}

// Provider returns Providers[name], or reports it unknown.
func (b *Builder) Provider(field, name string) provider.Provider {
	p, ok := b.Providers[name]
	if !ok {
		b.Errorf(field, "unknown provider %q", name)
		return nil
	}
	return p
}

type group struct{ step.GroupMarker }

// Group returns an opaque group; the fakes cannot run nested steps.
func (b *Builder) Group(field string, steps []*workflow.Step) step.Group { return group{} }

// Errorf records a problem.
func (b *Builder) Errorf(field, format string, args ...any) {
	b.Problems = append(b.Problems, field+": "+fmt.Sprintf(format, args...))
}

// Env returns Settings.
func (b *Builder) Env() *step.Env { return b.Settings }

// Step returns the step with the given id among Steps, or nil.
func (b *Builder) Step(id string) *workflow.Step {
	i := slices.IndexFunc(b.Steps, func(s *workflow.Step) bool { return s.ID == id })
	if i < 0 {
		return nil
	}
	return b.Steps[i]
}

// Build decodes src (see Decode), appends the step to Steps and builds it
// with spec. It returns nil when spec.Build reported problems (see
// Problems).
func (b *Builder) Build(t testing.TB, spec step.Spec, src string) step.Executor {
	t.Helper()
	s, err := Decode(spec, src)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	b.Steps = append(b.Steps, s)
	return spec.Build(b, s)
}
