package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// build compiles the binary into a temporary directory.
func build(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "orchestrator")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version=v1.2.3-test", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSIGTERM starts `orchestrator serve` as a process, keeps a slow run in
// flight, sends SIGTERM, and checks that readiness and new runs answer 503,
// the in-flight run completes, and the process exits 0.
func TestSIGTERM(t *testing.T) {
	bin := build(t)
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--workflows", "../../examples", "--shutdown-timeout", "20s")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no keys, no OTEL_*
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	// The banner's first line names the URL.
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	exited := make(chan error, 1)
	go func() {
		_, _ = io.Copy(io.Discard, r)
		exited <- cmd.Wait()
	}()
	if err != nil {
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("read banner: %v (stderr: %s)", err, stderr.String())
	}
	base := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(line)
	if base == "" {
		t.Fatalf("banner %q", line)
	}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	type result struct {
		code int
		doc  map[string]any
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := client.Post(base+"/v1/workflows/resilience/runs", "application/json", strings.NewReader(`{"inputs":{"scenario":"slow"}}`))
		if err != nil {
			slow <- result{}
			return
		}
		defer resp.Body.Close()
		var doc map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		slow <- result{resp.StatusCode, doc}
	}()
	// Wait until the run is in flight.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(base + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "orchestrator_active_workflows 1") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow run never started")
		}
		time.Sleep(20 * time.Millisecond)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		resp, err := client.Get(base + "/health/ready")
		if err != nil {
			t.Fatalf("ready while draining: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	resp, err := client.Post(base+"/v1/workflows/summarize/runs", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("new run while draining: %d", resp.StatusCode)
	}
	if r := <-slow; r.code != 200 || r.doc["status"] != "success" {
		t.Errorf("in-flight run: %d %v", r.code, r.doc)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the process did not exit")
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Errorf("logs:\n%s", stderr.String())
	}
}

func TestBinaryExitCodes(t *testing.T) {
	bin := build(t)
	for _, tt := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"version"}, 0, "orchestrator v1.2.3-test"},
		{[]string{"validate", "../../examples/rag.yaml"}, 0, "rag.yaml: ok"},
		{[]string{"run", "../../examples/summarize.yaml"}, 0, "Simulated answer"},
		{[]string{"run", "../../examples/resilience.yaml", "--input", "scenario=broken"}, 1, "failure (step_failed)"},
		{[]string{"run"}, 2, "want exactly one workflow FILE"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"healthcheck", "--url", "http://127.0.0.1:1/health/ready", "--timeout", "1s"}, 1, "unhealthy"},
	} {
		cmd := exec.Command(bin, tt.args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code || !strings.Contains(string(out), tt.out) {
			t.Errorf("%v: exit %d, want %d; output:\n%s", tt.args, code, tt.code, out)
		}
	}
}
