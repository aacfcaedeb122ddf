package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// nine are the metric families of issue 3; the collector must re-export
// each of them exactly.
var nine = []string{
	"orchestrator_workflow_executions_total", "orchestrator_workflow_duration_seconds",
	"orchestrator_active_workflows", "orchestrator_llm_requests_total", "orchestrator_llm_tokens_total",
	"orchestrator_llm_request_duration_seconds", "orchestrator_step_executions_total",
	"orchestrator_step_duration_seconds", "orchestrator_errors_total",
}

// beyond are the metric families of issue 7 (beyond the nine, GenAI
// semantic conventions included); the demo traffic makes each of them
// appear, and the collector must re-export each exactly too.
var beyond = []string{
	"orchestrator_llm_time_to_first_token_seconds", "orchestrator_llm_cost_usd_total", "orchestrator_workflow_cost_usd_total",
	"orchestrator_step_retries_total", "orchestrator_step_backoff_seconds", "orchestrator_llm_rate_limit_wait_seconds",
	"orchestrator_run_queue_depth", "orchestrator_run_queue_wait_seconds", "orchestrator_label_overflow_total",
	"orchestrator_run_rejections_total", "gen_ai_client_operation_duration_seconds", "gen_ai_client_token_usage",
	"gen_ai_client_operation_time_to_first_chunk_seconds",
}

// TestStack runs the stack of compose.yaml with real binaries on loopback:
// the collector distribution on otel-collector/config.yaml, `orchestrator
// serve` pushing OTLP to it, Debian's prometheus on prometheus/prometheus.yml
// (targets and intervals rewritten) scraping both, and `orchestrator demo`
// traffic. Then:
//   - every PromQL expression of every dashboard, every variable, and every
//     rule returns data from that Prometheus;
//   - once the traffic has stopped, the collector's Prometheus exporter shows
//     exactly the orchestrator_* and gen_ai_* series of the direct /metrics
//     (names, labels, values), apart from job and instance.
func TestStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the collector, the orchestrator and prometheus")
	}
	colBin := collectorBin(t)
	orchBin := buildOrchestrator(t)
	promBin, promErr := exec.LookPath("prometheus")
	if promErr != nil && os.Getenv("CI") != "" {
		t.Fatalf("prometheus not found (apt-get install prometheus); required in CI: %v", promErr)
	}

	// The collector, every port on loopback.
	grpcAddr, httpAddr, exporterAddr, healthAddr, telemetryAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	collector := start(t, "otelcol", colBin, cleanEnv(
		"OTELCOL_OTLP_GRPC_ENDPOINT="+grpcAddr,
		"OTELCOL_OTLP_HTTP_ENDPOINT="+httpAddr,
		"OTELCOL_PROMETHEUS_ENDPOINT="+exporterAddr,
		"OTELCOL_HEALTH_ENDPOINT="+healthAddr,
		"OTELCOL_TELEMETRY_HOST=127.0.0.1",
		"OTELCOL_TELEMETRY_PORT="+port(telemetryAddr),
	), "--config=otel-collector/config.yaml")
	waitUp(t, collector, "http://"+healthAddr+"/", time.Minute)

	// The orchestrator, pushing OTLP every 500 ms.
	orchAddr := freeAddr(t)
	orch := start(t, "orchestrator serve", orchBin, cleanEnv(
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+grpcAddr,
		"OTEL_METRIC_EXPORT_INTERVAL=500",
		"OTEL_SERVICE_NAME=orchestrator",
	), "serve", "--addr", orchAddr, "--workflows", "examples", "--max-workflow-names", "0")
	orchURL := "http://" + orchAddr
	waitUp(t, orch, orchURL+"/health/live", time.Minute)

	var promURL string
	if promErr == nil {
		promAddr := freeAddr(t)
		dir := t.TempDir()
		cfg := promConfig(t, dir, map[string]string{
			"otel-collector": exporterAddr,
			"orchestrator":   orchAddr,
			"otelcol":        telemetryAddr,
			"prometheus":     promAddr,
		})
		prom := start(t, "prometheus", promBin, cleanEnv(),
			"--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+promAddr, "--log.level=warn")
		promURL = "http://" + promAddr
		waitUp(t, prom, promURL+"/-/ready", time.Minute)
	}

	// Traffic: the demo mix for 20 s, plus one run of each provider failure
	// mode so that every series exists whatever the mix draws, and one
	// inline workflow, whose name overflows --max-workflow-names 0.
	demo := start(t, "orchestrator demo", orchBin, cleanEnv(),
		"demo", "--target", orchURL, "--rate", "10", "--duration", "20s", "--concurrency", "8", "--seed", "7")
	var wg sync.WaitGroup
	for _, scenario := range []string{"fast", "slow", "flaky", "ratelimit", "broken"} {
		wg.Go(func() {
			status, err := postRun(t.Context(), orchURL, "resilience", map[string]any{"scenario": scenario})
			if err != nil {
				t.Errorf("resilience/%s: %v", scenario, err)
			} else if scenario == "broken" && status != "failure" || scenario == "fast" && status != "success" {
				t.Errorf("resilience/%s: status %q", scenario, status)
			}
		})
	}
	wg.Go(func() {
		inline := "name: inline-demo\nsteps:\n  - id: a\n    type: llm\n    provider: simulated\n    model: sim-fast\n    prompt: hi\n"
		if status, err := post(t.Context(), orchURL+"/v1/runs", map[string]any{"workflow": inline}); err != nil || status != "success" {
			t.Errorf("inline run: %q %v", status, err)
		}
	})
	wg.Wait()

	t.Run("every dashboard and rule query returns data", func(t *testing.T) {
		if promURL == "" {
			t.Skipf("prometheus not found (%v); skipped because $CI is unset", promErr)
		}
		checks := promChecks(t)
		err := eventually(t.Context(), 90*time.Second, 2*time.Second, func(ctx context.Context) error {
			var failed []string
			for _, c := range checks {
				if err := c.run(ctx, promURL); err != nil {
					failed = append(failed, fmt.Sprintf("%s:\n    %v", c.name, err))
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d checks without data:\n  %s", len(failed), len(checks), strings.Join(failed, "\n  "))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d queries returned data", len(checks))
	})

	if err := demo.wait(90 * time.Second); err != nil {
		t.Fatalf("demo: %v\n%s", err, demo.out.tail(4096))
	}

	t.Run("the collector re-exports the direct /metrics exactly", func(t *testing.T) {
		var direct, viaCollector map[string]string
		err := eventually(t.Context(), 30*time.Second, 500*time.Millisecond, func(ctx context.Context) error {
			var err error
			if direct, err = scrape(ctx, orchURL+"/metrics"); err != nil {
				return err
			}
			if viaCollector, err = scrape(ctx, "http://"+exporterAddr+"/metrics", "job", "instance"); err != nil {
				return err
			}
			if d := diff(direct, viaCollector); d != "" {
				return errors.New(d)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("collector exporter vs direct /metrics (- direct, + collector):\n%v", err)
		}
		for _, name := range append(slices.Clone(nine), beyond...) {
			if !slices.ContainsFunc(slices.Collect(maps.Keys(direct)), func(k string) bool { return strings.HasPrefix(k, name) }) {
				t.Errorf("%s is missing from /metrics after the traffic", name)
			}
		}
		for series, want := range map[string]string{
			`orchestrator_label_overflow_total{label="workflow_name"}`:                        "1",
			`orchestrator_workflow_executions_total{status="success",workflow_name="_other"}`: "1",
			`orchestrator_run_queue_depth`:                                                    "0",
		} {
			if got := direct[series]; got != want {
				t.Errorf("%s = %q, want %q", series, got, want)
			}
		}
		if v := direct["orchestrator_active_workflows"]; v != "0" {
			t.Errorf("orchestrator_active_workflows = %q after all runs ended, want 0", v)
		}
		t.Logf("%d identical series", len(direct))
	})
}

// buildOrchestrator builds ./cmd/orchestrator into a temporary directory,
// or returns $ORCHESTRATOR_BIN when set (a prebuilt binary, e.g. bin/orchestrator).
func buildOrchestrator(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("ORCHESTRATOR_BIN"); bin != "" {
		return requireBinary(t, bin, "$ORCHESTRATOR_BIN")
	}
	if _, err := os.Stat(path(t, "cmd", "orchestrator", "main.go")); err != nil {
		requireBinary(t, path(t, "cmd", "orchestrator", "main.go"), "the orchestrator command is not written yet")
	}
	goBin := requireBinary(t, "go", "the Go toolchain")
	bin := filepath.Join(t.TempDir(), "orchestrator")
	if out, err := run(t, root(t), goBin, "build", "-o", bin, "./cmd/orchestrator"); err != nil {
		t.Fatalf("go build ./cmd/orchestrator: %v\n%s", err, out)
	}
	return bin
}

// promConfig writes prometheus/prometheus.yml with 1 s intervals, each job's
// targets replaced by targets[job], and the rule files by absolute paths.
func promConfig(t *testing.T, dir string, targets map[string]string) string {
	t.Helper()
	var cfg map[string]any
	readYAML(t, path(t, "prometheus", "prometheus.yml"), &cfg)
	cfg["global"] = map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"}
	cfg["rule_files"] = []any{path(t, "prometheus", "rules", "*.yml")}
	jobs, _ := cfg["scrape_configs"].([]any)
	for _, j := range jobs {
		sc := j.(map[string]any)
		name, _ := sc["job_name"].(string)
		target, ok := targets[name]
		if !ok {
			t.Fatalf("prometheus.yml scrapes job %q, which this test does not run", name)
		}
		sc["static_configs"] = []any{map[string]any{"targets": []any{target}}}
		delete(targets, name)
	}
	if len(targets) > 0 {
		t.Fatalf("prometheus.yml has no job for %v", slices.Collect(maps.Keys(targets)))
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// postRun runs a preloaded workflow synchronously and returns its status.
func postRun(ctx context.Context, base, workflow string, inputs map[string]any) (string, error) {
	return post(ctx, base+"/v1/workflows/"+workflow+"/runs", map[string]any{"inputs": inputs})
}

// post sends a synchronous run request and returns the run's status.
func post(ctx context.Context, target string, reqBody map[string]any) (string, error) {
	body, _ := json.Marshal(reqBody)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var res struct{ Status string }
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST %s: %s (%v)", target, resp.Status, err)
	}
	return res.Status, nil
}

// scrape returns the orchestrator_* and gen_ai_* samples of a text
// exposition as series -> value, without the dropped labels. (http_server_*
// is left out: scraping /metrics changes it.)
func scrape(ctx context.Context, url string, drop ...string) (map[string]string, error) {
	body, err := get(ctx, url, "Accept", "text/plain;version=0.0.4")
	if err != nil {
		return nil, err
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", url, err)
	}
	out := map[string]string{}
	for name, mf := range families {
		if !strings.HasPrefix(name, "orchestrator_") && !strings.HasPrefix(name, "gen_ai_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				if !slices.Contains(drop, lp.GetName()) {
					labels[lp.GetName()] = lp.GetValue()
				}
			}
			add := func(suffix string, v float64, extra ...string) {
				l := maps.Clone(labels)
				for i := 0; i+1 < len(extra); i += 2 {
					l[extra[i]] = extra[i+1]
				}
				out[series(name+suffix, l)] = strconv.FormatFloat(v, 'g', -1, 64)
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add("", m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add("", m.GetGauge().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					add("_bucket", float64(b.GetCumulativeCount()), "le", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))
				}
				add("_sum", h.GetSampleSum())
				add("_count", float64(h.GetSampleCount()))
			default:
				return nil, fmt.Errorf("%s: %s has unexpected type %s", url, name, mf.GetType())
			}
		}
	}
	return out, nil
}

func series(name string, labels map[string]string) string {
	keys := slices.Sorted(maps.Keys(labels))
	var b strings.Builder
	b.WriteString(name)
	if len(keys) > 0 {
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%q", k, labels[k])
		}
		b.WriteByte('}')
	}
	return b.String()
}

// sameFloat reports whether two sample values are the same number up to
// float64 rounding. Counts must match exactly; sums of float histograms may
// differ in the last bits, because the collector re-aggregates the OTLP
// points it receives (8.671584477 vs 8.671584476999998 was seen).
func sameFloat(a, b string) bool {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA != nil || errB != nil {
		return false
	}
	if x == y {
		return true
	}
	return math.Abs(x-y) <= 1e-12*math.Max(math.Abs(x), math.Abs(y))
}

// diff lists the series whose values differ (at most 30), "" if none.
func diff(want, got map[string]string) string {
	keys := slices.Sorted(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var lines []string
	for _, k := range keys {
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case inWant && !inGot:
			lines = append(lines, "- "+k+" "+w)
		case !inWant && inGot:
			lines = append(lines, "+ "+k+" "+g)
		case w != g && !sameFloat(w, g):
			lines = append(lines, "- "+k+" "+w, "+ "+k+" "+g)
		}
	}
	if len(want) == 0 {
		lines = append(lines, "(no orchestrator_* series on /metrics)")
	}
	if len(lines) > 30 {
		lines = append(lines[:30], fmt.Sprintf("... and %d more lines", len(lines)-30))
	}
	return strings.Join(lines, "\n")
}

// promCheck is one query that must return data.
type promCheck struct {
	name string
	run  func(ctx context.Context, promURL string) error
}

// rangeVars replaces Grafana's interval variables.
var rangeVars = strings.NewReplacer("$__rate_interval", "1m", "$__range", "5m", "$__interval", "15s")

// promChecks lists every query of the dashboards (panels and variables, for
// both sources of the job variable) and of the rules.
func promChecks(t *testing.T) []promCheck {
	t.Helper()
	var checks []promCheck
	for _, file := range glob(t, "grafana", "dashboards", "*.json") {
		exprs, variables := dashboardQueries(t, path(t, file))
		for _, job := range []string{"otel-collector", "orchestrator"} {
			subst := func(s string) string {
				s = strings.NewReplacer("$job", job, "$workflow_name", ".*", "$provider", ".*", "$model", ".*").Replace(rangeVars.Replace(s))
				if strings.Contains(s, "$") {
					t.Fatalf("%s: unsubstituted variable in %q", file, s)
				}
				return s
			}
			for _, e := range exprs {
				checks = append(checks, instantCheck(fmt.Sprintf("%s [job=%s] %s", filepath.Base(file), job, e), subst(e)))
			}
			for _, v := range variables {
				checks = append(checks, labelValuesCheck(t, fmt.Sprintf("%s [job=%s] variable %s", filepath.Base(file), job, v), subst(v)))
			}
		}
	}
	recording, alerts := loadRules(t)
	for _, r := range recording {
		checks = append(checks, instantCheck("rule "+r.Record, r.Expr), instantCheck("recorded "+r.Record, r.Record))
	}
	for _, a := range alerts {
		checks = append(checks, alertCheck(a))
	}
	return checks
}

// dashboardQueries returns every "expr" of a dashboard (panels, nested row
// panels, annotations) and every variable query.
func dashboardQueries(t *testing.T, file string) (exprs, variables []string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if e, ok := v["expr"].(string); ok && !slices.Contains(exprs, e) {
				exprs = append(exprs, e)
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	d := doc.(map[string]any)
	list, _ := d["templating"].(map[string]any)["list"].([]any)
	for _, v := range list {
		if def, _ := v.(map[string]any)["definition"].(string); def != "" {
			variables = append(variables, def)
		}
	}
	if len(exprs) == 0 {
		t.Fatalf("%s has no queries", file)
	}
	return exprs, variables
}

func instantCheck(name, expr string) promCheck {
	return promCheck{name: name, run: func(ctx context.Context, promURL string) error {
		n, err := query(ctx, promURL, expr)
		if err == nil && n == 0 {
			err = errors.New("no series")
		}
		return err
	}}
}

// alertCheck passes when the alert expression returns data (the condition
// holds) or, when it is silent, every signal it compares returns data.
func alertCheck(a rule) promCheck {
	return promCheck{name: "alert " + a.Alert, run: func(ctx context.Context, promURL string) error {
		n, err := query(ctx, promURL, a.Expr)
		if err != nil || n > 0 {
			return err
		}
		var errs []error
		for _, s := range signals(a.Expr) {
			if n, err := query(ctx, promURL, s); err != nil {
				errs = append(errs, err)
			} else if n == 0 {
				errs = append(errs, fmt.Errorf("silent, and its signal %q has no data", s))
			}
		}
		return errors.Join(errs...)
	}}
}

var labelValuesRE = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// labelValuesCheck runs a Grafana label_values(selector, label) variable
// query the way Grafana does, through the label values API.
func labelValuesCheck(t *testing.T, name, def string) promCheck {
	m := labelValuesRE.FindStringSubmatch(def)
	if m == nil {
		t.Fatalf("%s: unsupported variable query %q", name, def)
	}
	return promCheck{name: name, run: func(ctx context.Context, promURL string) error {
		body, err := get(ctx, promURL+"/api/v1/label/"+m[2]+"/values?"+url.Values{"match[]": {m[1]}}.Encode())
		if err != nil {
			return err
		}
		var res struct{ Data []string }
		if err := json.Unmarshal(body, &res); err != nil {
			return err
		}
		if len(res.Data) == 0 {
			return errors.New("no values")
		}
		return nil
	}}
}

// query runs an instant query and returns the number of series (1 for a
// scalar).
func query(ctx context.Context, promURL, expr string) (int, error) {
	body, err := get(ctx, promURL+"/api/v1/query?"+url.Values{"query": {expr}}.Encode())
	if err != nil {
		return 0, err
	}
	var res struct {
		Status string
		Error  string
		Data   struct {
			ResultType string
			Result     json.RawMessage
		}
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return 0, err
	}
	if res.Status != "success" {
		return 0, fmt.Errorf("query %q: %s", expr, res.Error)
	}
	if res.Data.ResultType == "scalar" || res.Data.ResultType == "string" {
		return 1, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(res.Data.Result, &items); err != nil {
		return 0, err
	}
	return len(items), nil
}
