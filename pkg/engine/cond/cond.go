package cond

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/internal/suggest"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
)

// Limits.
const (
	// MaxLength bounds the source of an expression (not of a template).
	MaxLength = 4096
	// MaxNodes bounds the size of an expression's syntax tree.
	MaxNodes = 256
	// MemoryBudget bounds what one evaluation may allocate, in expr's units
	// (elements of ranges, arrays, maps, concatenated and sorted lists).
	MemoryBudget = 1_000_000
)

// builtins are the expr-lang functions a condition may call. None reads
// the clock, the environment or files, none turns a string into a list,
// and none builds a result larger than its input by more than a constant
// factor, so sizes only grow additively through an expression.
var builtins = []string{
	"abs", "ceil", "concat", "first", "flatten", "float", "floor", "get",
	"hasPrefix", "hasSuffix", "indexOf", "int", "keys", "last", "lastIndexOf",
	"len", "lower", "max", "mean", "median", "min", "reverse", "round", "sort",
	"string", "take", "trim", "trimPrefix", "trimSuffix", "type", "uniq",
	"upper", "values",
}

// Expr is a compiled condition. It is immutable and safe for concurrent use.
type Expr struct {
	src  string
	prog *vm.Program    // expression form
	tpl  *tmpl.Template // template form
	refs []string
}

// Compile compiles src: an expr-lang expression over inputs and steps, or,
// when src contains "{{", a template whose rendering is read as a boolean.
// The error, if any, is a *tmpl.SyntaxError with the 1-based line and
// column where the problem is.
func Compile(src string) (e *Expr, err error) {
	if strings.Contains(src, "{{") {
		t, err := tmpl.Parse(src)
		if err != nil {
			return nil, err
		}
		return &Expr{src: src, tpl: t, refs: t.Refs()}, nil
	}
	if strings.TrimSpace(src) == "" {
		return nil, &tmpl.SyntaxError{Line: 1, Column: 1, Msg: "empty expression"}
	}
	if len(src) > MaxLength {
		return nil, &tmpl.SyntaxError{Line: 1, Column: 1, Msg: fmt.Sprintf("expression longer than %d bytes", MaxLength)}
	}
	defer func() {
		// expr's parser and checker are third-party code: no input may
		// crash the loader.
		if r := recover(); r != nil {
			e, err = nil, &tmpl.SyntaxError{Line: 1, Column: 1, Msg: fmt.Sprintf("cannot compile expression: %v", r)}
		}
	}()
	opts := []expr.Option{
		expr.Env(map[string]any{"inputs": map[string]any{}, "steps": map[string]any{}}),
		expr.MaxNodes(MaxNodes),
		expr.DisableAllBuiltins(),
	}
	for _, b := range builtins {
		opts = append(opts, expr.EnableBuiltin(b))
	}
	cfg := conf.CreateNew()
	for _, o := range opts {
		o(cfg)
	}
	tree, err := parser.ParseWithConfig(src, cfg)
	if err != nil {
		return nil, syntaxError(src, err)
	}
	a := &analyzer{src: src, refs: map[string]struct{}{}}
	if a.visit(tree.Node, false); a.err != nil {
		return nil, a.err
	}
	prog, err := expr.Compile(src, append(opts, expr.Patch(nilSafe{}))...)
	if err != nil {
		return nil, syntaxError(src, err)
	}
	e = &Expr{src: src, prog: prog, refs: make([]string, 0, len(a.refs))}
	for r := range a.refs {
		e.refs = append(e.refs, r)
	}
	slices.Sort(e.refs)
	return e, nil
}

// Source returns the expression text.
func (e *Expr) Source() string { return e.src }

// Refs returns the sorted, normalised paths the expression reads
// ("inputs.x", "steps.a.b"): input paths cut to two segments and step
// paths to three. A root read as a whole, or indexed with a computed key
// (inputs[k]), is returned as "inputs" or "steps".
func (e *Expr) Refs() []string { return slices.Clone(e.refs) }

// Bool evaluates the expression as a condition. An expression must yield
// a bool; a template must render (trimmed, any case) to true, yes, 1,
// false, no or 0. Anything else is an errtype.Validation error; template
// render failures are errtype.Template.
func (e *Expr) Bool(data map[string]any) (bool, error) {
	if e.tpl != nil {
		s, err := e.tpl.Render(data)
		if err != nil {
			return false, err
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "yes", "1":
			return true, nil
		case "false", "no", "0":
			return false, nil
		}
		return false, errtype.New(errtype.Validation, fmt.Errorf("condition rendered %s; want true, false, yes, no, 1 or 0", quote(s)))
	}
	v, err := e.run(data)
	if err != nil {
		return false, err
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case nil:
		return false, errtype.New(errtype.Validation, errors.New("condition yielded nil (a missing value or a skipped step), want a bool"))
	}
	return false, errtype.New(errtype.Validation, fmt.Errorf("condition yielded %T %s, want a bool", v, quote(fmt.Sprint(v))))
}

// Value evaluates the expression to a value (branch `on`). A template that
// is a single {{ path }} yields the path's value; any other template
// yields its rendering. Errors are errtype.Validation (expression) or
// errtype.Template (template).
func (e *Expr) Value(data map[string]any) (any, error) {
	if e.tpl != nil {
		if v, ok := e.tpl.Value(data); ok {
			return v, nil
		}
		return e.tpl.Render(data)
	}
	return e.run(data)
}

func (e *Expr) run(data map[string]any) (any, error) {
	m := vm.VM{MemoryBudget: MemoryBudget}
	v, err := m.Run(e.prog, data)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			l, c := position(e.src, fe.From)
			err = fmt.Errorf("%d:%d: %s", l, c, fe.Message)
		}
		return nil, errtype.New(errtype.Validation, err)
	}
	return v, nil
}

func quote(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// analyzer checks the sandbox rules on a parsed expression and collects
// its references.
type analyzer struct {
	src  string
	refs map[string]struct{}
	err  error
}

func (a *analyzer) fail(n ast.Node, format string, args ...any) {
	if a.err == nil {
		l, c := position(a.src, n.Location().From)
		a.err = &tmpl.SyntaxError{Line: l, Column: c, Msg: fmt.Sprintf(format, args...)}
	}
}

// visit walks n. inPred is true inside a predicate (the body of any,
// filter, ...), which runs once per element: there it may read only the
// element, so that its cost stays proportional to the element, and may not
// hold another predicate.
func (a *analyzer) visit(n ast.Node, inPred bool) {
	if n == nil || a.err != nil {
		return
	}
	switch n := n.(type) {
	case *ast.IdentifierNode:
		if inPred {
			a.fail(n, "a predicate may read only its element (# or .field), #index and literals, not %s", n.Value)
			return
		}
		if a.root(n) {
			a.refs[n.Value] = struct{}{}
		}
	case *ast.MemberNode:
		if n.Method {
			a.fail(n, "method calls are not supported")
			return
		}
		if root, path := staticPath(n); root != nil && !inPred {
			if a.root(root) {
				a.addRef(append([]string{root.Value}, path...))
			}
			return
		}
		a.visit(n.Node, inPred)
		a.visit(n.Property, inPred)
	case *ast.ChainNode:
		a.visit(n.Node, inPred)
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			a.fail(n, "method calls are not supported")
			return
		}
		if _, known := builtin.Index[id.Value]; known {
			a.fail(n, "function %q is not available in conditions", id.Value)
			return
		}
		a.fail(n, "unknown function %q%s", id.Value, suggest.DidYouMean(id.Value, builtins))
	case *ast.BuiltinNode:
		if n.Name == "map" || n.Name == "reduce" {
			a.fail(n, "function %q is not available in conditions; use any, all, filter, count or sum", n.Name)
			return
		}
		for _, arg := range n.Arguments {
			a.visit(arg, inPred)
		}
	case *ast.PredicateNode:
		if inPred {
			a.fail(n, "predicates cannot be nested")
			return
		}
		a.visit(n.Node, true)
	case *ast.VariableDeclaratorNode:
		a.fail(n, "let is not supported in conditions")
	case *ast.UnaryNode:
		a.visit(n.Node, inPred)
	case *ast.BinaryNode:
		if _, lit := n.Right.(*ast.StringNode); n.Operator == "matches" && !lit {
			a.fail(n.Right, "the pattern of matches must be a string literal")
			return
		}
		a.visit(n.Left, inPred)
		a.visit(n.Right, inPred)
	case *ast.SliceNode:
		a.visit(n.Node, inPred)
		a.visit(n.From, inPred)
		a.visit(n.To, inPred)
	case *ast.ConditionalNode:
		a.visit(n.Cond, inPred)
		a.visit(n.Exp1, inPred)
		a.visit(n.Exp2, inPred)
	case *ast.SequenceNode:
		for _, x := range n.Nodes {
			a.visit(x, inPred)
		}
	case *ast.ArrayNode:
		for _, x := range n.Nodes {
			a.visit(x, inPred)
		}
	case *ast.MapNode:
		for _, x := range n.Pairs {
			a.visit(x, inPred)
		}
	case *ast.PairNode:
		a.visit(n.Key, inPred)
		a.visit(n.Value, inPred)
	}
}

// root checks that an identifier is one of the two roots.
func (a *analyzer) root(n *ast.IdentifierNode) bool {
	if n.Value == "inputs" || n.Value == "steps" {
		return true
	}
	a.fail(n, "unknown name %q: conditions read inputs.NAME and steps.ID.NAME (bare input names are not supported)", n.Value)
	return false
}

func (a *analyzer) addRef(path []string) {
	switch path[0] {
	case "inputs":
		path = path[:min(len(path), 2)]
	case "steps":
		path = path[:min(len(path), 3)]
	}
	a.refs[strings.Join(path, ".")] = struct{}{}
}

// staticPath returns the root identifier and the property names of a
// chain like steps.a["b"].c or inputs.list[0], or nil when a property is
// computed or the chain does not start at an identifier.
func staticPath(n ast.Node) (*ast.IdentifierNode, []string) {
	var rev []string
	for {
		switch x := n.(type) {
		case *ast.ChainNode:
			n = x.Node
			continue
		case *ast.MemberNode:
			switch p := x.Property.(type) {
			case *ast.StringNode:
				rev = append(rev, p.Value)
			case *ast.IntegerNode:
				rev = append(rev, fmt.Sprint(p.Value))
			default:
				return nil, nil
			}
			n = x.Node
			continue
		case *ast.IdentifierNode:
			slices.Reverse(rev)
			return x, rev
		}
		return nil, nil
	}
}

// nilSafe makes every member access optional (a?.b), so that a missing
// key or a skipped step yields nil instead of an error.
type nilSafe struct{}

func (nilSafe) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok || m.Method {
		return
	}
	m.Optional = true
	ast.Patch(node, &ast.ChainNode{Node: m})
}

func syntaxError(src string, err error) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return &tmpl.SyntaxError{Line: 1, Column: 1, Msg: err.Error()}
	}
	l, c := position(src, fe.From)
	return &tmpl.SyntaxError{Line: l, Column: c, Msg: fe.Message}
}

// position converts a rune offset (expr's Location) to a 1-based line and
// column.
func position(src string, runeOff int) (line, col int) {
	line, col = 1, 1
	for _, r := range src {
		if runeOff <= 0 {
			break
		}
		runeOff--
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
