package tmpl

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/internal/suggest"
)

// Nodes of a parsed template. Each renders itself into a state.
type (
	node interface {
		render(st *state) error
	}
	textNode string
	outNode  struct {
		e   expr
		pos int
	}
	// ifNode is {{#if}}/{{#unless}} with its flat {{else if}} chain.
	ifNode struct {
		branches []branch
		alt      []node
	}
	branch struct {
		e    expr
		neg  bool // unless
		body []node
		pos  int
	}
	// scopeNode is {{#each}} or {{#with}}: body runs with a new context.
	scopeNode struct {
		each      bool
		e         expr
		body, alt []node
		pos       int
	}
)

// Expressions.
type (
	expr interface {
		eval(st *state) (any, error)
	}
	litExpr  struct{ v any }
	rootPath struct{ segs []seg } // from the data root: inputs..., steps...
	// localPath reads the context up frames above the innermost one.
	localPath struct {
		up   int
		segs []seg
	}
	dataVar struct {
		up   int // frames above the innermost one, to the nearest #each
		name string
	}
	callExpr struct {
		h    *helper
		args []expr
		pos  int
	}
)

// seg is one path segment; idx is its value as a list index, or -1.
type seg struct {
	key string
	idx int
}

type parser struct {
	src    string
	items  []item
	i      int
	scopes []bool // enclosing context-changing blocks; true for #each
	depth  int    // open blocks plus sub-expression nesting
	refs   map[string]struct{}
}

// parseNodes parses items until EOF or an {{else}} or {{/...}} tag, which
// it returns (nil at EOF).
func (p *parser) parseNodes() ([]node, *item, error) {
	var out []node
	for p.i < len(p.items) {
		it := &p.items[p.i]
		p.i++
		switch it.kind {
		case itemText:
			if it.text != "" {
				out = append(out, textNode(it.text))
			}
		case itemExpr:
			e, err := p.parseTagExpr(it.toks, it.pos, "expression")
			if err != nil {
				return nil, nil, err
			}
			out = append(out, &outNode{e: e, pos: it.pos})
		case itemOpen:
			n, err := p.parseBlock(it)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, n)
		case itemClose, itemElse:
			return out, it, nil
		}
	}
	return out, nil, nil
}

var blockNames = []string{"each", "if", "unless", "with"}

func (p *parser) parseBlock(open *item) (node, error) {
	switch open.name {
	case "each", "if", "unless", "with":
	default:
		return nil, p.errorf(open.namePo, "unknown block helper %q%s", open.name, suggest.DidYouMean(open.name, blockNames))
	}
	if err := p.enter(open.pos); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if len(open.toks) == 0 {
		return nil, p.errorf(open.pos, "{{#%s}} needs an argument", open.name)
	}
	e, err := p.parseTagExpr(open.toks, open.pos, "argument")
	if err != nil {
		return nil, err
	}
	if open.name == "if" || open.name == "unless" {
		body, term, err := p.parseNodes()
		if err != nil {
			return nil, err
		}
		return p.parseIfChain(open, branch{e: e, neg: open.name == "unless", body: body, pos: open.pos}, term)
	}
	n := &scopeNode{each: open.name == "each", e: e, pos: open.pos}
	p.scopes = append(p.scopes, n.each)
	body, term, err := p.parseNodes()
	p.scopes = p.scopes[:len(p.scopes)-1]
	if err != nil {
		return nil, err
	}
	n.body = body
	n.alt, err = p.parseAlt(open, term)
	return n, err
}

// parseIfChain collects {{else if}} branches after first, then the
// optional {{else}} and the close tag of open.
func (p *parser) parseIfChain(open *item, first branch, term *item) (*ifNode, error) {
	n := &ifNode{branches: []branch{first}}
	for term != nil && term.kind == itemElse && term.name == "if" {
		if len(term.toks) == 0 {
			return nil, p.errorf(term.pos, "{{else if}} needs an argument")
		}
		pos := term.pos
		e, err := p.parseTagExpr(term.toks, pos, "argument")
		if err != nil {
			return nil, err
		}
		var body []node
		body, term, err = p.parseNodes()
		if err != nil {
			return nil, err
		}
		n.branches = append(n.branches, branch{e: e, body: body, pos: pos})
	}
	var err error
	n.alt, err = p.parseAlt(open, term)
	return n, err
}

// parseAlt parses what follows a block's body: its close tag, or an
// {{else}} (or, after #each/#with, an {{else if}} chain) and then the close tag.
func (p *parser) parseAlt(open, term *item) ([]node, error) {
	if term == nil {
		return nil, p.errorf(open.pos, "unclosed {{#%s}}: missing {{/%s}}", open.name, open.name)
	}
	if term.kind == itemClose {
		return nil, p.checkClose(open, term)
	}
	if term.name == "if" {
		e, err := p.parseTagExpr(term.toks, term.pos, "argument")
		if err != nil {
			return nil, err
		}
		body, t, err := p.parseNodes()
		if err != nil {
			return nil, err
		}
		n, err := p.parseIfChain(open, branch{e: e, body: body, pos: term.pos}, t)
		return []node{n}, err
	}
	alt, t, err := p.parseNodes()
	switch {
	case err != nil:
		return nil, err
	case t == nil:
		return nil, p.errorf(open.pos, "unclosed {{#%s}}: missing {{/%s}}", open.name, open.name)
	case t.kind == itemElse:
		l, c := position(p.src, open.pos)
		return nil, p.errorf(t.pos, "unexpected {{else}}: {{#%s}} at %d:%d already has one", open.name, l, c)
	}
	return alt, p.checkClose(open, t)
}

func (p *parser) checkClose(open, cl *item) error {
	if cl.name == open.name {
		return nil
	}
	l, c := position(p.src, open.pos)
	return p.errorf(cl.pos, "{{/%s}} does not match {{#%s}} at %d:%d", cl.name, open.name, l, c)
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errorf(pos, "nesting deeper than %d levels", MaxDepth)
	}
	return nil
}

// parseTagExpr parses the whole content of a tag: one operand, or a helper
// name followed by its arguments.
func (p *parser) parseTagExpr(toks []token, pos int, what string) (expr, error) {
	if len(toks) == 0 {
		return nil, p.errorf(pos, "empty %s", what)
	}
	e, n, err := p.parseCall(toks, 0, false)
	if err != nil {
		return nil, err
	}
	if n < len(toks) {
		return nil, p.errorf(toks[n].pos, "unexpected %s", describe(toks[n]))
	}
	return e, nil
}

// parseCall parses a helper call or, outside parentheses, a lone operand
// starting at toks[i]. It stops at ")" or the end.
func (p *parser) parseCall(toks []token, i int, inParen bool) (expr, int, error) {
	t := toks[i]
	if t.kind == tokWord {
		if h, ok := helpers[t.val]; ok {
			c := &callExpr{h: h, pos: t.pos}
			j := i + 1
			for j < len(toks) && toks[j].kind != tokRParen {
				a, n, err := p.parseOperand(toks, j)
				if err != nil {
					return nil, 0, err
				}
				c.args = append(c.args, a)
				j = n
			}
			if err := h.check(c.args); err != nil {
				return nil, 0, p.errorf(t.pos, "%s", err)
			}
			return c, j, nil
		}
		if i+1 < len(toks) && toks[i+1].kind != tokRParen {
			if isName(t.val) {
				return nil, 0, p.errorf(t.pos, "unknown helper %q%s", t.val, suggest.DidYouMean(t.val, helperNames))
			}
			return nil, 0, p.errorf(toks[i+1].pos, "unexpected %s after %q", describe(toks[i+1]), t.val)
		}
	}
	if inParen {
		return nil, 0, p.errorf(t.pos, "a sub-expression must call a helper, as in (len x)")
	}
	return p.parseOperand(toks, i)
}

// parseOperand parses a literal, a path or a parenthesised sub-expression.
func (p *parser) parseOperand(toks []token, i int) (expr, int, error) {
	t := toks[i]
	switch t.kind {
	case tokString:
		return litExpr{t.val}, i + 1, nil
	case tokRParen:
		return nil, 0, p.errorf(t.pos, `unexpected ")"`)
	case tokLParen:
		if err := p.enter(t.pos); err != nil {
			return nil, 0, err
		}
		defer func() { p.depth-- }()
		if i+1 >= len(toks) || toks[i+1].kind == tokRParen {
			return nil, 0, p.errorf(t.pos, "empty sub-expression")
		}
		e, j, err := p.parseCall(toks, i+1, true)
		if err != nil {
			return nil, 0, err
		}
		if j >= len(toks) {
			return nil, 0, p.errorf(t.pos, `unclosed "(": missing ")"`)
		}
		return e, j + 1, nil
	}
	switch t.val {
	case "true":
		return litExpr{true}, i + 1, nil
	case "false":
		return litExpr{false}, i + 1, nil
	case "null", "undefined":
		return litExpr{nil}, i + 1, nil
	}
	if c := t.val[0]; c >= '0' && c <= '9' || c == '-' && len(t.val) > 1 && t.val[1] >= '0' && t.val[1] <= '9' {
		if n, err := strconv.ParseInt(t.val, 10, 64); err == nil {
			return litExpr{int(n)}, i + 1, nil
		}
		if f, err := strconv.ParseFloat(t.val, 64); err == nil {
			return litExpr{f}, i + 1, nil
		}
		return nil, 0, p.errorf(t.pos, "bad number %q", t.val)
	}
	if _, ok := helpers[t.val]; ok {
		return nil, 0, p.errorf(t.pos, "helper %q used as a value: call it in parentheses, as in (%s x)", t.val, t.val)
	}
	e, err := p.parsePath(t.val, t.pos)
	return e, i + 1, err
}

// parsePath resolves a path against the enclosing blocks: inputs and
// steps always name the data roots; a bare name is an input at the top
// level and a field of the current item inside #each/#with.
func (p *parser) parsePath(s string, pos int) (expr, error) {
	orig := s
	up := 0
	for strings.HasPrefix(s, "../") {
		up++
		s = s[3:]
	}
	if s == ".." {
		up++
		s = "this"
	}
	if up > len(p.scopes) {
		return nil, p.errorf(pos, "bad path %q: ../ goes above the top level", orig)
	}
	if name, ok := strings.CutPrefix(s, "@"); ok {
		if up > 0 {
			return nil, p.errorf(pos, "bad path %q: use @%s without ../", orig, name)
		}
		switch name {
		case "index", "key", "first", "last":
		default:
			return nil, p.errorf(pos, "unknown data variable %q%s", s, suggest.DidYouMean(name, []string{"index", "key", "first", "last"}))
		}
		for d := len(p.scopes) - 1; d >= 0; d-- {
			if p.scopes[d] {
				return dataVar{up: len(p.scopes) - 1 - d, name: name}, nil
			}
		}
		return nil, p.errorf(pos, "%s is only valid inside {{#each}}", s)
	}
	this := false
	switch {
	case s == "this" || s == ".":
		this, s = true, ""
	case strings.HasPrefix(s, "this."):
		this, s = true, s[len("this."):]
	}
	var segs []seg
	if s != "" || !this {
		var err error
		if segs, err = splitPath(s); err != nil {
			return nil, p.errorf(pos, "bad path %q: %s", orig, err)
		}
	}
	target := len(p.scopes) - up
	if !this && up == 0 && (segs[0].key == "inputs" || segs[0].key == "steps") {
		p.addRef(segs)
		return rootPath{segs}, nil
	}
	if target > 0 {
		return localPath{up: up, segs: segs}, nil
	}
	if this {
		return nil, p.errorf(pos, "bad path %q: this is only valid inside {{#each}} or {{#with}}", orig)
	}
	if segs[0].key != "inputs" && segs[0].key != "steps" {
		segs = append([]seg{{key: "inputs", idx: -1}}, segs...)
	}
	p.addRef(segs)
	return rootPath{segs}, nil
}

// splitPath splits a.b.[c d].0 into segments.
func splitPath(s string) ([]seg, error) {
	var segs []seg
	for {
		var key string
		if strings.HasPrefix(s, "[") {
			i := strings.IndexByte(s, ']')
			if i < 0 {
				return nil, fmt.Errorf(`unclosed "["`)
			}
			key, s = s[1:i], s[i+1:]
			if s != "" && s[0] != '.' {
				return nil, fmt.Errorf(`"." must follow "]"`)
			}
		} else {
			i := strings.IndexByte(s, '.')
			if i < 0 {
				i = len(s)
			}
			key, s = s[:i], s[i:]
			if key == "" {
				return nil, fmt.Errorf("empty segment")
			}
			if !isName(key) {
				return nil, fmt.Errorf("segment %q: use [%s] for names with other characters", key, key)
			}
		}
		idx := -1
		if n, err := strconv.Atoi(key); err == nil && n >= 0 && key[0] != '+' {
			idx = n
		}
		segs = append(segs, seg{key: key, idx: idx})
		if s == "" {
			return segs, nil
		}
		s = s[1:] // "."
		if s == "" {
			return nil, fmt.Errorf("empty segment")
		}
	}
}

// isName reports whether s is a plain path segment: letters, digits, _ and -.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

func (p *parser) addRef(segs []seg) {
	n := len(segs)
	switch segs[0].key {
	case "inputs":
		n = min(n, 2)
	case "steps":
		n = min(n, 3)
	}
	parts := make([]string, n)
	for i := range parts {
		parts[i] = segs[i].key
	}
	p.refs[strings.Join(parts, ".")] = struct{}{}
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return errorAt(p.src, pos, format, args...)
}

func errorAt(src string, pos int, format string, args ...any) error {
	l, c := position(src, pos)
	return &SyntaxError{Line: l, Column: c, Msg: fmt.Sprintf(format, args...)}
}
