package stack

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestPromtool(t *testing.T) {
	promtool := requireBinary(t, "promtool", "apt-get install prometheus")
	rules := glob(t, "prometheus", "rules", "*.yml")
	tests := glob(t, "prometheus", "tests", "*.yml")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"check config", []string{"check", "config", "prometheus/prometheus.yml"}},
		{"check rules", append([]string{"check", "rules"}, rules...)},
		{"test rules", append([]string{"test", "rules"}, tests...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, root(t), promtool, tc.args...)
			if err != nil {
				t.Fatalf("promtool %s: %v\n%s", strings.Join(tc.args, " "), err, out)
			}
		})
	}
}

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string
		Rules []rule
	}
}

type rule struct {
	Record, Alert, Expr, For string
	Labels, Annotations      map[string]string
}

// loadRules returns every rule of prometheus/rules/*.yml.
func loadRules(t *testing.T) (recording, alerts []rule) {
	t.Helper()
	for _, f := range glob(t, "prometheus", "rules", "*.yml") {
		var rf ruleFile
		readYAML(t, path(t, f), &rf)
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					alerts = append(alerts, r)
				} else {
					recording = append(recording, r)
				}
			}
		}
	}
	return recording, alerts
}

// TestAlertRules checks the contract of every alert: the set the issue
// lists, a severity, summary/description/runbook_url annotations, a runbook
// section, and unit tests that see it fire and stay silent.
func TestAlertRules(t *testing.T) {
	recording, alerts := loadRules(t)
	var names []string
	for _, a := range alerts {
		names = append(names, a.Alert)
	}
	want := []string{
		"OrchestratorWorkflowFailureRatioHigh",  // high workflow failure ratio
		"OrchestratorLLMProviderErrorRatioHigh", // LLM provider error ratio by provider
		"OrchestratorLLMLatencyHigh",            // LLM p95 latency above an SLO
		"OrchestratorLLMRateLimited",            // provider rate limiting
		"OrchestratorTokenRateSpike",            // token-rate spike
		"OrchestratorNoWorkflowsCompleted",      // no workflows completed while traffic is expected
		"OrchestratorActiveWorkflowsStuck",      // active workflows stuck
		"OrchestratorDown",                      // the orchestrator down or absent
		// Issue 7.
		"OrchestratorLLMTimeToFirstTokenHigh", // TTFT p95 above its SLO
		"OrchestratorLLMCostBurnRateHigh",     // USD per hour above a threshold
		"OrchestratorLabelOverflow",           // workflow_name or model folded into _other
		"OrchestratorRunsRejected",            // overload rejections (429)
	}
	for _, w := range want {
		if !slices.Contains(names, w) {
			t.Errorf("missing alert %s", w)
		}
	}

	runbooks, err := os.ReadFile(path(t, "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := markdownAnchors(string(runbooks))
	fires, silent := alertTests(t)
	for _, a := range alerts {
		t.Run(a.Alert, func(t *testing.T) {
			if !slices.Contains([]string{"critical", "warning", "info"}, a.Labels["severity"]) {
				t.Errorf("severity %q: want critical, warning or info", a.Labels["severity"])
			}
			for _, k := range []string{"summary", "description", "runbook_url"} {
				if a.Annotations[k] == "" {
					t.Errorf("no %s annotation", k)
				}
			}
			const base = "https://github.com/orchestrator-dev/orchestrator/blob/main/docs/runbooks.md#"
			anchor, ok := strings.CutPrefix(a.Annotations["runbook_url"], base)
			if !ok || anchor != strings.ToLower(a.Alert) {
				t.Errorf("runbook_url %q: want %s%s", a.Annotations["runbook_url"], base, strings.ToLower(a.Alert))
			} else if !anchors[anchor] {
				t.Errorf("docs/runbooks.md has no section %q", a.Alert)
			}
			if fires[a.Alert] == 0 {
				t.Error("no promtool test in prometheus/tests sees it fire")
			}
			if silent[a.Alert] == 0 {
				t.Error("no promtool test in prometheus/tests sees it stay silent")
			}
		})
	}

	// Every recording rule is checked by value too.
	tested := promqlTests(t)
	for _, r := range recording {
		if !slices.ContainsFunc(tested, func(expr string) bool { return strings.Contains(expr, r.Record) }) {
			t.Errorf("recording rule %s has no promql_expr_test", r.Record)
		}
	}
}

type ruleTestFile struct {
	Tests []struct {
		AlertRuleTest []struct {
			Alertname string
			ExpAlerts []map[string]any `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
		PromqlExprTest []struct {
			Expr string
		} `yaml:"promql_expr_test"`
	}
}

// alertTests counts, per alert, the promtool evaluations expecting it to
// fire and expecting silence.
func alertTests(t *testing.T) (fires, silent map[string]int) {
	fires, silent = map[string]int{}, map[string]int{}
	for _, f := range glob(t, "prometheus", "tests", "*.yml") {
		var tf ruleTestFile
		readYAML(t, path(t, f), &tf)
		for _, tc := range tf.Tests {
			for _, at := range tc.AlertRuleTest {
				if len(at.ExpAlerts) > 0 {
					fires[at.Alertname]++
				} else {
					silent[at.Alertname]++
				}
			}
		}
	}
	return fires, silent
}

func promqlTests(t *testing.T) []string {
	var exprs []string
	for _, f := range glob(t, "prometheus", "tests", "*.yml") {
		var tf ruleTestFile
		readYAML(t, path(t, f), &tf)
		for _, tc := range tf.Tests {
			for _, pt := range tc.PromqlExprTest {
				exprs = append(exprs, pt.Expr)
			}
		}
	}
	return exprs
}

var headingRE = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*$`)

// markdownAnchors returns the GitHub anchors of the headings in md.
func markdownAnchors(md string) map[string]bool {
	anchors := map[string]bool{}
	for _, m := range headingRE.FindAllStringSubmatch(md, -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		anchors[b.String()] = true
	}
	return anchors
}

// glob returns the files matching the pattern, relative to the repository
// root, and fails when there are none.
func glob(t *testing.T, elem ...string) []string {
	t.Helper()
	matches, err := filepath.Glob(path(t, elem...))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no files match %s: %v", filepath.Join(elem...), err)
	}
	for i, m := range matches {
		matches[i], _ = filepath.Rel(root(t), m)
	}
	return matches
}
