package workflow

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/internal/suggest"
)

// decoder is the strict, reflection-based node decoder. It turns yaml.v3
// nodes into Go values, records problems instead of failing, and keeps the
// position of every value of the step being decoded in fieldPos. It is used
// once per Decode call and never panics on any node tree yaml.v3 produces
// (including alias cycles).
type decoder struct {
	file     string
	types    StepTypes
	cfg      decodeConfig
	problems []Problem

	step     string         // id of the step being decoded, labels problems
	fieldPos map[string]Pos // positions of the current step's (or the root's) values
	parent   *Step          // enclosing step of the list being decoded
	depth    int            // nesting depth of the list being decoded (0 = top level)
	steps    int            // steps decoded so far

	maxNodes    int                 // node visits allowed; aliases can make a tree huge
	budget      int                 // node visits left
	suggestions int                 // "did you mean" searches done
	cycles      int                 // dependency cycles found
	active      map[*yaml.Node]bool // containers being decoded, to stop alias cycles
	aborted     bool                // a limit was exceeded: stop decoding
	fields      map[reflect.Type]*structInfo
}

// fieldOpt describes the slot a node is decoded into.
type fieldOpt struct {
	text  bool // string also accepts an unquoted number, keeping its text
	field bool // the node is a mapping value: null means "absent"
}

type structField struct {
	name     string
	index    int
	required bool
	text     bool
}

type structInfo struct {
	byName map[string]*structField
	names  []string // sorted, for suggestions
	order  []*structField
	inline int // index of the inline map field, -1 when none
}

var stepPtrType = reflect.TypeFor[*Step]()

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

func (d *decoder) errorf(p Pos, format string, args ...any) {
	d.problems = append(d.problems, Problem{
		File: d.file, Line: max(p.Line, 1), Column: max(p.Column, 1),
		Step: d.step, Message: fmt.Sprintf(format, args...),
	})
}

// visit charges one node against the budget and reports false once it is
// exhausted.
func (d *decoder) visit(n *yaml.Node) bool { return d.charge(n, 1) }

// charge charges k node visits at n against the budget.
func (d *decoder) charge(n *yaml.Node, k int) bool {
	if d.aborted {
		return false
	}
	d.budget -= k
	if d.budget < 0 {
		d.errorf(pos(n), "document is too large: aliases expand it beyond %d values", d.maxNodes)
		d.aborted = true
		return false
	}
	return true
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// quote names a value in messages by its path.
func quote(path string) string { return fmt.Sprintf("%q", path) }

// prefix starts a message about the value at path.
func prefix(path string) string {
	if path == "" {
		return ""
	}
	return quote(path) + ": "
}

// decodeValue decodes n into v (settable), reporting problems under path.
// It returns false when nothing usable was stored.
func (d *decoder) decodeValue(n *yaml.Node, path string, v reflect.Value, opt fieldOpt) bool {
	if !d.visit(n) {
		return false
	}
	if d.fieldPos != nil && path != "" {
		d.fieldPos[path] = pos(n)
	}
	t := n
	if n.Kind == yaml.AliasNode {
		if t = n.Alias; t == nil || d.active[t] {
			d.errorf(pos(n), "%salias %q refers to a value that contains it", prefix(path), n.Value)
			return false
		}
	}
	if t.Kind == yaml.MappingNode || t.Kind == yaml.SequenceNode {
		d.active[t] = true
		defer delete(d.active, t)
	}
	return d.decodeResolved(t, path, v, opt)
}

func (d *decoder) decodeResolved(n *yaml.Node, path string, v reflect.Value, opt fieldOpt) bool {
	t := v.Type()
	if t == stepPtrType {
		return d.decodeStep(n, path, v)
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		switch t.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
			return true
		}
		if opt.field {
			return true
		}
		return d.mismatch(n, path, t)
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if !d.decodeResolved(n, path, p.Elem(), opt) {
			return false
		}
		v.Set(p)
		return true
	case reflect.Interface:
		if t.NumMethod() != 0 {
			break
		}
		return d.decodeAny(n, path, v)
	case reflect.String:
		tag := n.ShortTag()
		if n.Kind != yaml.ScalarNode || !(tag == "!!str" || tag == "!!timestamp" ||
			opt.text && (tag == "!!int" || tag == "!!float")) {
			return d.mismatch(n, path, t)
		}
		v.SetString(n.Value)
		return true
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			return d.mismatch(n, path, t)
		}
		v.SetBool(b)
		return true
	case reflect.Int, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return d.mismatch(n, path, t)
		}
		if n.Decode(&i) != nil || v.OverflowInt(i) {
			d.errorf(pos(n), "%s%s is out of range for an integer", prefix(path), n.Value)
			return false
		}
		v.SetInt(i)
		return true
	case reflect.Float64:
		var f float64
		tag := n.ShortTag()
		if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || n.Decode(&f) != nil {
			return d.mismatch(n, path, t)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			d.errorf(pos(n), "%s must be a finite number, got %s", quote(path), n.Value)
			return false
		}
		v.SetFloat(f)
		return true
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.mismatch(n, path, t)
		}
		s := reflect.MakeSlice(t, 0, len(n.Content))
		for i, c := range n.Content {
			e := reflect.New(t.Elem()).Elem()
			if d.decodeValue(c, index(path, i), e, fieldOpt{}) {
				s = reflect.Append(s, e)
			}
		}
		v.Set(s)
		return true
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			break
		}
		if n.Kind != yaml.MappingNode {
			return d.mismatch(n, path, t)
		}
		m := reflect.MakeMap(t)
		for _, p := range d.pairs(n, path) {
			e := reflect.New(t.Elem()).Elem()
			if d.decodeValue(p.val, join(path, p.name), e, fieldOpt{field: true}) {
				m.SetMapIndex(reflect.ValueOf(p.name).Convert(t.Key()), e)
			}
		}
		v.Set(m)
		return true
	case reflect.Struct:
		return d.decodeStruct(n, path, v, nil)
	}
	d.errorf(pos(n), "%sinternal error: cannot decode into Go type %s", prefix(path), t)
	return false
}

// decodeAny decodes n into an empty interface: mappings become
// map[string]any, sequences []any, scalars their natural Go value.
func (d *decoder) decodeAny(n *yaml.Node, path string, v reflect.Value) bool {
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		d.decodeResolved(n, path, reflect.ValueOf(&m).Elem(), fieldOpt{})
		v.Set(reflect.ValueOf(m))
	case yaml.SequenceNode:
		s := []any{}
		d.decodeResolved(n, path, reflect.ValueOf(&s).Elem(), fieldOpt{})
		v.Set(reflect.ValueOf(s))
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!bool", "!!int", "!!float", "!!binary":
			var x any
			if err := n.Decode(&x); err != nil {
				d.errorf(pos(n), "%s%v", prefix(path), strings.TrimPrefix(err.Error(), "yaml: "))
				return false
			}
			v.Set(reflect.ValueOf(x))
		default: // strings, timestamps and custom tags keep their text
			v.Set(reflect.ValueOf(n.Value))
		}
	default:
		return d.mismatch(n, path, v.Type())
	}
	return true
}

func (d *decoder) mismatch(n *yaml.Node, path string, t reflect.Type) bool {
	d.errorf(pos(n), "%s must be %s, got %s", quote(path), want(t), got(n))
	return false
}

func want(t reflect.Type) string {
	if t == stepPtrType {
		return "a mapping (a step)"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return want(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return "a value"
}

func got(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	case yaml.ScalarNode:
		switch tag := n.ShortTag(); tag {
		case "!!str":
			return "string"
		case "!!int", "!!float":
			return "number"
		case "!!bool":
			return "boolean"
		case "!!null":
			return "null"
		case "!!timestamp":
			return "timestamp"
		case "!!binary":
			return "binary"
		default:
			return "value tagged " + tag
		}
	}
	return "nothing"
}

type pair struct {
	key, val *yaml.Node
	name     string
}

// pairs returns the key/value pairs of mapping n. It reports non-scalar
// and duplicate keys, and expands merge keys (`<<: *anchor`); explicit keys
// win over merged ones.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(pos(k), "%skeys must be strings, got %s", prefix(path), got(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, d.merge(v, path)...)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(pos(k), "duplicate key %s (first at line %d)", quote(join(path, k.Value)), first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{key: k, val: v, name: k.Value})
	}
	for _, p := range merged {
		if _, dup := seen[p.name]; !dup {
			seen[p.name] = p.key
			out = append(out, p)
		}
	}
	return out
}

// merge returns the pairs a merge key's value contributes: a mapping or a
// list of mappings, the earlier mappings winning.
func (d *decoder) merge(v *yaml.Node, path string) []pair {
	if !d.visit(v) {
		return nil
	}
	if v.Kind == yaml.AliasNode {
		t := v.Alias
		if t == nil || d.active[t] {
			d.errorf(pos(v), "%salias %q refers to a value that contains it", prefix(path), v.Value)
			return nil
		}
		d.active[t] = true
		defer delete(d.active, t)
		v = t
	}
	switch v.Kind {
	case yaml.MappingNode:
		ps := d.pairs(v, path)
		if !d.charge(v, len(ps)) {
			return nil
		}
		return ps
	case yaml.SequenceNode:
		var out []pair
		seen := map[string]bool{}
		for _, e := range v.Content {
			if e.Kind == yaml.SequenceNode {
				d.errorf(pos(e), "%sa merge list must hold mappings, got list", prefix(path))
				continue
			}
			for _, p := range d.merge(e, path) {
				if !seen[p.name] {
					seen[p.name] = true
					out = append(out, p)
				}
			}
		}
		return out
	}
	d.errorf(pos(v), "%sa merge key (<<) needs a mapping or a list of mappings, got %s", prefix(path), got(v))
	return nil
}

// structOf describes a struct type's yaml keys.
func (d *decoder) structOf(t reflect.Type) *structInfo {
	if si, ok := d.fields[t]; ok {
		return si
	}
	si := &structInfo{byName: map[string]*structField{}, inline: -1}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("yaml")
		if !f.IsExported() || !ok || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		sf := &structField{name: name, index: i}
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "required":
				sf.required = true
			case "text":
				sf.text = true
			case "inline":
				if name == "" && f.Type.Kind() == reflect.Map && f.Type.Key().Kind() == reflect.String {
					si.inline = i
				}
			}
		}
		if name == "" {
			continue
		}
		si.byName[name] = sf
		si.names = append(si.names, name)
		si.order = append(si.order, sf)
	}
	slices.Sort(si.names)
	d.fields[t] = si
	return si
}

// decodeStruct decodes mapping n into struct v. Unknown keys go to the
// inline map when the struct has one, or are reported with a suggestion
// drawn from the struct's keys and also.
func (d *decoder) decodeStruct(n *yaml.Node, path string, v reflect.Value, also []string) bool {
	if n.Kind != yaml.MappingNode {
		return d.mismatch(n, path, v.Type())
	}
	si := d.structOf(v.Type())
	seen := map[string]bool{}
	var extra []string // keys that went to the inline map
	for _, p := range d.pairs(n, path) {
		key := join(path, p.name)
		f, known := si.byName[p.name]
		switch {
		case known:
			seen[p.name] = true
			if f.required && isNull(p.val) {
				d.errorf(pos(p.val), "required key %s has no value", quote(key))
			}
			d.decodeValue(p.val, key, v.Field(f.index), fieldOpt{text: f.text, field: true})
		case si.inline >= 0:
			m := v.Field(si.inline)
			if m.IsNil() {
				m.Set(reflect.MakeMap(m.Type()))
			}
			extra = append(extra, p.name)
			e := reflect.New(m.Type().Elem()).Elem()
			if d.decodeValue(p.val, key, e, fieldOpt{field: true}) {
				m.SetMapIndex(reflect.ValueOf(p.name).Convert(m.Type().Key()), e)
			}
		default:
			d.errorf(pos(p.key), "unknown key %s%s", quote(key), d.didYouMean(p.name, append(slices.Clone(si.names), also...)))
		}
	}
	for _, f := range si.order {
		if f.required && !seen[f.name] {
			hint := ""
			if typo := d.suggest(f.name, extra); typo != "" {
				hint = fmt.Sprintf(" (is %q a typo?)", typo)
			}
			d.errorf(pos(n), "missing required key %s%s", quote(join(path, f.name)), hint)
		}
	}
	return true
}

func isNull(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// maxSuggestions bounds the "did you mean" searches of one Decode, so that
// a file with a huge number of unknown keys or ids stays cheap to check.
const maxSuggestions = 1000

// didYouMean returns ` (did you mean "x"?)` for the candidate closest to
// name, or "" when none is close enough.
func (d *decoder) didYouMean(name string, candidates []string) string {
	if s := d.suggest(name, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func (d *decoder) suggest(name string, candidates []string) string {
	if d.suggestions >= maxSuggestions {
		return ""
	}
	d.suggestions++
	return suggest.Closest(name, candidates)
}
