package provider

import (
	"fmt"
	"sort"
)

// Registry maps a provider kind (openai, anthropic, simulated) to its
// Factory. Build one per process or per test; there is no global registry.
// A Registry is not safe for concurrent Register calls; register everything
// before use.
type Registry struct {
	factories map[string]Factory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{factories: map[string]Factory{}} }

// Register adds a kind. Registering a kind twice panics: it is a programming error.
func (r *Registry) Register(kind string, f Factory) {
	if _, dup := r.factories[kind]; dup {
		panic(fmt.Sprintf("provider: kind %q registered twice", kind))
	}
	r.factories[kind] = f
}

// Kinds lists the registered kinds, sorted.
func (r *Registry) Kinds() []string {
	out := make([]string, 0, len(r.factories))
	for k := range r.factories {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Entry is one named provider instance in a Set.
type Entry struct {
	Name     string
	Kind     string
	BaseURL  string   // effective base URL ("" for simulated)
	Provider Provider // nil when Err is set
	// Err says why the provider is unusable (for example "OPENAI_API_KEY is
	// not set"). A workflow that uses the provider fails validation with it;
	// workflows that do not use it are unaffected.
	Err error
}

// Set is the immutable set of named providers workflows can use. It is safe
// for concurrent use.
type Set struct {
	entries map[string]*Entry
}

// NewSet builds every config with its kind's factory. A factory error is kept
// in the entry (see Entry.Err); an unknown kind or a duplicate name is an error.
func (r *Registry) NewSet(cfgs []Config) (*Set, error) {
	s := &Set{entries: make(map[string]*Entry, len(cfgs))}
	for _, c := range cfgs {
		f, ok := r.factories[c.Kind]
		if !ok {
			return nil, fmt.Errorf("provider %q: unknown kind %q (known: %v)", c.Name, c.Kind, r.Kinds())
		}
		if _, dup := s.entries[c.Name]; dup {
			return nil, fmt.Errorf("provider %q: defined twice", c.Name)
		}
		e := &Entry{Name: c.Name, Kind: c.Kind, BaseURL: c.BaseURL}
		p, err := f(c)
		if err != nil {
			e.Err = fmt.Errorf("provider %q: %w", c.Name, err)
		} else {
			e.Provider = p
		}
		s.entries[c.Name] = e
	}
	return s, nil
}

// Lookup returns the entry named name.
func (s *Set) Lookup(name string) (*Entry, bool) {
	if s == nil {
		return nil, false
	}
	e, ok := s.entries[name]
	return e, ok
}

// Names lists the provider names, sorted.
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.entries))
	for k := range s.entries {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
