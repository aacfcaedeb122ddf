package steptest

import (
	"strings"
	"testing"
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
