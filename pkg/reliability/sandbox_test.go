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
		// problem is a substring of the expected load-time problem; when
		// empty, the workflow must load and run, and step s must end with
		// result (success) or fail with errType.
		problem, result, errType string
	}{
		// A workflow without declared inputs accepts any: env is an input
		// the caller did not give, never the process environment.
		{name: "template env.VAR", steps: tmplStep("{{ env." + sandboxEnv + " }}"), result: ""},
		{name: "template env.VAR with declared inputs", inputs: "inputs: {x: {default: 1}}\n",
			steps: tmplStep("{{ env." + sandboxEnv + " }}"), problem: `references input "env", which is not declared`},
		{name: "template env.VAR with an input named env", inputs: "inputs: {env: {default: {}}}\n",
			steps: tmplStep("[{{ env." + sandboxEnv + " }}]"), result: "[]"},
		{name: "template bare VAR", steps: tmplStep("{{ " + sandboxEnv + " }}"), result: ""},
		{name: "template $env", steps: tmplStep("{{ $env." + sandboxEnv + " }}"), problem: `bad path "$env.`},
		{name: "template @root", steps: tmplStep("{{ @root." + sandboxEnv + " }}"), problem: "unknown data variable"},
		{name: "template ../", steps: tmplStep("{{ ../" + sandboxEnv + " }}"), problem: "goes above the top level"},
		{name: "template this", steps: tmplStep("{{ this." + sandboxEnv + " }}"), problem: "this is only valid inside"},
		{name: "template env helper", steps: tmplStep(`{{ env "` + sandboxEnv + `" }}`), problem: `unknown helper "env"`},
		{name: "template getenv helper", steps: tmplStep(`{{ getenv "` + sandboxEnv + `" }}`), problem: `unknown helper "getenv"`},
		{name: "template lookup helper", steps: tmplStep(`{{ lookup "` + sandboxEnv + `" }}`), problem: `unknown helper "lookup"`},
		{name: "template file helper", steps: tmplStep(`{{ file "secret.txt" }}`), problem: `unknown helper "file"`},
		{name: "template readFile helper", steps: tmplStep(`{{ readFile "` + secretFile + `" }}`), problem: `unknown helper "readFile"`},
		{name: "template include helper", steps: tmplStep(`{{ include "secret.txt" }}`), problem: `unknown helper "include"`},
		{name: "template partial", steps: tmplStep(`{{> secret.txt }}`), problem: "partials {{> ...}} are not supported"},
		{name: "shell-style ${VAR} stays text", steps: tmplStep("${" + sandboxEnv + "} $" + sandboxEnv),
			result: "${" + sandboxEnv + "} $" + sandboxEnv},
		{name: "condition $env", steps: condStep("$env." + sandboxEnv + " != nil"), problem: `unknown name "$env"`},
		{name: "condition $env map", steps: condStep("len($env) > 100"), problem: `unknown name "$env"`},
		{name: "condition env()", steps: condStep(`env("` + sandboxEnv + `") != ""`), problem: `unknown function "env"`},
		{name: "condition getenv()", steps: condStep(`getenv("` + sandboxEnv + `") != ""`), problem: `unknown function "getenv"`},
		{name: "condition os.Getenv", steps: condStep(`os.Getenv("` + sandboxEnv + `") != ""`), problem: "method calls are not supported"},
		{name: "condition readFile()", steps: condStep(`readFile("` + secretFile + `") != ""`), problem: `unknown function "readFile"`},
		{name: "condition template env", steps: condStep("{{ env." + sandboxEnv + " }}"), errType: "validation"},
		{name: "branch on $env", steps: branchStep("$env"), problem: `unknown name "$env"`},
		{name: "branch on the variable's name", steps: branchStep(sandboxEnv), problem: `unknown name "` + sandboxEnv + `"`},
		{name: "vector_search absolute index", steps: "  - {id: s, type: vector_search, index: " + outside +
			", query: '[1, 0]'}\n", problem: "index must be a relative path inside the workflow's directory"},
		{name: "vector_search index outside the directory", steps: "  - {id: s, type: vector_search, index: " + rel +
			", query: '[1, 0]'}\n", problem: "index must be a relative path inside the workflow's directory"},
		{name: "action http file URL", steps: "  - {id: s, type: action, action: http, url: 'file://" + secretFile + "'}\n",
			problem: "the scheme must be http or https"},
		{name: "action http file URL from a template", inputs: "inputs: {u: {default: 'file://" + secretFile + "'}}\n",
			steps: "  - {id: s, type: action, action: http, url: '{{ inputs.u }}'}\n", errType: "validation"},
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
				if tc.problem == "" || !strings.Contains(err.Error(), tc.problem) {
					t.Errorf("load: %v\nwant the problem %q", err, tc.problem)
				}
				noCanary(t, outputs)
				return
			}
			if tc.problem != "" {
				t.Errorf("the workflow loaded, want the problem %q", tc.problem)
			}
			res, err := e.Run(t.Context(), plan, nil)
			if err != nil {
				t.Fatal(err)
			}
			doc, _ := json.Marshal(res)
			outputs["result"] = string(doc)
			outputs["logs"] = logs.String()
			st := res.Steps["s"]
			switch {
			case st == nil:
				t.Fatalf("no step s in %s", doc)
			case tc.errType != "":
				if st.Error == nil || st.Error.Type != tc.errType {
					t.Errorf("step s: %s, want a failure of type %s", doc, tc.errType)
				}
			case st.Status != "success" || st.Output["result"] != tc.result:
				t.Errorf("step s: %s, want result %q", doc, tc.result)
			}
			noCanary(t, outputs)
		})
	}
}
