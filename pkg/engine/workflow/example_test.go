package workflow

import "fmt"

func ExampleDecode() {
	src := `name: triage
steps:
  - id: classify
    type: llm
    promt: "Classify {{ ticket }}"
  - id: answer
    type: llm
    prompt: "Answer"
    depends_on: [clasify]
    retry: {backoff: exponentail}
`
	w, problems := Decode("triage.yaml", []byte(src), fakeTypes{})
	for _, p := range problems {
		fmt.Println(p)
	}
	fmt.Println(len(w.Steps), "steps decoded")
	// Output:
	// triage.yaml:3:5: step "classify": missing required key "prompt" (is "promt" a typo?)
	// triage.yaml:9:18: step "answer": depends_on "clasify": no such step (did you mean "classify"?)
	// triage.yaml:10:22: step "answer": "retry.backoff" must be one of constant, exponential, linear, got "exponentail" (did you mean "exponential"?)
	// 2 steps decoded
}
