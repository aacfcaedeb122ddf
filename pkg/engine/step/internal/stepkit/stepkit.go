package stepkit

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/internal/suggest"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// Builder wraps a step.Builder and records whether anything went wrong.
type Builder struct {
	step.Builder
	failed bool
}

// Wrap returns b wrapped.
func Wrap(b step.Builder) *Builder { return &Builder{Builder: b} }

// Failed reports whether a problem was reported through this Builder.
func (b *Builder) Failed() bool { return b.failed }

// Errorf reports a problem at field.
func (b *Builder) Errorf(field, format string, args ...any) {
	b.failed = true
	b.Builder.Errorf(field, format, args...)
}

// Template parses src (see step.Builder.Template).
func (b *Builder) Template(field, src string) *tmpl.Template {
	t := b.Builder.Template(field, src)
	if t == nil {
		b.failed = true
	}
	return t
}

// Templates parses every element of srcs, reported at field.
func (b *Builder) Templates(field string, srcs []string) []*tmpl.Template {
	out := make([]*tmpl.Template, len(srcs))
	for i, s := range srcs {
		out[i] = b.Template(field, s)
	}
	return out
}

// TemplateMap parses every value of m, reported at field.
func (b *Builder) TemplateMap(field string, m map[string]string) map[string]*tmpl.Template {
	out := make(map[string]*tmpl.Template, len(m))
	for k, s := range m {
		out[k] = b.Template(field, s)
	}
	return out
}

// Provider resolves a provider (see step.Builder.Provider).
func (b *Builder) Provider(field, name string) provider.Provider {
	p := b.Builder.Provider(field, name)
	if p == nil {
		b.failed = true
	}
	return p
}

// Has reports whether the step sets key.
func Has(s *workflow.Step, key string) bool {
	_, ok := s.FieldPos[key]
	return ok
}

// Foreign reports, at their own position, the keys of s among all that are
// not in allowed, for a step whose keys depend on a mode (what, e.g.
// `function "concat"`).
func Foreign(b *Builder, s *workflow.Step, all, allowed []string, what string) {
	for _, k := range all {
		if Has(s, k) && !slices.Contains(allowed, k) {
			b.Errorf(k, "key %q does not belong to %s (its keys: %s)", k, what, strings.Join(allowed, ", "))
		}
	}
}

// Render renders t against data with an output limit of max bytes (the
// tmpl default when max <= 0). Errors are errtype.Template, naming what.
func Render(t *tmpl.Template, data map[string]any, max int, what string) (string, error) {
	out, err := t.RenderLimit(data, max)
	if err != nil {
		return "", errtype.New(errtype.Template, fmt.Errorf("render %s: %w", what, err))
	}
	return out, nil
}

// Value returns the raw value when t is a single {{ path }}, and its
// rendering otherwise.
func Value(t *tmpl.Template, data map[string]any, max int, what string) (any, error) {
	if v, ok := t.Value(data); ok {
		return v, nil
	}
	return Render(t, data, max, what)
}

// Unknown formats "unknown KIND "x" (did you mean "y"?); known: a, b".
func Unknown(kind, name string, known []string) string {
	known = slices.Clone(known)
	sort.Strings(known)
	msg := fmt.Sprintf("unknown %s %q", kind, name)
	if s := suggest.Closest(name, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg + "; known: " + strings.Join(known, ", ")
}

// Describe names v's JSON kind for messages ("a list", "text", ...).
func Describe(v any) string {
	rv := reflect.ValueOf(v)
	switch {
	case !rv.IsValid():
		return "null"
	case rv.Kind() == reflect.String:
		return "text"
	case rv.Kind() == reflect.Bool:
		return "a boolean"
	case rv.CanInt() || rv.CanUint() || rv.CanFloat():
		return "a number"
	case rv.Kind() == reflect.Map:
		return "an object"
	case rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array:
		return fmt.Sprintf("a list of %d", rv.Len())
	}
	return fmt.Sprintf("a %T", v)
}
