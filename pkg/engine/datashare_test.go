package engine_test

import (
	"context"
	"fmt"
	"testing"
)

// Steps with the same visible steps share one template data map per run:
// each sees exactly its finished ancestors (a skipped one is absent), in
// every run, whichever of them starts first.
func TestSharedTemplateData(t *testing.T) {
	e, _ := newEngine(t, nil)
	p := load(t, e, `name: share
inputs:
  mode: {default: fast}
steps:
  - {id: a, type: fake, value: A}
  - {id: skipped, type: fake, value: S, condition: "inputs.mode == 'deep'"}
  - {id: c1, type: fake, value: c1, template: "{{ steps.a.value }}|{{ steps.skipped.value }}|{{ inputs.mode }}", depends_on: [a, skipped]}
  - {id: c2, type: fake, value: c2, template: "{{ steps.a.value }}|{{ steps.skipped.value }}|{{ inputs.mode }}", depends_on: [skipped, a]}
  - {id: c3, type: fake, value: c3, read: c1, depends_on: [a, skipped]}
  - {id: d, type: fake, value: d, read: c1, depends_on: [c1]}
`)
	for _, mode := range []string{"fast", "deep", "fast"} {
		res := mustRun(t, context.Background(), e, p, map[string]any{"mode": mode})
		want := "A||fast"
		if mode == "deep" {
			want = "A|S|deep"
		}
		for _, id := range []string{"c1", "c2"} {
			if got := fmt.Sprint(res.Steps[id].Output["rendered"]); got != want {
				t.Errorf("mode %s: %s rendered %q, want %q", mode, id, got, want)
			}
		}
		// c3 shares c1's data but c1 is not visible to it; d sees c1.
		if got := res.Steps["c3"].Output["read"]; got != "" {
			t.Errorf("mode %s: c3 read %q of c1, want nothing (not an ancestor)", mode, got)
		}
		if got := res.Steps["d"].Output["read"]; got != "c1" {
			t.Errorf("mode %s: d read %q of c1, want c1", mode, got)
		}
	}
}
