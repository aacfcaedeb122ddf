package builtin_test

import (
	"fmt"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/builtin"
)

func ExampleParse() {
	file := []byte(`
providers:
  - name: ollama
    kind: openai
    base_url: http://localhost:11434/v1
`)
	getenv := func(string) string { return "" } // os.Getenv in production
	cfgs, err := builtin.Parse("providers.yaml", file, getenv)
	if err != nil {
		panic(err)
	}
	set, err := builtin.Registry().NewSet(cfgs)
	if err != nil {
		panic(err)
	}
	for _, name := range set.Names() {
		e, _ := set.Lookup(name)
		fmt.Printf("%s (%s) %s usable=%v %v\n", e.Name, e.Kind, e.BaseURL, e.Err == nil, e.Err)
	}
	// Output:
	// anthropic (anthropic) https://api.anthropic.com usable=false provider "anthropic": ANTHROPIC_API_KEY is not set
	// ollama (openai) http://localhost:11434/v1 usable=true <nil>
	// openai (openai) https://api.openai.com/v1 usable=false provider "openai": OPENAI_API_KEY is not set
	// simulated (simulated)  usable=true <nil>
}
