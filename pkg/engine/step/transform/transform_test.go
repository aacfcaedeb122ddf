package transform_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/steptest"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/transform"
)

func TestBuildProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"concat", "function: concat\ninputs: ['{{ a }}', b]\nseparator: ', '", nil},
		{"pick with default", "function: pick\ninput: '{{ a }}'\npath: x.0\ndefault: null", nil},
		{"split with limit", "function: split\ninput: '{{ a }}'\nseparator: ','\nlimit: 2", nil},
		{"unknown function", "function: conact\ninputs: [a]",
			[]string{`function: unknown function "conact" (did you mean "concat"?); known: concat, json_parse, merge, pick, split, template`}},
		{"no suggestion", "function: frobnicate",
			[]string{`function: unknown function "frobnicate"; known: concat, json_parse, merge, pick, split, template`}},
		{"foreign keys", "function: template\ntemplate: x\ninputs: [a]\nlimit: 3", []string{
			`inputs: key "inputs" does not belong to function "template" (its keys: template)`,
			`limit: key "limit" does not belong to function "template" (its keys: template)`,
		}},
		{"missing keys", "function: pick\ninput: x", []string{`function: function "pick" needs key "path"`}},
		{"empty path", "function: pick\ninput: x\npath: ''", []string{"path: path must not be empty"}},
		{"bad path", "function: pick\ninput: x\npath: a..b", []string{`path: path "a..b" has an empty segment`}},
		{"split problems", "function: split\ninput: x\nseparator: ''\nlimit: 0", []string{
			"separator: separator must not be empty", "limit: limit must be at least 1, got 0"}},
		{"bad template", "function: template\ntemplate: '{{'", []string{"template: *"}},
		{"bad input in list", "function: merge\ninputs: [ok, '{{']", []string{"inputs: *"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := steptest.NewBuilder(nil)
			e := b.Build(t, transform.Spec(), "id: t\n"+tt.src)
			steptest.CheckBuild(t, b, e, tt.want)
		})
	}
}

var (
	inputs = map[string]any{"name": "Ada", "csv": "a,b,,c", "doc": `{"a": {"b": [1, {"c": "deep"}]}}`, "empty": ""}
	steps  = map[string]any{
		"classify": map[string]any{"text": "bug", "usage": map[string]any{"input_tokens": int64(3)}},
		"meta":     map[string]any{"text": "x", "priority": 2},
		"list":     map[string]any{"result": []any{"p", "q"}},
	}
)

func TestExecute(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want any
	}{
		{"concat default separator", "function: concat\ninputs: ['{{ name }}', '{{ steps.classify.text }}']", "Ada\nbug"},
		{"concat separator", "function: concat\ninputs: ['{{ name }}', x, '']\nseparator: ' | '", "Ada | x | "},
		{"template", "function: template\ntemplate: 'Hello {{ name }}, this is a {{ steps.classify.text }}'", "Hello Ada, this is a bug"},
		{"merge later keys win", "function: merge\ninputs: ['{{ steps.classify }}', '{{ steps.meta }}']",
			map[string]any{"text": "x", "priority": 2, "usage": map[string]any{"input_tokens": int64(3)}}},
		{"merge json text and skipped", "function: merge\ninputs: ['{{ steps.skipped }}', '{\"k\": 1}', '{{ empty }}']", map[string]any{"k": 1.0}},
		{"json_parse", "function: json_parse\ninput: '{{ doc }}'", map[string]any{"a": map[string]any{"b": []any{1.0, map[string]any{"c": "deep"}}}}},
		{"json_parse scalar", "function: json_parse\ninput: ' 42 '", 42.0},
		{"pick", "function: pick\ninput: '{{ steps.classify }}'\npath: usage.input_tokens", int64(3)},
		{"pick list index", "function: pick\ninput: '{{ steps.list.result }}'\npath: '1'", "q"},
		{"pick default", "function: pick\ninput: '{{ steps.classify }}'\npath: usage.nope\ndefault: {none: true}", map[string]any{"none": true}},
		{"pick default null", "function: pick\ninput: '{{ steps.skipped }}'\npath: a\ndefault: null", nil},
		{"split", "function: split\ninput: '{{ csv }}'\nseparator: ','", []any{"a", "b", "", "c"}},
		{"split limit", "function: split\ninput: '{{ csv }}'\nseparator: ','\nlimit: 2", []any{"a", "b,,c"}},
		{"split default separator", "function: split\ninput: \"one\\ntwo\"", []any{"one", "two"}},
		{"split empty", "function: split\ninput: '{{ empty }}'", []any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := steptest.NewBuilder(nil)
			e := b.Build(t, transform.Spec(), "id: t\n"+tt.src)
			if e == nil {
				t.Fatal(b.Problems)
			}
			res, err := e.Execute(context.Background(), steptest.NewRuntime(inputs, steps))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Object, map[string]any{"result": tt.want}) || !reflect.DeepEqual(res.Values, []any{tt.want}) {
				t.Errorf("got %#v / %#v, want %#v", res.Object, res.Values, tt.want)
			}
		})
	}
	// merge must not modify the step objects it reads.
	if len(steps["classify"].(map[string]any)) != 2 {
		t.Errorf("merge modified its input: %v", steps["classify"])
	}
}

func TestExecuteErrors(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		maxBytes int
		want     string
		typ      errtype.Type
	}{
		{"json syntax", "function: json_parse\ninput: '{\"a\": 1,}'", 0, "json_parse: invalid JSON at offset 9: invalid character '}' looking for beginning of object key string", errtype.Validation},
		{"json truncated", "function: json_parse\ninput: '{\"a\": [1'", 0, "json_parse: invalid JSON: unexpected end of input at offset 8", errtype.Validation},
		{"json trailing", "function: json_parse\ninput: '{\"a\": 1} {\"b\": 2}'", 0, "json_parse: invalid JSON: unexpected data after the value at offset 9", errtype.Validation},
		{"json empty", "function: json_parse\ninput: '{{ empty }}'", 0, "json_parse: the input is empty", errtype.Validation},
		{"pick missing key", "function: pick\ninput: '{{ steps.classify }}'\npath: usage.output_tokens", 0, `pick "usage.output_tokens": usage has no key "output_tokens"`, errtype.Validation},
		{"pick bad index", "function: pick\ninput: '{{ steps.list.result }}'\npath: '5'", 0, `pick "5": the input is a list of 2, "5" is not an index in it`, errtype.Validation},
		{"pick into text", "function: pick\ninput: '{{ steps.classify }}'\npath: text.x", 0, `pick "text.x": text is text, it has no "x"`, errtype.Validation},
		{"pick skipped", "function: pick\ninput: '{{ steps.skipped }}'\npath: a", 0, `pick "a": the input is null, it has no "a"`, errtype.Validation},
		{"merge non-object", "function: merge\ninputs: ['{{ steps.list.result }}']", 0, "merge: inputs[0] is a list of 2, not an object", errtype.Validation},
		{"merge text", "function: merge\ninputs: ['{{ name }}']", 0, "merge: inputs[0] is text, not an object: invalid character 'A' looking for beginning of value", errtype.Validation},
		{"template limit", "function: template\ntemplate: '{{ csv }}'", 3, "render template: output exceeds 3 bytes: template output limit exceeded", errtype.Template},
		{"concat limit", "function: concat\ninputs: [ab, cd]", 3, "concat: output is 5 bytes, over the limit of 3", errtype.Template},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := steptest.NewBuilder(nil)
			b.Settings.MaxTemplateBytes = tt.maxBytes
			e := b.Build(t, transform.Spec(), "id: t\n"+tt.src)
			if e == nil {
				t.Fatal(b.Problems)
			}
			_, err := e.Execute(context.Background(), steptest.NewRuntime(inputs, steps))
			if err == nil || err.Error() != tt.want || errtype.Of(err) != tt.typ {
				t.Errorf("got  %v (%s)\nwant %s (%s)", err, errtype.Of(err), tt.want, tt.typ)
			}
		})
	}
}
