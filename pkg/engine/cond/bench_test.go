package cond_test

import (
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/cond"
)

// BenchmarkBool evaluates a typical step condition.
func BenchmarkBool(b *testing.B) {
	e, err := cond.Compile("steps.classify.label == 'complaint' && inputs.priority > 2")
	if err != nil {
		b.Fatal(err)
	}
	data := testData(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Bool(data); err != nil {
			b.Fatal(err)
		}
	}
}
