package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTarget serves the given workflows; runs of "rag" fail, others succeed.
func fakeTarget(t *testing.T, served ...string) (*httptest.Server, func() map[string]int) {
	t.Helper()
	var mu sync.Mutex
	got := map[string]int{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/workflows", func(w http.ResponseWriter, r *http.Request) {
		var list []map[string]string
		for _, n := range served {
			list = append(list, map[string]string{"name": n})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"workflows": list})
	})
	mux.HandleFunc("POST /v1/workflows/{name}/runs", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Inputs map[string]any }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		name := r.PathValue("name")
		mu.Lock()
		got[name]++
		mu.Unlock()
		status := "success"
		if name == "rag" {
			status = "failure"
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": status})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

func TestDemo(t *testing.T) {
	srv, got := fakeTarget(t, "triage", "rag", "other")
	sum, err := Demo(context.Background(), DemoOptions{
		Target: srv.URL, Rate: 200, Duration: 300 * time.Millisecond, Concurrency: 4, Seed: 7, Token: "tok", WaitReady: time.Second,
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sent := got()
	if sum.Sent() == 0 || sum.Sent() != sent["triage"]+sent["rag"] || len(sent) > 2 {
		t.Fatalf("summary %d runs, target saw %v", sum.Sent(), sent)
	}
	if sum.Outcomes["failure"] != sent["rag"] || sum.Outcomes["success"] != sent["triage"] {
		t.Errorf("outcomes %v, target saw %v", sum.Outcomes, sent)
	}
	var out bytes.Buffer
	sum.Print(&out)
	if !strings.Contains(out.String(), "WORKFLOW") || !strings.Contains(out.String(), "triage/") {
		t.Errorf("summary:\n%s", out.String())
	}
}

func TestDemoStopsOnCancel(t *testing.T) {
	srv, _ := fakeTarget(t, "summarize")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	sum, err := Demo(ctx, DemoOptions{Target: srv.URL, Rate: 100, Concurrency: 2, Token: "tok", WaitReady: time.Second}, io.Discard)
	if err != nil || sum == nil {
		t.Fatalf("%v", err)
	}
}

func TestDemoNoExamples(t *testing.T) {
	srv, _ := fakeTarget(t, "unrelated")
	_, err := Demo(context.Background(), DemoOptions{Target: srv.URL, Rate: 1, Concurrency: 1, WaitReady: time.Second}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "serves none of the example workflows") {
		t.Errorf("err %v", err)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if _, err := Demo(context.Background(), DemoOptions{Target: closed.URL, Rate: 1, Concurrency: 1, WaitReady: time.Millisecond}, io.Discard); err == nil || !strings.Contains(err.Error(), "target not ready") {
		t.Errorf("unreachable: %v", err)
	}
}

func TestDemoUsage(t *testing.T) {
	if code, _, stderr := run(t, "demo", "--rate", "0"); code != ExitUsage || !strings.Contains(stderr, "--rate > 0") {
		t.Errorf("exit %d %s", code, stderr)
	}
}
