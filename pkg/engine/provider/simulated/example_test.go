package simulated_test

import (
	"context"
	"fmt"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/simulated"
)

func Example() {
	p, err := simulated.New(provider.Config{Name: "simulated", Kind: "simulated"})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	resp, err := p.Chat(ctx, provider.ChatRequest{
		Model:  "sim-fast",
		Prompt: "Classify this ticket: my parcel never arrived",
		Extra:  map[string]any{"choices": []any{"complaint", "question", "praise"}},
	})
	if err != nil {
		panic(err)
	}
	// The choice is picked by a hash of the request, not by its meaning.
	fmt.Println(resp.Text, resp.FinishReason, resp.Usage.InputTokens, resp.Usage.OutputTokens)

	// sim-flaky fails its first call, then 30% of calls, evenly spread.
	for range 3 {
		_, err := p.Chat(ctx, provider.ChatRequest{Model: "sim-flaky", Prompt: "hi", Extra: map[string]any{"latency_ms": 0}})
		fmt.Println(err)
	}
	// Output:
	// praise stop 9 1
	// provider_error (http 500): simulated failure of sim-flaky (call 0)
	// <nil>
	// <nil>
}
