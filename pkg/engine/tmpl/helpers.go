package tmpl

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
)

// helper is one built-in helper. The set is fixed: templates cannot
// register helpers.
type helper struct {
	name     string
	min, max int // argument count; max < 0 means no upper bound
	// fn computes the result. Helpers whose cost grows with their
	// arguments charge it with st.charge, and those that build strings
	// respect the output limit st.max.
	fn func(st *state, args []any) (any, error)
	// lit, if set, checks literal arguments at parse time.
	lit func(args []expr) error
}

func (h *helper) check(args []expr) error {
	switch {
	case h.max < 0 && len(args) < h.min:
		return fmt.Errorf("helper %q takes at least %d arguments, got %d", h.name, h.min, len(args))
	case h.max >= 0 && (len(args) < h.min || len(args) > h.max):
		return fmt.Errorf("helper %q takes %d argument%s, got %d", h.name, h.min, plural(h.min), len(args))
	}
	if h.lit != nil {
		return h.lit(args)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// helpers is the fixed helper table; helperNames lists them, sorted, for
// did-you-mean suggestions.
var helpers, helperNames = newHelpers()

func newHelpers() (map[string]*helper, []string) {
	byName := map[string]*helper{}
	var names []string
	for _, h := range []*helper{
		{name: "eq", min: 2, max: 2, fn: func(st *state, a []any) (any, error) { return equal(a[0], a[1]), chargeStrings(st, a) }},
		{name: "ne", min: 2, max: 2, fn: func(st *state, a []any) (any, error) { return !equal(a[0], a[1]), chargeStrings(st, a) }},
		{name: "gt", min: 2, max: 2, fn: func(st *state, a []any) (any, error) {
			c, ok := compare(a[0], a[1])
			return ok && c > 0, chargeStrings(st, a)
		}},
		{name: "lt", min: 2, max: 2, fn: func(st *state, a []any) (any, error) {
			c, ok := compare(a[0], a[1])
			return ok && c < 0, chargeStrings(st, a)
		}},
		{name: "and", min: 2, max: -1, fn: func(_ *state, a []any) (any, error) {
			return !slices.ContainsFunc(a, func(v any) bool { return !truthy(v) }), nil
		}},
		{name: "or", min: 2, max: -1, fn: func(_ *state, a []any) (any, error) { return slices.ContainsFunc(a, truthy), nil }},
		{name: "not", min: 1, max: 1, fn: func(_ *state, a []any) (any, error) { return !truthy(a[0]), nil }},
		{name: "json", min: 1, max: 1, fn: helperJSON},
		{name: "len", min: 1, max: 1, fn: func(st *state, a []any) (any, error) {
			if err := chargeStrings(st, a); err != nil {
				return nil, err
			}
			n, ok := length(a[0])
			if !ok {
				return nil, fmt.Errorf("want a string, list or map, got %s", kindOf(a[0]))
			}
			return n, nil
		}},
		{name: "upper", min: 1, max: 1, fn: stringHelper(strings.ToUpper)},
		{name: "lower", min: 1, max: 1, fn: stringHelper(strings.ToLower)},
		{name: "trim", min: 1, max: 1, fn: stringHelper(strings.TrimSpace)},
		{name: "default", min: 2, max: 2, fn: func(_ *state, a []any) (any, error) {
			if empty(a[0]) {
				return a[1], nil
			}
			return a[0], nil
		}},
		{name: "join", min: 2, max: 2, fn: helperJoin},
		{name: "truncate", min: 2, max: 2, fn: helperTruncate, lit: func(args []expr) error {
			if l, ok := args[1].(litExpr); ok {
				if _, err := count(l.v); err != nil {
					return fmt.Errorf("truncate: %w", err)
				}
			}
			return nil
		}},
	} {
		byName[h.name] = h
		names = append(names, h.name)
	}
	slices.Sort(names)
	return byName, names
}

// chargeStrings charges for reading the string arguments.
func chargeStrings(st *state, a []any) error {
	n := 0
	for _, v := range a {
		if s, ok := v.(string); ok {
			n += len(s)
		}
	}
	return st.charge(n)
}

func helperJSON(st *state, a []any) (any, error) {
	b, err := appendJSON(nil, a[0])
	if err != nil {
		return nil, err
	}
	if err := st.charge(len(b)); err != nil {
		return nil, err
	}
	if len(b) > st.max {
		return nil, fmt.Errorf("output exceeds %d bytes: %w", st.max, ErrOutputLimit)
	}
	return string(b), nil
}

func stringHelper(f func(string) string) func(*state, []any) (any, error) {
	return func(st *state, a []any) (any, error) {
		s, err := stringify(a[0])
		if err != nil {
			return nil, err
		}
		if err := st.charge(len(s)); err != nil {
			return nil, err
		}
		return f(s), nil
	}
}

func helperJoin(st *state, a []any) (any, error) {
	sep, err := stringify(a[1])
	if err != nil {
		return nil, err
	}
	if a[0] == nil {
		return "", nil
	}
	if _, ok := a[0].(string); ok {
		return nil, fmt.Errorf("want a list, got string")
	}
	if _, ok := a[0].(map[string]any); ok {
		return nil, fmt.Errorf("want a list, got map")
	}
	var b []byte
	err = iterate(a[0], func(i, _ int, _, item any) error {
		if err := st.tick(); err != nil {
			return err
		}
		if i > 0 {
			b = append(b, sep...)
		}
		var err error
		if b, err = appendValue(b, item); err != nil {
			return err
		}
		if len(b) > st.max {
			return fmt.Errorf("output exceeds %d bytes: %w", st.max, ErrOutputLimit)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return string(b), st.charge(len(b))
}

func helperTruncate(st *state, a []any) (any, error) {
	n, err := count(a[1])
	if err != nil {
		return nil, err
	}
	s, err := stringify(a[0])
	if err != nil {
		return nil, err
	}
	if err := st.charge(len(s)); err != nil {
		return nil, err
	}
	for i := range s {
		if n == 0 {
			return s[:i], nil
		}
		n--
	}
	return s, nil
}

// count converts v to a non-negative integer.
func count(v any) (int, error) {
	f, ok := toFloat(v)
	if !ok {
		return 0, fmt.Errorf("length must be a non-negative integer, got %s", kindOf(v))
	}
	if f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, fmt.Errorf("length must be a non-negative integer, got %v", v)
	}
	return int(f), nil
}

// kindOf names v's kind in JSON terms, for error messages.
func kindOf(v any) string {
	if v == nil {
		return "null"
	}
	if _, ok := toFloat(v); ok {
		return "number"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}
