// Package suggest finds the closest known name to a misspelt one, for the
// "did you mean" hints in load-time problems (workflow keys, step types,
// providers, template helpers, expression functions). It is the one
// implementation every parser shares. Pure functions, safe for concurrent use.
package suggest

import "fmt"

// maxLen bounds the names compared, so hostile input costs O(maxLen²) at most.
const maxLen = 64

// Closest returns the candidate nearest to name by optimal-string-alignment
// distance (insertions, deletions, substitutions, adjacent transpositions),
// when that distance is small for name's length: 1 edit for names of up to
// 2 bytes, one more every 3 bytes, at most 3. Ties go to the
// lexically smaller candidate. It returns "" when nothing is close or name
// is itself a candidate.
func Closest(name string, candidates []string) string {
	if len(name) > maxLen {
		return ""
	}
	limit := min(1+len(name)/3, 3)
	best, bestD := "", limit+1
	for _, c := range candidates {
		if c == name {
			return ""
		}
		if len(c) > maxLen || abs(len(c)-len(name)) >= bestD {
			continue // the length difference alone is too many edits
		}
		if d := distance(name, c); d < bestD || d == bestD && best != "" && c < best {
			best, bestD = c, d
		}
	}
	return best
}

// DidYouMean returns ` (did you mean "x"?)` for Closest(name, candidates),
// or "" when nothing is close.
func DidYouMean(name string, candidates []string) string {
	if s := Closest(name, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func abs(n int) int { return max(n, -n) }

// distance is the optimal-string-alignment distance between a and b, by bytes.
func distance(a, b string) int {
	// Three rolling rows: i-2, i-1, i.
	pp := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		pp, prev, cur = prev, cur, pp
	}
	return prev[len(b)]
}
