package workflow

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// nested returns a workflow whose step is nested depth levels deep in
// parallel steps.
func nested(depth int) string {
	var b strings.Builder
	b.WriteString("name: deep\nsteps:\n")
	indent := "  "
	for i := range depth {
		fmt.Fprintf(&b, "%s- id: p%d\n%s  type: parallel\n%s  tasks:\n", indent, i, indent, indent)
		indent += "    "
	}
	fmt.Fprintf(&b, "%s- {id: leaf, type: llm, prompt: x}\n", indent)
	return b.String()
}

func TestDecodeLimits(t *testing.T) {
	three := "name: n\nsteps:\n  - {id: a, type: llm, prompt: x}\n  - {id: b, type: llm, prompt: x}\n  - {id: c, type: llm, prompt: x}\n"
	threeNested := "name: n\nsteps:\n  - id: p\n    type: parallel\n    tasks:\n      - {id: a, type: llm, prompt: x}\n      - {id: b, type: llm, prompt: x}\n"
	bomb := "name: bomb\nmetadata:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i := 'b'; i <= 'j'; i++ {
		bomb += fmt.Sprintf("  %c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	bomb += "steps:\n  - {id: a, type: llm, prompt: x}\n"

	tests := []struct {
		name string
		src  string
		opts []DecodeOption
		want []string // nil: valid
	}{
		{"steps at limit", three, []DecodeOption{WithMaxSteps(3)}, nil},
		{"steps over limit", three, []DecodeOption{WithMaxSteps(2)}, []string{"f:5:5: workflow has more than 2 steps"}},
		{"nested steps count", threeNested, []DecodeOption{WithMaxSteps(2)}, []string{`f:7:9: step "p": workflow has more than 2 steps`}},
		{"invalid max steps keeps default", three, []DecodeOption{WithMaxSteps(0), WithMaxSteps(-1)}, nil},
		{"default depth", nested(DefaultMaxDepth), nil, nil},
		{"default depth exceeded", nested(DefaultMaxDepth + 1), nil, []string{
			fmt.Sprintf(`f:%d:%d: step "p8": nesting depth 9 exceeds the limit of 8`, 3+3*9, 5+4*9)}},
		{"depth 1", nested(1), []DecodeOption{WithMaxDepth(1)}, nil},
		{"depth 1 exceeded", nested(2), []DecodeOption{WithMaxDepth(1)}, []string{`f:9:13: step "p1": nesting depth 2 exceeds the limit of 1`}},
		{"invalid max depth keeps default", nested(3), []DecodeOption{WithMaxDepth(-3)}, nil},
		{"bytes at limit", three, []DecodeOption{WithMaxBytes(len(three))}, nil},
		{"bytes over limit", three, []DecodeOption{WithMaxBytes(len(three) - 1)}, []string{
			fmt.Sprintf("f:1:1: file is %d bytes, more than the limit of %d", len(three), len(three)-1)}},
		{"invalid max bytes keeps default", three, []DecodeOption{WithMaxBytes(0)}, nil},
		{"alias bomb", bomb, nil, []string{fmt.Sprintf("f:3:19: document is too large: aliases expand it beyond %d values", 2*len(bomb)+10000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, problems := Decode("f", []byte(tt.src), fakeTypes{}, tt.opts...)
			got := make([]string, len(problems))
			for i, p := range problems {
				got[i] = p.String()
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if (w == nil) != (tt.want != nil) {
				t.Errorf("workflow = %v with problems %v", w, got)
			}
		})
	}
}

func TestDecodeNilTypes(t *testing.T) {
	_, problems := Decode("f", []byte("name: n\nsteps: [{id: a, type: llm}]\n"), nil)
	if want := `f:2:23: step "a": unknown step type "llm": no step types are registered`; problems.Error() != want {
		t.Errorf("got %q, want %q", problems.Error(), want)
	}
}

// badTypes returns configs the decoder cannot fill.
type badTypes struct{}

func (badTypes) NewConfig(typ string) (any, bool) {
	switch typ {
	case "notptr":
		return struct{}{}, true
	case "chan":
		return &struct {
			C chan int `yaml:"c"`
		}{}, true
	}
	return nil, false
}

func (badTypes) Types() []string { return []string{"chan", "notptr"} }

func TestDecodeBadConfig(t *testing.T) {
	src := "name: n\nsteps:\n  - {id: a, type: notptr}\n  - {id: b, type: chan, c: 1}\n"
	_, problems := Decode("f", []byte(src), badTypes{})
	want := `f:3:19: step "a": internal error: step type "notptr" has config struct {}, not a pointer to a struct
f:4:28: step "b": "c": internal error: cannot decode into Go type chan int`
	if problems.Error() != want {
		t.Errorf("got:\n%s\nwant:\n%s", problems.Error(), want)
	}
}

func TestAncestorsEdgeCases(t *testing.T) {
	w, _ := Decode("f", []byte(`name: n
steps:
  - {id: a, type: llm, prompt: x, depends_on: [b]}
  - {id: b, type: llm, prompt: x, depends_on: [a, ghost]}
  - {id: c, type: llm, prompt: x, depends_on: [b]}
`), fakeTypes{})
	if got := ids(w.Ancestors(w.Step("a"))); !slices.Equal(got, []string{"b"}) {
		t.Errorf("Ancestors(a) in a cycle = %v", got)
	}
	if got := ids(w.Ancestors(w.Step("c"))); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Ancestors(c) = %v", got)
	}
	if got := w.Ancestors(nil); len(got) != 0 {
		t.Errorf("Ancestors(nil) = %v", got)
	}
	if got := w.Ancestors(&Step{ID: "stray", Parent: &Step{ID: "gone"}, DependsOn: []string{"a"}}); len(got) != 0 {
		t.Errorf("Ancestors(stray) = %v", got)
	}
}

func TestDecodeManyCycles(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: dense\nsteps:\n")
	const n = 20
	for i := range n {
		var deps []string
		for j := range n {
			if j != i {
				deps = append(deps, fmt.Sprintf("s%d", j))
			}
		}
		fmt.Fprintf(&b, "  - {id: s%d, type: llm, prompt: x, depends_on: [%s]}\n", i, strings.Join(deps, ", "))
	}
	_, problems := Decode("f", []byte(b.String()), fakeTypes{})
	cycles, more := 0, 0
	for _, p := range problems {
		switch {
		case strings.HasPrefix(p.Message, "dependency cycle: "):
			cycles++
		case p.Message == "more than 100 dependency cycles; the others are not reported":
			more++
		default:
			t.Errorf("unexpected problem %v", p)
		}
	}
	if cycles != maxCycles || more != 1 {
		t.Errorf("got %d cycles and %d notes, want %d and 1", cycles, more, maxCycles)
	}
}
