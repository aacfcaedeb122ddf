package tmpl_test

import (
	"errors"
	"fmt"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
)

func Example() {
	t, err := tmpl.Parse(`Classify this ticket ({{ upper inputs.priority }}): {{ ticket }}
{{#each steps.search.hits}}
- {{ id }} ({{ score }})
{{/each}}`)
	if err != nil {
		panic(err)
	}
	out, err := t.Render(map[string]any{
		"inputs": map[string]any{"ticket": "Refund <please>", "priority": "high"},
		"steps": map[string]any{
			"search": map[string]any{"hits": []any{
				map[string]any{"id": "doc-1", "score": 0.9},
				map[string]any{"id": "doc-2", "score": 0.5},
			}},
		},
	})
	fmt.Print(out, err)
	// Output:
	// Classify this ticket (HIGH): Refund <please>
	// - doc-1 (0.9)
	// - doc-2 (0.5)
	// <nil>
}

func ExampleParse() {
	_, err := tmpl.Parse("Hello\n{{#each items}}{{ uper this }}{{/each}}")
	var se *tmpl.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Line, se.Column, se.Msg)
	}
	// Output:
	// 2 19 unknown helper "uper" (did you mean "upper"?)
}

func ExampleTemplate_Refs() {
	t, _ := tmpl.Parse(`{{ ticket }} {{ steps.classify.label }} {{#each steps.search.hits}}{{ id }} {{ ../lang }}{{/each}}`)
	fmt.Println(t.Refs())
	// Output:
	// [inputs.lang inputs.ticket steps.classify.label steps.search.hits]
}

func ExampleTemplate_Value() {
	t, _ := tmpl.Parse(" {{ steps.embed.vector }} ")
	v, ok := t.Value(map[string]any{
		"steps": map[string]any{"embed": map[string]any{"vector": []float64{0.6, 0.8}}},
	})
	fmt.Printf("%v %v\n", v, ok)
	// Output:
	// [0.6 0.8] true
}

func ExampleTemplate_RenderLimit() {
	t, _ := tmpl.Parse("{{ text }}")
	_, err := t.RenderLimit(map[string]any{"inputs": map[string]any{"text": "far too long"}}, 4)
	fmt.Println(errors.Is(err, tmpl.ErrOutputLimit), err)
	// Output:
	// true output exceeds 4 bytes: template output limit exceeded
}
