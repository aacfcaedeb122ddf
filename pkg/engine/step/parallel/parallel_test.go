package parallel_test

import (
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/parallel"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

func TestConfig(t *testing.T) {
	tasks := []*workflow.Step{{ID: "a"}, {ID: "b"}}
	c := &parallel.Config{Tasks: tasks, MaxConcurrency: 3}
	if l := c.NestedSteps(); len(l) != 1 || len(l[0]) != 2 || c.ConcurrencyLimit() != 3 {
		t.Errorf("NestedSteps %v, limit %d", l, c.ConcurrencyLimit())
	}
	if parallel.Spec().Type != "parallel" {
		t.Error("wrong type")
	}
}
