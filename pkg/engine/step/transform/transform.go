package transform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/internal/stepkit"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// Config is the `transform` step's configuration. Which keys apply depends
// on Function (see docs/steps.md).
type Config struct {
	Function  string   `yaml:"function,required"`
	Inputs    []string `yaml:"inputs"`    // concat, merge: templates
	Separator *string  `yaml:"separator"` // concat, split: default "\n"
	Template  string   `yaml:"template"`  // template
	Input     string   `yaml:"input"`     // json_parse, pick, split: template
	Path      string   `yaml:"path"`      // pick: a.b.0.c
	Default   any      `yaml:"default"`   // pick: the result when path is missing
	Limit     *int     `yaml:"limit"`     // split: at most this many parts (> 0)
}

// Spec returns the `transform` step type.
func Spec() step.Spec {
	return step.Spec{Type: "transform", NewConfig: func() any { return new(Config) }, Build: build}
}

// allKeys are the function-specific keys.
var allKeys = []string{"inputs", "separator", "template", "input", "path", "default", "limit"}

type function struct {
	keys     []string // allowed keys
	required []string
	compile  func(b *stepkit.Builder, c *Config, s *workflow.Step) run
}

// run computes a result from the template data.
type run func(data map[string]any, maxBytes int) (any, error)

var functions = map[string]function{
	"concat":     {keys: []string{"inputs", "separator"}, required: []string{"inputs"}, compile: compileConcat},
	"template":   {keys: []string{"template"}, required: []string{"template"}, compile: compileTemplate},
	"merge":      {keys: []string{"inputs"}, required: []string{"inputs"}, compile: compileMerge},
	"json_parse": {keys: []string{"input"}, required: []string{"input"}, compile: compileJSONParse},
	"pick":       {keys: []string{"input", "path", "default"}, required: []string{"input", "path"}, compile: compilePick},
	"split":      {keys: []string{"input", "separator", "limit"}, required: []string{"input"}, compile: compileSplit},
}

type executor struct {
	run      run
	maxBytes int
}

func build(sb step.Builder, s *workflow.Step) step.Executor {
	c := s.Config.(*Config)
	b := stepkit.Wrap(sb)
	f, ok := functions[c.Function]
	if !ok {
		b.Errorf("function", "%s", stepkit.Unknown("function", c.Function, slices.Collect(maps.Keys(functions))))
		return nil
	}
	what := fmt.Sprintf("function %q", c.Function)
	stepkit.Foreign(b, s, allKeys, f.keys, what)
	for _, k := range f.required {
		if !stepkit.Has(s, k) {
			b.Errorf("function", "%s needs key %q", what, k)
		}
	}
	e := &executor{run: f.compile(b, c, s), maxBytes: b.Env().MaxTemplateBytes}
	if b.Failed() {
		return nil
	}
	return e
}

// Execute computes the result.
func (e *executor) Execute(ctx context.Context, rt step.Runtime) (step.Result, error) {
	v, err := e.run(rt.Data(), e.maxBytes)
	if err != nil {
		return step.Result{}, err
	}
	return step.Result{Object: map[string]any{"result": v}, Values: []any{v}}, nil
}

func separator(c *Config) string {
	if c.Separator == nil {
		return "\n"
	}
	return *c.Separator
}

func invalid(format string, args ...any) error {
	return errtype.New(errtype.Validation, fmt.Errorf(format, args...))
}

func compileConcat(b *stepkit.Builder, c *Config, _ *workflow.Step) run {
	ts, sep := b.Templates("inputs", c.Inputs), separator(c)
	return func(data map[string]any, max int) (any, error) {
		parts := make([]string, len(ts))
		for i, t := range ts {
			s, err := stepkit.Render(t, data, max, fmt.Sprintf("inputs[%d]", i))
			if err != nil {
				return nil, err
			}
			parts[i] = s
		}
		out := strings.Join(parts, sep)
		if max > 0 && len(out) > max {
			return nil, errtype.New(errtype.Template, fmt.Errorf("concat: output is %d bytes, over the limit of %d", len(out), max))
		}
		return out, nil
	}
}

func compileTemplate(b *stepkit.Builder, c *Config, _ *workflow.Step) run {
	t := b.Template("template", c.Template)
	return func(data map[string]any, max int) (any, error) {
		return stepkit.Render(t, data, max, "template")
	}
}

func compileMerge(b *stepkit.Builder, c *Config, _ *workflow.Step) run {
	ts := b.Templates("inputs", c.Inputs)
	return func(data map[string]any, max int) (any, error) {
		out := map[string]any{}
		for i, t := range ts {
			what := fmt.Sprintf("inputs[%d]", i)
			v, err := stepkit.Value(t, data, max, what)
			if err != nil {
				return nil, err
			}
			if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
				if err := json.Unmarshal([]byte(s), &v); err != nil {
					return nil, invalid("merge: %s is text, not an object: %v", what, err)
				}
			}
			switch m := v.(type) {
			case nil, string: // a skipped step or an empty rendering adds nothing
			case map[string]any:
				maps.Copy(out, m)
			default:
				return nil, invalid("merge: %s is %s, not an object", what, stepkit.Describe(v))
			}
		}
		return out, nil
	}
}

func compileJSONParse(b *stepkit.Builder, c *Config, _ *workflow.Step) run {
	t := b.Template("input", c.Input)
	return func(data map[string]any, max int) (any, error) {
		s, err := stepkit.Render(t, data, max, "input")
		if err != nil {
			return nil, err
		}
		return parseJSON(s)
	}
}

// parseJSON decodes exactly one JSON value. Errors say where (byte offset).
func parseJSON(s string) (any, error) {
	if strings.TrimSpace(s) == "" {
		return nil, invalid("json_parse: the input is empty")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, invalid("json_parse: invalid JSON at offset %d: %v", se.Offset, err)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, invalid("json_parse: invalid JSON: unexpected end of input at offset %d", len(s))
		}
		return nil, invalid("json_parse: invalid JSON: %v", err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		off := end + int64(len(s[end:])-len(bytes.TrimLeft([]byte(s[end:]), " \t\r\n")))
		return nil, invalid("json_parse: invalid JSON: unexpected data after the value at offset %d", off)
	}
	return v, nil
}

func compilePick(b *stepkit.Builder, c *Config, s *workflow.Step) run {
	t := b.Template("input", c.Input)
	path := strings.Split(c.Path, ".")
	switch {
	case c.Path == "":
		if stepkit.Has(s, "path") {
			b.Errorf("path", "path must not be empty")
		}
	case slices.Contains(path, ""):
		b.Errorf("path", "path %q has an empty segment", c.Path)
	}
	hasDefault, def := stepkit.Has(s, "default"), c.Default
	return func(data map[string]any, max int) (any, error) {
		v, err := stepkit.Value(t, data, max, "input")
		if err != nil {
			return nil, err
		}
		out, err := pick(v, path)
		if err != nil {
			if hasDefault {
				return def, nil
			}
			return nil, invalid("pick %q: %v", strings.Join(path, "."), err)
		}
		return out, nil
	}
}

// pick walks path through maps (by key) and lists (by index).
func pick(v any, path []string) (any, error) {
	for i, seg := range path {
		at := strings.Join(path[:i], ".")
		if at == "" {
			at = "the input"
		}
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Map:
			if rv.Type().Key().Kind() != reflect.String {
				return nil, fmt.Errorf("%s has non-text keys", at)
			}
			el := rv.MapIndex(reflect.ValueOf(seg).Convert(rv.Type().Key()))
			if !el.IsValid() {
				return nil, fmt.Errorf("%s has no key %q", at, seg)
			}
			v = el.Interface()
		case reflect.Slice, reflect.Array:
			n, err := strconv.Atoi(seg)
			if err != nil || n < 0 || n >= rv.Len() {
				return nil, fmt.Errorf("%s is %s, %q is not an index in it", at, stepkit.Describe(v), seg)
			}
			v = rv.Index(n).Interface()
		default:
			return nil, fmt.Errorf("%s is %s, it has no %q", at, stepkit.Describe(v), seg)
		}
	}
	return v, nil
}

func compileSplit(b *stepkit.Builder, c *Config, _ *workflow.Step) run {
	t, sep := b.Template("input", c.Input), separator(c)
	if sep == "" {
		b.Errorf("separator", "separator must not be empty")
	}
	limit := -1
	if c.Limit != nil {
		if limit = *c.Limit; limit < 1 {
			b.Errorf("limit", "limit must be at least 1, got %d", limit)
		}
	}
	return func(data map[string]any, max int) (any, error) {
		s, err := stepkit.Render(t, data, max, "input")
		if err != nil {
			return nil, err
		}
		out := []any{}
		if s != "" {
			for _, p := range strings.SplitN(s, sep, limit) {
				out = append(out, p)
			}
		}
		return out, nil
	}
}
