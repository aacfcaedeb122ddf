package stack

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	numberRE   = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)
	modifierRE = regexp.MustCompile(`^(bool\s+)?((on|ignoring)\s*\([^)]*\)\s*)?((group_left|group_right)\s*(\([^)]*\))?\s*)?`)
)

// signals returns the operands of the top-level comparison and set
// operators of an alert expression (==, !=, >, <, >=, <=, and, or, unless):
// the measured signals without their thresholds. Number literals are
// dropped, and absent(X) becomes X. An alert that is silent must still have
// data behind every signal; otherwise it could never fire.
func signals(expr string) []string {
	var parts []string
	depth, last := 0, 0
	var quote byte
	cut := func(i, n int) {
		parts = append(parts, expr[last:i])
		last = i + n
	}
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case depth > 0:
		case strings.HasPrefix(expr[i:], "==") || strings.HasPrefix(expr[i:], "!=") ||
			strings.HasPrefix(expr[i:], ">=") || strings.HasPrefix(expr[i:], "<="):
			cut(i, 2)
			i++
		case c == '>' || c == '<':
			cut(i, 1)
		default:
			for _, op := range []string{"and", "or", "unless"} {
				if strings.HasPrefix(expr[i:], op) && wordBoundary(expr, i-1) && wordBoundary(expr, i+len(op)) {
					cut(i, len(op))
					i += len(op) - 1
					break
				}
			}
		}
	}
	parts = append(parts, expr[last:])

	var out []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		p = strings.TrimSpace(p[len(modifierRE.FindString(p)):])
		if inner, ok := strings.CutPrefix(p, "absent("); ok && strings.HasSuffix(inner, ")") {
			p = strings.TrimSpace(inner[:len(inner)-1])
		}
		if p != "" && !numberRE.MatchString(p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func wordBoundary(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return true
	}
	c := s[i]
	return !(c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
}

func TestSignals(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`1 - x{job="orchestrator"} > 0.10`, []string{`1 - x{job="orchestrator"}`}},
		{`a{status="failure",x!="y"} / b > 1e-3`, []string{`a{status="failure",x!="y"} / b`}},
		{`a > 3 * b and a > 100`, []string{`a`, `3 * b`}},
		{"sum by (job) (increase(x[6h])) > 0\n  unless sum by (job) (increase(x[15m])) > 0", []string{`sum by (job) (increase(x[6h]))`, `sum by (job) (increase(x[15m]))`}},
		{`max by (job, instance) (g) > 0 unless on (job, instance) sum by (job, instance) (c) > 0`, []string{`max by (job, instance) (g)`, `sum by (job, instance) (c)`}},
		{`up{job="orchestrator"} == 0 or absent(up{job="orchestrator"})`, []string{`up{job="orchestrator"}`}},
		{`a > bool 1`, []string{`a`}},
		{`a / ignoring (type) group_left b >= on (x) group_right (y) c`, []string{`a / ignoring (type) group_left b`, `c`}},
		{`(a or vector(0)) == 0`, []string{`(a or vector(0))`}},
		{`label_replace(x, "dst", "a>b", "src", "(.*)")`, []string{`label_replace(x, "dst", "a>b", "src", "(.*)")`}},
		{`order_total + unless_x`, []string{`order_total + unless_x`}},
	} {
		if got := signals(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("signals(%q)\n got %q\nwant %q", tc.expr, got, tc.want)
		}
	}
}
