package tmpl_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
)

var update = flag.Bool("update", false, "rewrite testdata/render/*.golden")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testData loads testdata/data.json, decoded as the engine decodes JSON
// inputs (numbers are float64).
func testData(tb testing.TB) map[string]any {
	tb.Helper()
	b, err := os.ReadFile("testdata/data.json")
	if err != nil {
		tb.Fatal(err)
	}
	var data map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		tb.Fatal(err)
	}
	return data
}

func mustParse(tb testing.TB, src string) *tmpl.Template {
	tb.Helper()
	t, err := tmpl.Parse(src)
	if err != nil {
		tb.Fatalf("Parse(%q): %v", src, err)
	}
	return t
}

func TestRender(t *testing.T) {
	data := testData(t)
	tests := []struct{ name, src, want string }{
		{"text only", "plain {text} } {", "plain {text} } {"},
		{"empty", "", ""},
		{"bare input", "{{ticket}}", "My order #123 <arrived> broken & late"},
		{"explicit input, no escaping", "{{{ inputs.ticket }}}|{{& ticket }}", "My order #123 <arrived> broken & late|My order #123 <arrived> broken & late"},
		{"whitespace inside tag", "{{\n  steps.classify.label\t}}", "complaint"},
		{"nested path", "{{ nested.a.b.c }}", "deep"},
		{"bracket segment", "{{ inputs.[odd key] }}", "spaced"},
		{"array index", "{{ tags.0 }} {{ tags.[1] }} [{{ tags.2 }}]", "billing urgent []"},
		{"index then field", "{{ steps.search.hits.1.metadata.title }}", "Shipping"},
		{"missing step renders empty", "[{{ steps.skipped.text }}][{{ steps.classify.nope.deeper }}]", "[][]"},
		{"numbers", "{{priority}} {{whole}} {{ratio}} {{big}} {{zero}}", "3 2 0.25 1e+21 0"},
		{"bool and null", "{{flag}} [{{none}}]", "true []"},
		{"list and map as JSON", "{{tags}} {{prefs}}", `["billing","urgent"] {"lang":"en","tone":"formal"}`},
		{"each list", "{{#each tags}}{{@index}}:{{this}}{{#if @first}}(first){{/if}}{{#if @last}}(last){{/if}} {{/each}}", "0:billing(first) 1:urgent(last) "},
		{"each map in key order", "{{#each prefs}}{{@key}}={{.}} {{/each}}", "lang=en tone=formal "},
		{"each over objects", "{{#each steps.search.hits}}{{id}}/{{this.score}}/{{metadata.title}} {{/each}}", "doc-1/0.9/Refunds doc-2/0.5/Shipping "},
		{"each else", "{{#each steps.skipped.hits}}x{{else}}none{{/each}}", "none"},
		{"each over scalar is empty", "{{#each ticket}}x{{else}}none{{/each}}", "none"},
		{"each else if", "{{#each empty}}x{{else if flag}}flag{{/each}}", "flag"},
		{"parent context", "{{#each tags}}{{../mode}}-{{this}} {{/each}}", "deep-billing deep-urgent "},
		{"roots inside blocks", "{{#each tags}}{{inputs.mode}}{{steps.classify.label}} {{/each}}", "deepcomplaint deepcomplaint "},
		{"nested each with @index of inner", "{{#each tags}}{{#each ../prefs}}{{@index}}{{/each}}{{/each}}", "0101"},
		{"@index through with", "{{#each steps.search.hits}}{{#with metadata}}{{@index}}{{title}}{{/with}}{{/each}}", "0Refunds1Shipping"},
		{"with", "{{#with steps.summarize.usage}}{{input_tokens}}+{{output_tokens}}{{/with}}", "120+30"},
		{"with else", "{{#with steps.skipped}}x{{else}}no summary{{/with}}", "no summary"},
		{"if else-if else", "{{#if empty}}a{{else if zero}}b{{else if mode}}c{{else}}d{{/if}}", "c"},
		{"if without parens", "{{#if eq mode 'deep'}}yes{{/if}}", "yes"},
		{"unless", "{{#unless zero}}zero is false{{else}}no{{/unless}}", "zero is false"},
		{"unless else if", "{{#unless flag}}a{{else if mode}}b{{/unless}}", "b"},
		{"truthiness", "{{#if tags}}1{{/if}}{{#if (not empty)}}2{{/if}}{{#if none}}x{{/if}}{{#if prefs}}3{{/if}}", "123"},
		{"eq across number types", "{{eq priority 3}} {{eq whole 2}} {{ne mode 'deep'}} {{eq none null}} {{eq tags tags}}", "true true false true true"},
		{"eq on lists and maps is identity", "{{eq prefs steps.classify}} {{eq prefs none}} {{eq none prefs}} {{eq tags 'billing'}}", "false false false false"},
		{"gt lt", "{{gt priority 2}} {{lt ratio 0.1}} {{gt 'b' 'a'}} {{gt mode 1}} {{lt none 1}}", "true false true false false"},
		{"and or not", "{{and flag mode}} {{and flag zero}} {{or zero empty}} {{or zero 'x' none}} {{not none}}", "true false false true true"},
		{"json", `{{json ticket}} {{json prefs}} {{json none}} {{json 1.5}}`, `"My order #123 <arrived> broken & late" {"lang":"en","tone":"formal"} null 1.5`},
		{"len", "{{len ticket}} {{len tags}} {{len prefs}} {{len none}} {{len 'héllo'}}", "37 2 2 0 5"},
		{"upper lower trim", "{{upper mode}} {{lower 'ABC'}} [{{trim '  x  '}}] {{upper priority}}", "DEEP abc [x] 3"},
		{"default", "{{default empty 'e'}} {{default none 'n'}} {{default mode 'm'}} {{default zero 5}}", "e n deep 0"},
		{"join", "{{join tags ' | '}} [{{join none ','}}] {{join steps.search.hits ';'}}", `billing | urgent [] {"id":"doc-1","metadata":{"title":"Refunds"},"score":0.9};{"id":"doc-2","metadata":{"title":"Shipping"},"score":0.5}`},
		{"truncate", "{{truncate ticket 8}}|{{truncate 'héllo' 2}}|{{truncate mode 99}}|{{truncate mode priority}}", "My order|hé|deep|dee"},
		{"sub-expressions", "{{upper (truncate (default none mode) 2)}} {{len (join tags '')}}", "DE 13"},
		{"string escapes", `{{ "a\"b\\c\nd" }}|{{ 'it\'s' }}`, "a\"b\\c\nd|it's"},
		{"literals", "{{ -2 }} {{ 1.5e3 }} {{ true }} [{{ null }}] [{{ undefined }}]", "-2 1500 true [] []"},
		{"comments", "a{{! c }}b{{!-- }} {{ --}}c{{~!-- x --~}}  d", "abcd"},
		{"tilde strips newlines", "a\n\n  {{~ mode ~}}\n\n  b", "adeepb"},
		{"tilde on blocks", "{{#each tags ~}}\n  {{this}}\n{{~/each}}", "billingurgent"},
		{"triple with tilde", "a {{~{ mode }~}} b", "adeepb"},
		{"standalone block lines", "A\n  {{#if flag}}  \nB\n  {{/if}}\nC\n", "A\nB\nC\n"},
		{"standalone at start and end", "{{#if flag}}\nB\n{{/if}}", "B\n"},
		{"standalone CRLF", "A\r\n{{#if flag}}\r\nB\r\n{{/if}}\r\n", "A\r\nB\r\n"},
		{"not standalone with text", "A {{#if flag}}B{{/if}} C\n", "A B C\n"},
		{"expression tags are never standalone", "A\n{{mode}}\nB", "A\ndeep\nB"},
		{"escaped mustache", `\{{mode}} \\{{mode}}`, `{{mode}} \deep`},
		{"tab in text", "\t{{mode}}\t", "\tdeep\t"},
		{"unicode path", "{{#with nested}}{{a.b.c}}{{/with}}", "deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mustParse(t, tt.src).Render(data)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got != tt.want {
				t.Errorf("Render(%q)\n got %q\nwant %q", tt.src, got, tt.want)
			}
		})
	}
}

// TestRenderGoTypes covers values that are not JSON-decoded: typed
// slices and maps and Go integer types, as step executors produce them.
func TestRenderGoTypes(t *testing.T) {
	data := map[string]any{
		"inputs": map[string]any{
			"vec":   []float64{0.5, 1, -2e-7},
			"f32":   []float32{0.1},
			"ints":  []int{3, 4},
			"hits":  []map[string]any{{"id": "a"}, {"id": "b"}},
			"names": []string{"x", "y"},
			"sm":    map[string]string{"k": "v"},
			"n64":   int64(-7),
			"u8":    uint8(200),
			"jn":    json.Number("12.50"),
			"arr":   [2]string{"p", "q"},
			"anyk":  map[any]any{"b": 1, "a": 2},
		},
	}
	tests := []struct{ src, want string }{
		{"{{vec}} {{vec.1}} {{f32.0}}", "[0.5,1,-2e-7] 1 0.1"},
		{"{{#each ints}}{{this}}{{/each}} {{len ints}}", "34 2"},
		{"{{#each hits}}{{id}}{{/each}} {{hits.1.id}}", "ab b"},
		{"{{names.1}} {{join names '+'}}", "y x+y"},
		{"{{sm.k}} {{#each sm}}{{@key}}{{this}}{{/each}}", "v kv"},
		{"{{n64}} {{u8}} {{jn}} {{gt jn 12}}", "-7 200 12.50 true"},
		{"{{arr.1}} {{#each arr}}{{this}}{{/each}}", "q pq"},
		{"{{#each anyk}}{{@key}}{{this}}{{/each}}", "a2b1"},
	}
	for _, tt := range tests {
		got, err := mustParse(t, tt.src).Render(data)
		if err != nil || got != tt.want {
			t.Errorf("Render(%q) = %q, %v; want %q", tt.src, got, err, tt.want)
		}
	}
}

func TestRenderNilData(t *testing.T) {
	got, err := mustParse(t, "[{{ x }}{{ steps.a.b }}{{#each inputs}}x{{/each}}]").Render(nil)
	if err != nil || got != "[]" {
		t.Fatalf("Render(nil) = %q, %v", got, err)
	}
}

func TestGolden(t *testing.T) {
	data := testData(t)
	files, err := filepath.Glob("testdata/render/*.tmpl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden templates: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := mustParse(t, string(src)).Render(data)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			golden := strings.TrimSuffix(f, ".tmpl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s:\n got %q\nwant %q", f, got, want)
			}
		})
	}
}

type errorCase struct{ Src, Err string }

func errorCases(tb testing.TB) []errorCase {
	tb.Helper()
	b, err := os.ReadFile("testdata/errors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var cases []errorCase
	if err := json.Unmarshal(b, &cases); err != nil {
		tb.Fatal(err)
	}
	return cases
}

func TestParseErrors(t *testing.T) {
	for _, tt := range errorCases(t) {
		t.Run(tt.Src, func(t *testing.T) {
			_, err := tmpl.Parse(tt.Src)
			var se *tmpl.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %v, want a *SyntaxError", tt.Src, err)
			}
			if err.Error() != tt.Err {
				t.Errorf("Parse(%q)\n got %s\nwant %s", tt.Src, err, tt.Err)
			}
		})
	}
}

func TestDepthLimit(t *testing.T) {
	nest := func(n int, open, close string) string {
		return strings.Repeat(open, n) + "x" + strings.Repeat(close, n)
	}
	tests := []struct {
		name, src string
		ok        bool
	}{
		{"blocks at limit", nest(tmpl.MaxDepth, "{{#if a}}", "{{/if}}"), true},
		{"blocks over limit", nest(tmpl.MaxDepth+1, "{{#with a}}", "{{/with}}"), false},
		{"sub-expressions at limit", "{{ not " + nest(tmpl.MaxDepth, "(not ", ")") + " }}", true},
		{"sub-expressions over limit", "{{ not " + nest(tmpl.MaxDepth+1, "(not ", ")") + " }}", false},
		{"blocks and sub-expressions add up", strings.Repeat("{{#if a}}", tmpl.MaxDepth/2) + "{{ not " + nest(tmpl.MaxDepth/2+1, "(not ", ")") + "}}" + strings.Repeat("{{/if}}", tmpl.MaxDepth/2), false},
		{"long else-if chains are flat", "{{#if a}}" + strings.Repeat("{{else if a}}", 10*tmpl.MaxDepth) + "{{/if}}", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tmpl.Parse(tt.src)
			if tt.ok && err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !tt.ok && (err == nil || !strings.Contains(err.Error(), "nesting deeper than 64 levels")) {
				t.Fatalf("Parse = %v, want a nesting error", err)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	data := testData(t)
	data["inputs"].(map[string]any)["bad"] = make(chan int)
	tests := []struct {
		src, want string
		is        error
	}{
		{src: "ok\n  {{ len priority }}", want: "2:3: len: want a string, list or map, got number"},
		{src: "{{ join ticket ',' }}", want: "1:1: join: want a list, got string"},
		{src: "{{ join prefs ',' }}", want: "1:1: join: want a list, got map"},
		{src: "{{ truncate ticket mode }}", want: "1:1: truncate: length must be a non-negative integer, got string"},
		{src: "{{#if (len flag)}}{{/if}}", want: "1:1: len: want a string, list or map, got bool"},
		{src: "{{#each tags}}{{else if (len 1)}}{{/each}}", want: ""},
		{src: "{{#each (len 1)}}{{/each}}", want: "1:1: len: want a string, list or map, got number"},
		{src: "{{ bad }}", want: "1:1: cannot render chan int as JSON: json: unsupported type: chan int"},
		{src: "{{ json bad }}", want: "1:1: json: cannot render chan int as JSON: json: unsupported type: chan int"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := mustParse(t, tt.src).Render(data)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Render(%q)\n got %v\nwant %s", tt.src, err, tt.want)
			}
			if errtype.Of(err) != errtype.Template {
				t.Errorf("error type = %q, want template", errtype.Of(err))
			}
		})
	}
}

func TestLimits(t *testing.T) {
	data := testData(t)
	list := make([]any, 2048)
	for i := range list {
		list[i] = i
	}
	data["inputs"].(map[string]any)["list"] = list
	data["inputs"].(map[string]any)["long"] = strings.Repeat("x", 1<<16)
	tests := []struct {
		name, src string
		max       int
		want      string
		is        error
	}{
		{name: "exact fit", src: "{{mode}}{{mode}}", max: 8, want: "deepdeep"},
		{name: "text over", src: "0123456789", max: 9, is: tmpl.ErrOutputLimit},
		{name: "value over", src: "{{ticket}}", max: 10, is: tmpl.ErrOutputLimit},
		{name: "each over", src: "{{#each list}}{{this}},{{/each}}", max: 100, is: tmpl.ErrOutputLimit},
		{name: "join checks before building", src: "{{ len (join list ticket) }}", max: 1000, is: tmpl.ErrOutputLimit},
		{name: "json checks before building", src: "{{ len (json list) }}", max: 100, is: tmpl.ErrOutputLimit},
		{name: "default limit", src: "{{#each list}}{{#each ../list}}{{../../ticket}}{{/each}}{{/each}}", max: 0, is: tmpl.ErrOutputLimit},
		{name: "helpers are charged for bytes", src: "{{#each list}}{{#if (eq ../long ../long)}}{{/if}}{{/each}}", max: 0, is: tmpl.ErrWorkLimit},
		{name: "work limit", src: "{{#each list}}{{#each ../list}}{{#each ../../list}}{{/each}}{{/each}}{{/each}}", max: 0, is: tmpl.ErrWorkLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mustParse(t, tt.src).RenderLimit(data, tt.max)
			if tt.is == nil {
				if err != nil || got != tt.want {
					t.Fatalf("RenderLimit = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.is) || errtype.Of(err) != errtype.Template {
				t.Fatalf("RenderLimit err = %v (type %q), want %v (template)", err, errtype.Of(err), tt.is)
			}
		})
	}
}

func TestRefs(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"no refs", []string{}},
		{"{{ ticket }} {{ inputs.ticket }} {{ inputs.ticket.x.y }}", []string{"inputs.ticket"}},
		{"{{ steps.classify.label }} {{ steps.classify.usage.input_tokens }} {{ steps.search }}", []string{"steps.classify.label", "steps.classify.usage", "steps.search"}},
		{"{{ json inputs }} {{ len steps }}", []string{"inputs", "steps"}},
		{"{{ eq (upper a) b.c }}{{#if d}}{{else if (not e)}}{{/if}}", []string{"inputs.a", "inputs.b", "inputs.d", "inputs.e"}},
		{"{{#each steps.search.hits}}{{ id }} {{ this.score }} {{ @index }} {{ ../q }} {{ inputs.r }} {{ steps.x.y }}{{/each}}", []string{"inputs.q", "inputs.r", "steps.search.hits", "steps.x.y"}},
		{"{{#with w}}{{#each items}}{{ ../z }} {{ ../../top }} {{ ../../inputs.k }}{{/each}}{{/with}}", []string{"inputs.k", "inputs.top", "inputs.w"}},
		{"{{ tags.[0] }} {{ steps.[my step].[out put] }}", []string{"inputs.tags", "steps.my step.out put"}},
		{"{{! {{ commented }} }}{{!-- {{ out }} --}}\\{{ escaped }}", []string{}},
	}
	for _, tt := range tests {
		got := mustParse(t, tt.src).Refs()
		if !slices.Equal(got, tt.want) {
			t.Errorf("Refs(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestValue(t *testing.T) {
	data := testData(t)
	tests := []struct {
		src  string
		want any
		ok   bool
	}{
		{"{{ steps.search.hits.0.id }}", "doc-1", true},
		{"  {{ tags }}\n", []any{"billing", "urgent"}, true},
		{"{{{ priority }}}", 3.0, true},
		{"{{! c }}{{ flag }}", true, true},
		{"{{ steps.skipped.text }}", nil, true},
		{"{{ len tags }}", 2, true},
		{"{{ default none 5 }}", 5, true},
		{"{{ len priority }}", nil, false},
		{"x{{ tags }}", nil, false},
		{"{{ a }}{{ b }}", nil, false},
		{"{{#if a}}{{ b }}{{/if}}", nil, false},
		{"plain", nil, false},
		{"", nil, false},
	}
	for _, tt := range tests {
		got, ok := mustParse(t, tt.src).Value(data)
		b1, _ := json.Marshal(got)
		b2, _ := json.Marshal(tt.want)
		if ok != tt.ok || string(b1) != string(b2) {
			t.Errorf("Value(%q) = %#v, %v; want %#v, %v", tt.src, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSource(t *testing.T) {
	const src = "Hi {{ name }}"
	if got := mustParse(t, src).Source(); got != src {
		t.Fatalf("Source() = %q", got)
	}
}

// TestConcurrentRender renders one template from many goroutines (run
// with -race): the pooled state must never leak between renders.
func TestConcurrentRender(t *testing.T) {
	data := testData(t)
	tp := mustParse(t, "{{#each steps.search.hits}}{{ @index }}{{ id }}{{ upper (truncate ../ticket 5) }}{{/each}}")
	want, err := tp.Render(data)
	if err != nil {
		t.Fatal(err)
	}
	small := mustParse(t, "{{ mode }}")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for g := range errs {
		wg.Go(func() {
			for range 200 {
				got, err := tp.Render(data)
				if err == nil && got != want {
					err = errors.New("got " + got)
				}
				if s, err2 := small.RenderLimit(data, 4); err2 != nil || s != "deep" {
					err = errors.Join(err, err2)
				}
				if err != nil {
					errs[g] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}
