// Command loadtest is the bounded API load test behind `make load`.
//
// It starts `orchestrator serve` (the binary given by -bin) on a free
// loopback port with a one-step workflow on the simulated provider, drives
// POST /v1/workflows/{name}/runs (or POST /v1/runs with -inline) from
// -concurrency clients for -duration (and at most -max-requests requests),
// then prints runs/s, latency p50/p99, the server's peak RSS, and checks
// that the server counted exactly the runs it answered:
// orchestrator_workflow_executions_total{status="success"} equals the
// successful responses and orchestrator_active_workflows is back to 0.
//
// It sends traffic only to 127.0.0.1 and stops by itself.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	bin         string
	concurrency int
	duration    time.Duration
	maxRequests int
	latency     time.Duration
	inline      bool
	maxInflight int
}

func run() error {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/orchestrator", "orchestrator binary to start")
	flag.IntVar(&o.concurrency, "concurrency", 64, "concurrent clients (runs in flight)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send load")
	flag.IntVar(&o.maxRequests, "max-requests", 2_000_000, "upper bound on requests sent")
	flag.DurationVar(&o.latency, "latency", 0, "simulated model latency per call (0 = zero-latency model)")
	flag.BoolVar(&o.inline, "inline", false, "POST the workflow YAML inline to /v1/runs instead of the preloaded workflow")
	flag.IntVar(&o.maxInflight, "max-inflight", 0, "server --max-inflight (0 = concurrency + 64)")
	flag.Parse()
	if o.concurrency < 1 || o.duration <= 0 {
		return errors.New("-concurrency must be >= 1 and -duration > 0")
	}
	if o.maxInflight == 0 {
		o.maxInflight = o.concurrency + 64
	}

	dir, err := os.MkdirTemp("", "loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	wf := workflowYAML(o.latency)
	if err := os.WriteFile(filepath.Join(dir, "load.yaml"), []byte(wf), 0o644); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)

	ctx, stop := context.WithTimeout(context.Background(), o.duration+2*time.Minute)
	defer stop()
	cmd := exec.CommandContext(ctx, o.bin, "serve",
		"--addr", "127.0.0.1:"+strconv.Itoa(port),
		"--workflows", dir,
		"--max-inflight", strconv.Itoa(o.maxInflight),
		"--log-level", "error")
	cmd.Env = append(os.Environ(), "OTEL_METRICS_EXPORTER=none")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", o.bin, err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()

	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: o.concurrency * 2, MaxIdleConnsPerHost: o.concurrency * 2,
	}, Timeout: 60 * time.Second}
	if err := waitReady(ctx, client, base); err != nil {
		return err
	}

	url := base + "/v1/workflows/load/runs"
	body := []byte(`{"inputs":{"text":"hello"}}`)
	if o.inline {
		url = base + "/v1/runs"
		b, _ := json.Marshal(map[string]any{"workflow": wf, "inputs": map[string]any{"text": "hello"}})
		body = b
	}

	type slot struct {
		lat     []time.Duration
		ok, bad int
		other   map[int]int
	}
	slots := make([]slot, o.concurrency)
	var sent sync.WaitGroup
	var budget = make(chan struct{}, o.maxRequests)
	for range o.maxRequests {
		budget <- struct{}{}
	}
	close(budget)
	deadline := time.Now().Add(o.duration)
	start := time.Now()
	for i := range o.concurrency {
		sent.Add(1)
		go func(s *slot) {
			defer sent.Done()
			s.other = map[int]int{}
			for range budget {
				if time.Now().After(deadline) {
					return
				}
				t0 := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					s.bad++
					continue
				}
				var doc struct {
					Status string `json:"status"`
				}
				derr := json.NewDecoder(resp.Body).Decode(&doc)
				resp.Body.Close()
				s.lat = append(s.lat, time.Since(t0))
				switch {
				case resp.StatusCode == 200 && derr == nil && doc.Status == "success":
					s.ok++
				default:
					s.other[resp.StatusCode]++
				}
			}
		}(&slots[i])
	}
	sent.Wait()
	elapsed := time.Since(start)

	var lat []time.Duration
	ok, bad := 0, 0
	other := map[int]int{}
	for _, s := range slots {
		lat = append(lat, s.lat...)
		ok += s.ok
		bad += s.bad
		for k, v := range s.other {
			other[k] += v
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	metrics, err := scrape(ctx, client, base)
	if err != nil {
		return err
	}
	rss, _ := peakRSS(cmd.Process.Pid)
	fmt.Printf("concurrency=%d duration=%s latency=%s inline=%v\n", o.concurrency, elapsed.Round(time.Millisecond), o.latency, o.inline)
	fmt.Printf("answered=%d success=%d transport_errors=%d other_statuses=%v\n", len(lat), ok, bad, other)
	fmt.Printf("runs/s=%.0f p50=%s p99=%s max=%s\n", float64(ok)/elapsed.Seconds(), pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
	fmt.Printf("server peak RSS=%.1f MiB\n", float64(rss)/(1<<20))
	counted := metrics[`orchestrator_workflow_executions_total{status="success",workflow_name="load"}`]
	active := metrics[`orchestrator_active_workflows`]
	fmt.Printf("counted success=%.0f active_workflows=%.0f\n", counted, active)
	if int(counted) != ok || active != 0 {
		return fmt.Errorf("lost runs: %d successful responses but %v counted, active=%v", ok, counted, active)
	}
	fmt.Println("ok: every answered run was counted")
	return nil
}

func workflowYAML(latency time.Duration) string {
	model := "sim-fast"
	extra := ""
	if latency > 0 {
		model = "sim-default"
		extra = fmt.Sprintf("\n    latency_ms: %d", latency.Milliseconds())
	}
	return fmt.Sprintf(`name: load
inputs:
  text: {default: hello}
steps:
  - id: answer
    type: llm
    provider: simulated
    model: %s
    prompt: "Reply to {{ inputs.text }}"%s
`, model, extra)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(ctx context.Context, c *http.Client, base string) error {
	for range 300 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/health/live", nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("server did not become live within 30s")
}

// scrape returns every sample of /metrics keyed by its series text.
func scrape(ctx context.Context, c *http.Client, base string) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// peakRSS reads VmHWM of pid from /proc.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM")
}
