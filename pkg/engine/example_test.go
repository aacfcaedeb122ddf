package engine_test

import (
	"context"
	"fmt"
	"log"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
)

func Example() {
	e, err := engine.New(engine.WithLogger(quiet()))
	if err != nil {
		log.Fatal(err)
	}
	plan, err := e.Load("greet.yaml", []byte(`
name: greet
inputs:
  who: {required: true}
steps:
  - id: greeting
    type: transform
    function: template
    template: "Hello, {{ who }}!"
    output: [message]
  - id: shout
    type: transform
    function: template
    template: "{{ steps.greeting.message }} (said twice) {{ steps.greeting.message }}"
    depends_on: [greeting]
`))
	if err != nil {
		log.Fatal(err) // workflow.Problems: every problem, one per line
	}
	res, err := e.Run(context.Background(), plan, map[string]any{"who": "world"})
	if err != nil {
		log.Fatal(err) // only for invalid inputs
	}
	fmt.Println(res.Status, res.Steps["greeting"].Attempts)
	fmt.Println(res.Outputs["shout"].(map[string]any)["result"])
	// Output:
	// success 1
	// Hello, world! (said twice) Hello, world!
}
