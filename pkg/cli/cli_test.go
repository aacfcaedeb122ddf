package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// run calls Main with captured output and an empty environment.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), Env{Stdout: &out, Stderr: &errb, Version: "v0.0.0-test"}, args)
	return code, out.String(), errb.String()
}

// durations matches the variable parts of progress lines.
var durations = regexp.MustCompile(`\d+(\.\d+)?(µs|ms|s)\b`)
var runIDs = regexp.MustCompile(`run [0-9a-f]{16}`)

func normalise(s string) string {
	return runIDs.ReplaceAllString(durations.ReplaceAllString(s, "D"), "run ID")
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderr     string // after normalise, exact
		stderrHas  string
		stdoutJSON bool
	}{
		{
			name:   "success with a skipped step",
			args:   []string{"run", "testdata/hello.yaml"},
			stdout: "Hello, world!\n",
			stderr: `▶ run ID: workflow "hello"
– shout (transform) skipped: condition false
▸ greet (transform) started
✓ greet (transform) finished in D, 1 attempt
✔ run ID: success in D
`,
		},
		{
			name:   "inputs after the file, parsed as JSON when they parse",
			args:   []string{"run", "testdata/hello.yaml", "--input", "name=SHOUT"},
			stdout: "Hello, SHOUT!HELLO\n",
		},
		{
			name:   "flags before the file",
			args:   []string{"run", "--input", `name="Ada"`, "testdata/hello.yaml"},
			stdout: "Hello, Ada!\n",
		},
		{
			name:   "llm text and transform result",
			args:   []string{"run", "testdata/two-sinks.yaml"},
			stdout: "== text ==\nfixed answer\n\n== data ==\n{\n  \"a\": [\n    1,\n    2\n  ]\n}\n",
		},
		{
			name: "failure with retries",
			args: []string{"run", "testdata/broken.yaml"},
			code: ExitFailed,
			stderr: `▶ run ID: workflow "broken"
▸ call (llm) started
↻ call (llm) attempt 1 failed: provider_error; retrying in D
✗ call (llm) failed after 2 attempts in D: provider_error: provider_error (http 500): simulated failure of sim-broken (call 1)
– after (transform) skipped: dependency "call" failed
✘ run ID: failure (step_failed) in D
`,
		},
		{
			name:       "json output",
			args:       []string{"run", "--output", "json", "testdata/hello.yaml"},
			stdoutJSON: true,
		},
		{
			name:   "invalid workflow",
			args:   []string{"run", "testdata/invalid.yaml"},
			code:   ExitUsage,
			stderr: invalidProblems,
		},
		{
			name:   "missing required input",
			args:   []string{"run", "testdata/required.yaml"},
			code:   ExitUsage,
			stderr: "testdata/required.yaml: invalid inputs: missing required input \"ticket\"\n",
		},
		{
			name:   "inputs file",
			args:   []string{"run", "testdata/required.yaml", "--inputs", "testdata/inputs.json"},
			stdout: "from the file\n",
		},
		{
			name:   "--input wins over --inputs",
			args:   []string{"run", "testdata/required.yaml", "--inputs", "testdata/inputs.json", "--input", "ticket=flag"},
			stdout: "flag\n",
		},
		{name: "no file", args: []string{"run"}, code: ExitUsage, stderrHas: "want exactly one workflow FILE"},
		{name: "two files", args: []string{"run", "a.yaml", "b.yaml"}, code: ExitUsage, stderrHas: "want exactly one workflow FILE"},
		{name: "bad output", args: []string{"run", "--output", "xml", "testdata/hello.yaml"}, code: ExitUsage, stderrHas: `--output "xml"`},
		{name: "bad input", args: []string{"run", "--input", "novalue", "testdata/hello.yaml"}, code: ExitUsage, stderrHas: `--input "novalue": want k=v`},
		{name: "unknown flag", args: []string{"run", "--nope", "testdata/hello.yaml"}, code: ExitUsage, stderrHas: "flag provided but not defined: -nope"},
		{name: "missing file", args: []string{"run", "testdata/none.yaml"}, code: ExitUsage, stderrHas: "testdata/none.yaml: no such file or directory"},
		{name: "help", args: []string{"run", "-h"}, code: ExitOK, stderrHas: "Usage: orchestrator run [flags] FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, tt.code, stderr)
			}
			if tt.stdout != "" && stdout != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.stdout)
			}
			if tt.stderr != "" && normalise(stderr) != tt.stderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", normalise(stderr), tt.stderr)
			}
			if tt.stderrHas != "" && !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", stderr, tt.stderrHas)
			}
			if tt.stdoutJSON {
				var doc struct {
					Status string                    `json:"status"`
					Steps  map[string]map[string]any `json:"steps"`
				}
				if err := json.Unmarshal([]byte(stdout), &doc); err != nil || doc.Status != "success" || doc.Steps["shout"]["status"] != "skipped" {
					t.Errorf("json output %v: %s", err, stdout)
				}
			}
		})
	}
}

const invalidProblems = `testdata/invalid.yaml:4:11: step "a": unknown step type "nope" (known types: action, branch, embed, llm, parallel, transform, vector_search)
testdata/invalid.yaml:9:13: step "b": template references unknown step "zzz"
testdata/invalid.yaml:10:18: step "b": depends_on "missing": no such step
testdata/invalid.yaml:11:9: step "a": duplicate step id "a" (first defined at line 3)
`

func TestValidate(t *testing.T) {
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"valid", []string{"validate", "testdata/hello.yaml", "testdata/two-sinks.yaml"}, ExitOK,
			"testdata/hello.yaml: ok\ntestdata/two-sinks.yaml: ok\n", ""},
		{"every problem", []string{"validate", "testdata/invalid.yaml"}, ExitUsage, "", invalidProblems},
		{"syntax error", []string{"validate", "testdata/syntax.yaml"}, ExitUsage, "",
			"testdata/syntax.yaml:1:1: yaml syntax error: did not find expected ',' or ']'\n"},
		{"mixed", []string{"validate", "testdata/hello.yaml", "testdata/invalid.yaml", "testdata/none.yaml"}, ExitUsage,
			"testdata/hello.yaml: ok\n", invalidProblems + "testdata/none.yaml: no such file or directory\n"},
		{"openai without a key", []string{"validate", "testdata/openai.yaml"}, ExitUsage, "",
			"testdata/openai.yaml:5:15: step \"ask\": provider \"openai\": OPENAI_API_KEY is not set\n"},
		{"no files", []string{"validate"}, ExitUsage, "", ""},
		{"providers example", []string{"validate", "--providers", "../../examples/providers/providers.yaml", "testdata/hello.yaml"}, ExitOK,
			"testdata/hello.yaml: ok\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, tt.code, stderr)
			}
			if stdout != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.stdout)
			}
			if tt.stderr != "" && stderr != tt.stderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr, tt.stderr)
			}
		})
	}
}

// TestExamples validates and runs every shipped example with no keys.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) < 4 {
		t.Fatalf("examples: %v %v", files, err)
	}
	code, _, stderr := run(t, append([]string{"validate"}, files...)...)
	if code != ExitOK {
		t.Fatalf("validate examples: exit %d\n%s", code, stderr)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, stdout, stderr := run(t, "run", f)
			if code != ExitOK || strings.TrimSpace(stdout) == "" {
				t.Errorf("exit %d, stdout %q\nstderr:\n%s", code, stdout, stderr)
			}
		})
	}
}

func TestParseInputs(t *testing.T) {
	got, err := parseInputs("", []string{"n=3", "f=1.5", "b=true", "s=hello world", `q="3"`, `o={"a":1}`, "l=[1,2]", "e=", "eq=a=b", "null=null"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"n": 3.0, "f": 1.5, "b": true, "s": "hello world", "q": "3", "o": map[string]any{"a": 1.0},
		"l": []any{1.0, 2.0}, "e": "", "eq": "a=b", "null": nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

func TestProgressColor(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), Env{Stdout: &out, Stderr: &errb, Color: true}, []string{"run", "testdata/hello.yaml"})
	if code != ExitOK || !strings.Contains(errb.String(), ansiGreen+"✓"+ansiReset+" greet") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	code, _, stderr := run(t, "run", "testdata/hello.yaml")
	if code != ExitOK || strings.Contains(stderr, "\x1b[") {
		t.Errorf("colour without a terminal: %q", stderr)
	}
}

func TestMainUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		out  string
	}{
		{nil, ExitUsage, ""},
		{[]string{"nope"}, ExitUsage, `unknown command "nope"`},
		{[]string{"help"}, ExitOK, ""},
	} {
		code, stdout, stderr := run(t, tt.args...)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.out) || !strings.Contains(stdout+stderr, "Commands:") {
			t.Errorf("%v: exit %d\n%s%s", tt.args, code, stdout, stderr)
		}
	}
	code, stdout, _ := run(t, "version")
	if code != ExitOK || !strings.HasPrefix(stdout, "orchestrator v0.0.0-test (go") {
		t.Errorf("version: %d %q", code, stdout)
	}
}

func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"status":"x"}`))
	}))
	defer srv.Close()
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("t0k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "healthcheck", "--url", srv.URL, "--auth-token-file", tok); code != ExitOK || gotAuth != "Bearer t0k" {
		t.Errorf("healthy: exit %d auth %q %s", code, gotAuth, stderr)
	}
	status = http.StatusServiceUnavailable
	if code, _, stderr := run(t, "healthcheck", "--url", srv.URL); code != ExitFailed || !strings.Contains(stderr, "503") {
		t.Errorf("unhealthy: exit %d %s", code, stderr)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if code, _, stderr := run(t, "healthcheck", "--url", closed.URL); code != ExitFailed || !strings.Contains(stderr, "unhealthy") {
		t.Errorf("unreachable: exit %d %s", code, stderr)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"1024": 1024, "512MiB": 512 << 20, "1GiB": 1 << 30, "500MB": 500e6, "64k": 64 << 10, "1.5GiB": 3 << 29} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "1XB"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("%q: want an error", in)
		}
	}
}

func TestServeUsage(t *testing.T) {
	code, _, stderr := run(t, "serve", "--addr", "nope", "--max-inflight", "0", "--log-level", "loud", "--protect-ops")
	if code != ExitUsage {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{`addr "nope"`, "max inflight 0", `log level "loud"`, "protect ops needs an auth token file"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code, _, _ := run(t, "serve", "extra"); code != ExitUsage {
		t.Errorf("positional args: exit %d", code)
	}
}
