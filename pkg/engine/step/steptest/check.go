package steptest

import (
	"strings"
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
)

// CheckProblems compares reported problems with want, in order. A want
// entry ending in "*" matches any problem starting with the text before it
// (for messages owned by another package, such as template syntax errors).
func CheckProblems(t testing.TB, got, want []string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		if p, prefix := strings.CutSuffix(want[i], "*"); prefix {
			ok = strings.HasPrefix(got[i], p)
		} else {
			ok = got[i] == want[i]
		}
	}
	if !ok {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
}

// CheckBuild checks the outcome of Builder.Build: exactly the want
// problems, and an executor if and only if there were none.
func CheckBuild(t testing.TB, b *Builder, e step.Executor, want []string) {
	t.Helper()
	CheckProblems(t, b.Problems, want)
	if (e == nil) != (len(want) > 0) {
		t.Errorf("executor = %v with problems %q", e, b.Problems)
	}
}
