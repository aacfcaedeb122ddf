// Package tmpl implements the Handlebars-style templates used in prompts,
// inputs, queries, transform templates and action bodies. Templates are
// parsed once at load time; rendering is safe for concurrent use.
package tmpl

// Template is a parsed template.
type Template struct {
	src string
}

// Parse parses src. The error, if any, is a *SyntaxError.
func Parse(src string) (*Template, error) { panic("TODO") }

// Source returns the template text.
func (t *Template) Source() string { return t.src }

// Refs returns the normalised paths the template reads, e.g.
// "inputs.ticket" (also for the bare form "ticket"), "steps.classify.label".
// Paths relative to an #each item (this, @index) are not included.
func (t *Template) Refs() []string { panic("TODO") }

// Render renders t against data ({"inputs": ..., "steps": ...}).
func (t *Template) Render(data map[string]any) (string, error) { panic("TODO") }

// Value returns the raw value when the whole template is a single
// {{ path }} expression (surrounding whitespace ignored), and false otherwise.
func (t *Template) Value(data map[string]any) (any, bool) { panic("TODO") }
