package tmpl

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
)

// Limits.
const (
	// MaxDepth bounds the nesting of blocks and sub-expressions; deeper
	// templates fail to parse.
	MaxDepth = 64
	// MaxSteps bounds the work of one render: each output tag, block,
	// #each iteration and helper call costs one step, and helpers cost one
	// more step per 64 bytes they read or build. Exceeding it fails with
	// ErrWorkLimit.
	MaxSteps = 1 << 20
	// DefaultMaxBytes is the output limit of Render and Value, and of
	// RenderLimit when its maxBytes is not positive.
	DefaultMaxBytes = 1 << 20
)

var (
	// ErrOutputLimit is wrapped by render errors when the output, or a
	// string a helper builds, exceeds the limit.
	ErrOutputLimit = errors.New("template output limit exceeded")
	// ErrWorkLimit is wrapped by render errors when a render does more
	// than MaxSteps steps (typically nested #each over large lists).
	ErrWorkLimit = errors.New("template work limit exceeded")
)

// SyntaxError is the error Parse returns. Line and Column are 1-based
// positions within the template source (columns count runes). cond.Compile
// returns it too.
type SyntaxError struct {
	Line, Column int
	Msg          string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg) }

// Template is a parsed template. It is immutable and safe for concurrent use.
type Template struct {
	src    string
	nodes  []node
	refs   []string
	single expr // the expression, when the template is only one
}

// Parse parses src. The error, if any, is a *SyntaxError: an unclosed or
// mismatched block, an unknown helper (with a suggestion), a wrong number
// of helper arguments, a bad path, or nesting deeper than MaxDepth.
func Parse(src string) (*Template, error) {
	items, err := lex(src)
	if err != nil {
		return nil, err
	}
	trimWhitespace(items)
	p := &parser{src: src, items: items, refs: map[string]struct{}{}}
	nodes, term, err := p.parseNodes()
	if err != nil {
		return nil, err
	}
	if term != nil {
		if term.kind == itemElse {
			return nil, p.errorf(term.pos, "{{else}} outside a block")
		}
		return nil, p.errorf(term.pos, "unexpected {{/%s}}: no block is open", term.name)
	}
	t := &Template{src: src, nodes: nodes, refs: make([]string, 0, len(p.refs))}
	for r := range p.refs {
		t.refs = append(t.refs, r)
	}
	slices.Sort(t.refs)
	t.single = singleExpr(nodes)
	return t, nil
}

// singleExpr returns the expression of a template that is one {{ }} tag
// surrounded by whitespace, or nil.
func singleExpr(nodes []node) expr {
	var e expr
	for _, n := range nodes {
		switch n := n.(type) {
		case textNode:
			if strings.TrimSpace(string(n)) != "" {
				return nil
			}
		case *outNode:
			if e != nil {
				return nil
			}
			e = n.e
		default:
			return nil
		}
	}
	return e
}

// Source returns the template text.
func (t *Template) Source() string { return t.src }

// Refs returns the sorted, normalised paths the template reads, e.g.
// "inputs.ticket" (also for the bare form "ticket"), "steps.classify.label".
// Input paths are cut to two segments and step paths to three. A bare root
// ({{ json inputs }}) is returned as "inputs" or "steps". Paths relative
// to an #each or #with context (this, @index, item fields) are not included;
// ../ paths that reach the top level are.
func (t *Template) Refs() []string { return slices.Clone(t.refs) }

// Render renders t against data ({"inputs": ..., "steps": ...}) with the
// DefaultMaxBytes output limit. See RenderLimit.
func (t *Template) Render(data map[string]any) (string, error) {
	return t.RenderLimit(data, DefaultMaxBytes)
}

// RenderLimit renders t against data. The output may not exceed maxBytes
// (DefaultMaxBytes when maxBytes <= 0). Errors are of type
// errtype.Template, carry the line and column of the failing tag, and wrap
// ErrOutputLimit or ErrWorkLimit when a limit was hit. Missing values
// (including steps that were skipped) render as empty strings.
func (t *Template) RenderLimit(data map[string]any, maxBytes int) (string, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	st := getState(t.src, data, maxBytes)
	defer putState(st)
	if err := renderNodes(st, t.nodes); err != nil {
		return "", errtype.New(errtype.Template, err)
	}
	return string(st.buf), nil
}

// Value returns the raw value when the whole template is a single {{ }}
// expression (surrounding whitespace ignored): a path's value unconverted
// (nil when missing), or a helper's result. It returns false when the
// template is anything else, or when a helper fails (Render then reports
// the error).
func (t *Template) Value(data map[string]any) (any, bool) {
	if t.single == nil {
		return nil, false
	}
	st := getState(t.src, data, DefaultMaxBytes)
	defer putState(st)
	v, err := t.single.eval(st)
	if err != nil {
		return nil, false
	}
	return v, true
}
