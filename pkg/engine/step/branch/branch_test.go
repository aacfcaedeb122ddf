package branch_test

import (
	"fmt"
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/branch"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

func TestNestedStepsOrder(t *testing.T) {
	s := func(id string) []*workflow.Step { return []*workflow.Step{{ID: id}} }
	c := &branch.Config{Branches: map[string][]*workflow.Step{"z": s("z1"), "a": s("a1"), "m": s("m1")}, Default: s("d1")}
	for range 10 { // map order must not leak into the result
		var got []string
		for _, l := range c.NestedSteps() {
			got = append(got, l[0].ID)
		}
		if want := "[a1 m1 z1 d1]"; fmt.Sprint(got) != want {
			t.Fatalf("NestedSteps = %v, want %s", got, want)
		}
	}
}
