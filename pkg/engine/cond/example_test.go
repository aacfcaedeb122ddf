package cond_test

import (
	"fmt"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/cond"
)

func Example() {
	e, err := cond.Compile("steps.classify.label == 'complaint' && inputs.priority > 2")
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Refs())
	ok, err := e.Bool(map[string]any{
		"inputs": map[string]any{"priority": 3},
		"steps":  map[string]any{"classify": map[string]any{"label": "complaint"}},
	})
	fmt.Println(ok, err)
	// A skipped step is absent from the data: the condition is false, not an error.
	ok, err = e.Bool(map[string]any{"inputs": map[string]any{"priority": 3}})
	fmt.Println(ok, err)
	// Output:
	// [inputs.priority steps.classify.label]
	// true <nil>
	// false <nil>
}

func ExampleCompile() {
	_, err := cond.Compile("mode == 'deep'")
	fmt.Println(err)
	// Output:
	// 1:1: unknown name "mode": conditions read inputs.NAME and steps.ID.NAME (bare input names are not supported)
}

func ExampleExpr_Bool_template() {
	e, _ := cond.Compile("{{ steps.review.approved }}")
	ok, err := e.Bool(map[string]any{"steps": map[string]any{"review": map[string]any{"approved": "Yes"}}})
	fmt.Println(ok, err)
	// Output:
	// true <nil>
}

func ExampleExpr_Value() {
	e, _ := cond.Compile("steps.classify.label")
	v, err := e.Value(map[string]any{"steps": map[string]any{"classify": map[string]any{"label": "refund"}}})
	fmt.Println(v, err)
	// Output:
	// refund <nil>
}
