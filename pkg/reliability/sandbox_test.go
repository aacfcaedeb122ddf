package reliability_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
)

// sandboxEnv is the variable holding the canary during TestSandbox.
const sandboxEnv = "ORCH_RELIABILITY_SECRET"

// TestSandbox tries to read the environment and files from templates,
// conditions, branch keys, vector_search and action: http. Every attempt
// must be a load-time problem or run without the secret reaching any
// output: the secret is both in an environment variable and in a file next
// to the workflow.
func TestSandbox(t *testing.T) {
	t.Setenv(sandboxEnv, canary)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secretFile, []byte(canary+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A JSONL corpus whose text is the secret, outside the workflow's
	// directory.
	outside := filepath.Join(t.TempDir(), "kb.jsonl")
	if err := os.WriteFile(outside, []byte(`{"id":"a","text":"`+canary+`","vector":[1,0]}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(dir, outside)
	if err != nil {
		t.Fatal(err)
	}

	tmplStep := func(tmpl string) string {
		return fmt.Sprintf("  - {id: s, type: transform, function: template, template: %q}\n", tmpl)
	}
	condStep := func(cond string) string {
		return fmt.Sprintf("  - {id: s, type: transform, function: template, template: ran, condition: %q}\n", cond)
	}
	branchStep := func(on string) string {
		return fmt.Sprintf("  - id: s\n    type: branch\n    on: %q\n    default:\n      - {id: d, type: transform, function: template, template: ran}\n", on)
	}
	tests := []struct {
		name, steps string
		inputs      string // the workflow's inputs block, "" for none
		// problem, when set, is a substring of the expected load-time
		// problem; otherwise the workflow must load and run.
		problem string
	}{
		{name: "template env.VAR", steps: tmplStep("{{ env." + sandboxEnv + " }}"), problem: `undeclared input "env"`},
		{name: "template env.VAR with an input named env", inputs: "inputs: {env: {default: {}}}\n",
			steps: tmplStep("[{{ env." + sandboxEnv + " }}]")},
		{name: "template bare VAR", steps: tmplStep("{{ " + sandboxEnv + " }}"), problem: "undeclared input"},
		{name: "template $env", steps: tmplStep("{{ $env." + sandboxEnv + " }}"), problem: ""},
		{name: "template @root", steps: tmplStep("{{ @root." + sandboxEnv + " }}"), problem: ""},
		{name: "template ../", steps: tmplStep("{{ ../" + sandboxEnv + " }}"), problem: ""},
		{name: "template this", steps: tmplStep("{{ this." + sandboxEnv + " }}"), problem: ""},
		{name: "template env helper", steps: tmplStep(`{{ env "` + sandboxEnv + `" }}`), problem: ""},
		{name: "template getenv helper", steps: tmplStep(`{{ getenv "` + sandboxEnv + `" }}`), problem: ""},
		{name: "template lookup helper", steps: tmplStep(`{{ lookup "` + sandboxEnv + `" }}`), problem: ""},
		{name: "template file helper", steps: tmplStep(`{{ file "secret.txt" }}`), problem: ""},
		{name: "template readFile helper", steps: tmplStep(`{{ readFile "` + secretFile + `" }}`), problem: ""},
		{name: "template include helper", steps: tmplStep(`{{ include "secret.txt" }}`), problem: ""},
		{name: "template partial", steps: tmplStep(`{{> secret.txt }}`), problem: ""},
		{name: "shell-style ${VAR} stays text", steps: tmplStep("${" + sandboxEnv + "} $" + sandboxEnv)},
		{name: "condition $env", steps: condStep("$env." + sandboxEnv + " != nil"), problem: ""},
		{name: "condition $env map", steps: condStep("len($env) > 100"), problem: ""},
		{name: "condition env()", steps: condStep(`env("` + sandboxEnv + `") != ""`), problem: ""},
		{name: "condition getenv()", steps: condStep(`getenv("` + sandboxEnv + `") != ""`), problem: ""},
		{name: "condition os.Getenv", steps: condStep(`os.Getenv("` + sandboxEnv + `") != ""`), problem: ""},
		{name: "condition readFile()", steps: condStep(`readFile("` + secretFile + `") != ""`), problem: ""},
		{name: "condition template env", steps: condStep("{{ env." + sandboxEnv + " }}"), problem: ""},
		{name: "branch on $env", steps: branchStep("$env"), problem: ""},
		{name: "branch on env var name", steps: branchStep(sandboxEnv), problem: ""},
		{name: "vector_search absolute index", steps: "  - {id: s, type: vector_search, index: " + outside +
			", query: '[1, 0]'}\n", problem: ""},
		{name: "vector_search index outside the directory", steps: "  - {id: s, type: vector_search, index: " + rel +
			", query: '[1, 0]'}\n", problem: ""},
		{name: "action http file URL", steps: "  - {id: s, type: action, action: http, url: 'file://" + secretFile + "'}\n", problem: ""},
		{name: "action http file URL from a template", inputs: "inputs: {u: {default: 'file://" + secretFile + "'}}\n",
			steps: "  - {id: s, type: action, action: http, url: '{{ inputs.u }}'}\n", problem: ""},
	}
	logs := &syncBuffer{}
	e, err := engine.New(engine.WithLogger(jsonLogger(logs)), engine.WithAllowHTTPHosts("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "name: sandbox\n" + tc.inputs + "steps:\n" + tc.steps
			path := filepath.Join(dir, "sandbox.yaml")
			plan, err := e.Load(path, []byte(src))
			outputs := map[string]string{"logs": logs.String()}
			if err != nil {
				outputs["load error"] = err.Error()
				t.Logf("problem: %v", err)
				noCanary(t, outputs)
				return
			}
			res, err := e.Run(t.Context(), plan, nil)
			if err != nil {
				t.Fatal(err)
			}
			doc, _ := json.Marshal(res)
			outputs["result"] = string(doc)
			t.Logf("ran: %s", doc)
			noCanary(t, outputs)
			_ = strings.TrimSpace
		})
	}
}
