package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/server"
)

// An inline workflow's vector_search index resolves against WithInlineDir
// (the app passes --workflows), and cannot leave it.
func TestInlineDir(t *testing.T) {
	dir := t.TempDir()
	corpus := `{"id":"a","text":"alpha","vector":[1,0]}` + "\n" + `{"id":"b","text":"beta","vector":[0,1]}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "kb.jsonl"), []byte(corpus), 0o644); err != nil {
		t.Fatal(err)
	}
	wf := func(index string) string {
		return jsonBody(t, map[string]any{"workflow": `name: inline-rag
steps:
  - id: q
    type: transform
    function: json_parse
    input: "[0.1, 0.9]"
  - id: search
    type: vector_search
    depends_on: [q]
    index: ` + index + `
    query: "{{ steps.q.result }}"
    top_k: 1
`})
	}

	e, _ := newEnv(t, server.WithInlineDir(dir))
	r := e.do("POST", "/v1/runs", wf("kb.jsonl"))
	if r.code != 200 || r.body["status"] != "success" {
		t.Fatalf("inline run with a corpus in the inline dir: %d %s", r.code, r.raw)
	}
	hits := r.body["outputs"].(map[string]any)["search"].(map[string]any)["hits"].([]any)
	if len(hits) != 1 || hits[0].(map[string]any)["id"] != "b" {
		t.Fatalf("hits = %v, want [b]", hits)
	}

	for _, index := range []string{"../kb.jsonl", filepath.Join(dir, "kb.jsonl")} {
		r := e.do("POST", "/v1/runs", wf(index))
		if r.code != 400 || !strings.Contains(r.raw, "relative path inside the workflow's directory") {
			t.Errorf("index %q: want 400 refusing the path, got %d %s", index, r.code, r.raw)
		}
	}

	// A server with another inline dir does not see the file.
	other, _ := newEnv(t, server.WithInlineDir(t.TempDir()))
	if r := other.do("POST", "/v1/runs", wf("kb.jsonl")); r.code != 400 {
		t.Errorf("corpus outside the inline dir: want 400, got %d %s", r.code, r.raw)
	}
}
