package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/app"
)

func demoCmd(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet(env, "demo", "")
	o := DemoOptions{}
	fs.StringVar(&o.Target, "target", "http://127.0.0.1:8080", "base `URL` of an orchestrator serving the examples (--workflows examples)")
	fs.Float64Var(&o.Rate, "rate", 5, "runs started per second")
	fs.DurationVar(&o.Duration, "duration", 0, "stop after this long (0: until interrupted)")
	fs.IntVar(&o.Concurrency, "concurrency", 16, "runs in flight at most; ticks past it are skipped and counted")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the traffic mix (the same seed sends the same sequence)")
	tokenFile := fs.String("auth-token-file", "", "send the bearer token in this `file`")
	fs.DurationVar(&o.WaitReady, "wait", 60*time.Second, "wait this long for the target to serve the workflows")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(env.Stderr, "orchestrator demo: unexpected arguments %q\n", pos)
		return ExitUsage
	}
	token, err := app.ReadTokenFile(*tokenFile)
	if err != nil {
		fmt.Fprintf(env.Stderr, "orchestrator demo: %v\n", err)
		return ExitUsage
	}
	o.Token = token
	if o.Rate <= 0 || o.Concurrency < 1 || o.Duration < 0 {
		fmt.Fprintln(env.Stderr, "orchestrator demo: want --rate > 0, --concurrency >= 1 and --duration >= 0")
		return ExitUsage
	}
	sum, err := Demo(ctx, o, env.Stderr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "orchestrator demo: %v\n", err)
		return ExitFailed
	}
	sum.Print(env.Stdout)
	return ExitOK
}

// DemoOptions configures Demo.
type DemoOptions struct {
	Target      string        // base URL of the server
	Rate        float64       // runs started per second (> 0)
	Duration    time.Duration // 0: until ctx ends
	Concurrency int           // runs in flight at most (>= 1)
	Seed        uint64        // seed of the mix
	Token       string        // bearer token, "" for none
	WaitReady   time.Duration // how long to wait for the target's workflows
	Client      *http.Client  // nil: a client with a 2 minute timeout
}

// demoRun is one request of the mix.
type demoRun struct {
	workflow string
	label    string // workflow plus the scenario, for the summary
	inputs   map[string]any
}

// mixEntry is a weighted generator of runs.
type mixEntry struct {
	weight   int
	workflow string
	gen      func(r *rand.Rand) demoRun
}

var (
	tickets = []string{
		"I was charged twice for my March invoice. Please refund one of the payments.",
		"The export button crashes the dashboard every time I click it on Firefox.",
		"Your support agent closed my ticket without answering. This is unacceptable.",
		"How do I add a second admin to our workspace?",
		"Since this morning the API returns 502 for every request from our EU region.",
	}
	questions = []string{
		"How do I rotate an API key without downtime?",
		"What are the rate limits of the API?",
		"How do I export my data?",
		"How does single sign-on work?",
		"How do I delete my account?",
	}
	topics = []string{
		"how OpenTelemetry metrics travel from an application to a dashboard",
		"choosing histogram buckets for latency SLOs",
		"why retries need jitter",
	}
	texts = []string{
		"Prometheus scrapes metrics over HTTP at a fixed interval and stores them as time series, which alerting rules then evaluate continuously.",
		"The collector receives telemetry over OTLP, batches it, limits its memory use and exports it to one or more backends.",
		"Exponential backoff spreads retries out over time so that a struggling service gets room to recover instead of a thundering herd.",
	}
)

// demoMix is the traffic mix: mostly healthy workflows, plus slow,
// flaky, rate-limited and broken provider calls so that every panel and
// some alerts show life.
func demoMix() []mixEntry {
	scenario := func(s string) func(r *rand.Rand) demoRun {
		return func(r *rand.Rand) demoRun {
			return demoRun{workflow: "resilience", label: "resilience/" + s, inputs: map[string]any{"scenario": s}}
		}
	}
	return []mixEntry{
		{30, "triage", func(r *rand.Rand) demoRun {
			tier := "standard"
			if r.IntN(10) < 3 {
				tier = "enterprise"
			}
			return demoRun{workflow: "triage", label: "triage/" + tier, inputs: map[string]any{
				"ticket": pick(r, tickets), "customer_tier": tier, "priority": 1 + r.IntN(4),
			}}
		}},
		{20, "rag", func(r *rand.Rand) demoRun {
			return demoRun{workflow: "rag", label: "rag", inputs: map[string]any{"question": pick(r, questions)}}
		}},
		{12, "summarize", func(r *rand.Rand) demoRun {
			return demoRun{workflow: "summarize", label: "summarize", inputs: map[string]any{"text": pick(r, texts)}}
		}},
		{10, "streaming", func(r *rand.Rand) demoRun {
			return demoRun{workflow: "streaming", label: "streaming", inputs: map[string]any{"topic": pick(r, topics)}}
		}},
		{7, "resilience", scenario("slow")},
		{9, "resilience", scenario("flaky")},
		{7, "resilience", scenario("ratelimit")},
		{4, "resilience", scenario("broken")},
		{1, "resilience", scenario("fast")},
	}
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// Demo sends the demo mix to o.Target through POST
// /v1/workflows/{name}/runs at o.Rate runs per second, at most
// o.Concurrency at once, until o.Duration passes or ctx ends, and returns
// what happened. Only workflows the target serves are sent. Progress lines
// go to progress every 10 s. Runs in flight when the duration ends are
// awaited; when ctx ends they are cancelled.
func Demo(ctx context.Context, o DemoOptions, progress io.Writer) (*DemoSummary, error) {
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute}
	}
	base := strings.TrimSuffix(o.Target, "/")
	served, err := waitForWorkflows(ctx, client, base, o.Token, o.WaitReady)
	if err != nil {
		return nil, err
	}
	var mix []mixEntry
	total := 0
	for _, m := range demoMix() {
		if served[m.workflow] {
			mix = append(mix, m)
			total += m.weight
		}
	}
	if len(mix) == 0 {
		return nil, fmt.Errorf("%s serves none of the example workflows (start it with --workflows examples)", base)
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	next := func() demoRun {
		n := rng.IntN(total)
		for _, m := range mix {
			if n < m.weight {
				return m.gen(rng)
			}
			n -= m.weight
		}
		panic("unreachable")
	}

	sum := newDemoSummary()
	sendCtx, cancelSends := context.WithCancel(ctx)
	defer cancelSends()
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, o.Concurrency)
	tick := time.NewTicker(time.Duration(float64(time.Second) / o.Rate))
	defer tick.Stop()
	report := time.NewTicker(10 * time.Second)
	defer report.Stop()
	var stop <-chan time.Time
	if o.Duration > 0 {
		t := time.NewTimer(o.Duration)
		defer t.Stop()
		stop = t.C
	}
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			cancelSends()
			wg.Wait()
			sum.Elapsed = time.Since(start)
			return sum, nil
		case <-stop:
			wg.Wait()
			sum.Elapsed = time.Since(start)
			return sum, nil
		case <-report.C:
			fmt.Fprintf(progress, "demo: %s\n", sum.line(time.Since(start)))
		case <-tick.C:
			select {
			case sem <- struct{}{}:
			default:
				sum.skip()
				continue
			}
			run := next()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				t0 := time.Now()
				outcome := send(sendCtx, client, base, o.Token, run)
				sum.add(run.label, outcome, time.Since(t0))
			}()
		}
	}
}

// waitForWorkflows polls GET /v1/workflows until it answers or wait passes.
func waitForWorkflows(ctx context.Context, client *http.Client, base, token string, wait time.Duration) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, max(wait, time.Second))
	defer cancel()
	for {
		served, err := listWorkflows(ctx, client, base, token)
		if err == nil {
			return served, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("target not ready: %w", err)
		case <-time.After(time.Second):
		}
	}
}

func listWorkflows(ctx context.Context, client *http.Client, base, token string) (map[string]bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/workflows", nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /v1/workflows: %s", resp.Status)
	}
	var body struct {
		Workflows []struct {
			Name string `json:"name"`
		} `json:"workflows"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("GET /v1/workflows: %w", err)
	}
	served := map[string]bool{}
	for _, w := range body.Workflows {
		served[w.Name] = true
	}
	return served, nil
}

// send posts one run and classifies the answer: "success" or "failure"
// (the run's status), "http NNN" (a rejection) or "error" (no answer).
func send(ctx context.Context, client *http.Client, base, token string, run demoRun) string {
	body, _ := json.Marshal(map[string]any{"inputs": run.inputs})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/workflows/"+run.workflow+"/runs", bytes.NewReader(body))
	if err != nil {
		return "error"
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "error"
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Sprintf("http %d", resp.StatusCode)
	}
	var res struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || res.Status == "" {
		return "error"
	}
	return res.Status
}

// DemoSummary counts what Demo saw. Safe for concurrent use while Demo runs.
type DemoSummary struct {
	mu       sync.Mutex
	Elapsed  time.Duration
	Skipped  int                       // ticks skipped at the concurrency limit
	Outcomes map[string]int            // success, failure, http NNN, error
	ByLabel  map[string]map[string]int // label -> outcome -> count
	latency  map[string][]time.Duration
}

func newDemoSummary() *DemoSummary {
	return &DemoSummary{Outcomes: map[string]int{}, ByLabel: map[string]map[string]int{}, latency: map[string][]time.Duration{}}
}

// maxSamples bounds the latencies kept per label.
const maxSamples = 100_000

func (s *DemoSummary) add(label, outcome string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Outcomes[outcome]++
	if s.ByLabel[label] == nil {
		s.ByLabel[label] = map[string]int{}
	}
	s.ByLabel[label][outcome]++
	if len(s.latency[label]) < maxSamples {
		s.latency[label] = append(s.latency[label], d)
	}
}

func (s *DemoSummary) skip() {
	s.mu.Lock()
	s.Skipped++
	s.mu.Unlock()
}

// Sent is the number of runs sent.
func (s *DemoSummary) Sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.Outcomes {
		n += c
	}
	return n
}

func (s *DemoSummary) line(elapsed time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.Outcomes))
	n := 0
	for k, c := range s.Outcomes {
		keys = append(keys, k)
		n += c
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", s.Outcomes[k], k)
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(n) / elapsed.Seconds()
	}
	line := fmt.Sprintf("%d runs in %s (%.1f/s)", n, elapsed.Round(time.Second), rate)
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	if s.Skipped > 0 {
		line += fmt.Sprintf("; %d skipped at the concurrency limit", s.Skipped)
	}
	return line
}

// Print writes the summary: totals, then one row per workflow/scenario with
// its outcomes and latency p50/p99.
func (s *DemoSummary) Print(w io.Writer) {
	fmt.Fprintf(w, "demo: %s\n\n", s.line(s.Elapsed))
	s.mu.Lock()
	defer s.mu.Unlock()
	labels := make([]string, 0, len(s.ByLabel))
	for l := range s.ByLabel {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKFLOW\tRUNS\tSUCCESS\tFAILURE\tOTHER\tP50\tP99")
	for _, l := range labels {
		c := s.ByLabel[l]
		runs := 0
		for _, n := range c {
			runs += n
		}
		other := runs - c["success"] - c["failure"]
		p50, p99 := quantiles(s.latency[l])
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", l, runs, c["success"], c["failure"], other, p50, p99)
	}
	_ = tw.Flush()
}

func quantiles(ds []time.Duration) (p50, p99 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))].Round(time.Millisecond) }
	return at(0.50), at(0.99)
}
