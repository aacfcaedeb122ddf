package tmpl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

// lookup returns v's field or element s, or nil. Common JSON-like types
// are handled without reflection.
func lookup(v any, s seg) any {
	switch x := v.(type) {
	case map[string]any:
		return x[s.key]
	case []any:
		if s.idx >= 0 && s.idx < len(x) {
			return x[s.idx]
		}
		return nil
	case []map[string]any:
		if s.idx >= 0 && s.idx < len(x) {
			return x[s.idx]
		}
		return nil
	case []string:
		if s.idx >= 0 && s.idx < len(x) {
			return x[s.idx]
		}
		return nil
	case nil, string, bool, int, int64, float64:
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil
		}
		e := rv.MapIndex(reflect.ValueOf(s.key).Convert(rv.Type().Key()))
		if e.IsValid() {
			return e.Interface()
		}
	case reflect.Slice, reflect.Array:
		if s.idx >= 0 && s.idx < rv.Len() {
			return rv.Index(s.idx).Interface()
		}
	}
	return nil
}

// iterate calls fn for each element of a list, or each entry of a map in
// key order. Other values have no elements.
func iterate(v any, fn func(i, n int, key, item any) error) error {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			if err := fn(i, len(x), i, e); err != nil {
				return err
			}
		}
		return nil
	case []map[string]any:
		for i, e := range x {
			if err := fn(i, len(x), i, e); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if err := fn(i, len(keys), k, x[k]); err != nil {
				return err
			}
		}
		return nil
	case nil, string, bool, int, int64, float64:
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		n := rv.Len()
		for i := range n {
			if err := fn(i, n, i, rv.Index(i).Interface()); err != nil {
				return err
			}
		}
	case reflect.Map:
		type entry struct {
			key string
			v   reflect.Value
		}
		entries := make([]entry, 0, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			entries = append(entries, entry{fmt.Sprint(it.Key().Interface()), it.Value()})
		}
		slices.SortFunc(entries, func(a, b entry) int {
			switch {
			case a.key < b.key:
				return -1
			case a.key > b.key:
				return 1
			}
			return 0
		})
		for i, e := range entries {
			if err := fn(i, len(entries), e.key, e.v.Interface()); err != nil {
				return err
			}
		}
	}
	return nil
}

// length returns the number of runes in a string or of elements in a list
// or map; nil has length 0.
func length(v any) (int, bool) {
	switch x := v.(type) {
	case nil:
		return 0, true
	case string:
		return utf8.RuneCountInString(x), true
	case []any:
		return len(x), true
	case map[string]any:
		return len(x), true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len(), true
	case reflect.String:
		return utf8.RuneCountInString(rv.String()), true
	}
	return 0, false
}

// truthy follows Handlebars: nil, false, 0, "" and empty lists and maps
// are false.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int:
		return x != 0
	case float64:
		return x != 0 && !math.IsNaN(x)
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	if f, ok := toFloat(v); ok {
		return f != 0 && !math.IsNaN(f)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
		return rv.Len() > 0
	case reflect.Pointer, reflect.Interface:
		return !rv.IsNil()
	case reflect.Bool:
		return rv.Bool()
	}
	return true
}

// toFloat converts any Go number (and json.Number) to float64.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case int16:
		return float64(x), true
	case int8:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint8:
		return float64(x), true
	case float32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// appendValue appends v's rendering: strings as is, numbers in their
// shortest form (no ".0" for integral floats), bools, nothing for nil,
// and compact JSON for anything else.
func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return b, nil
	case string:
		return append(b, x...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case float64:
		return appendFloat(b, x, 64), nil
	case float32:
		return appendFloat(b, float64(x), 32), nil
	case json.Number:
		return append(b, x...), nil
	}
	return appendJSON(b, v)
}

// appendFloat formats like encoding/json: decimal notation unless the
// exponent is below -6 or at least 21.
func appendFloat(b []byte, f float64, bits int) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSON appends v as compact JSON, without HTML escaping.
func appendJSON(b []byte, v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return b, fmt.Errorf("cannot render %T as JSON: %w", v, err)
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...), nil
}

// stringify returns v as it would render.
func stringify(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := appendValue(nil, v)
	return string(b), err
}

// equal compares numbers by value across Go types and other scalars with
// ==. As in JavaScript, lists and maps are equal only when they are the
// same value, which keeps eq cheap.
func equal(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		return ok && fa == fb
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	if b == nil {
		return false
	}
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	if ra.Type() != rb.Type() {
		return false
	}
	switch ra.Kind() {
	case reflect.Map, reflect.Pointer, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return ra.Pointer() == rb.Pointer()
	case reflect.Slice:
		return ra.Pointer() == rb.Pointer() && ra.Len() == rb.Len()
	}
	return false
}

// empty reports whether v is nil or an empty string, list or map.
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.String:
		return rv.Len() == 0
	}
	return false
}

// compare orders two numbers or two strings; ok is false for any other pair.
func compare(a, b any) (int, bool) {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		switch {
		case !ok || math.IsNaN(fa) || math.IsNaN(fb):
			return 0, false
		case fa < fb:
			return -1, true
		case fa > fb:
			return 1, true
		}
		return 0, true
	}
	x, ok1 := a.(string)
	y, ok2 := b.(string)
	if !ok1 || !ok2 {
		return 0, false
	}
	switch {
	case x < y:
		return -1, true
	case x > y:
		return 1, true
	}
	return 0, true
}
