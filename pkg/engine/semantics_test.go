package engine_test

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

func TestConditionsAndSkips(t *testing.T) {
	e, ev := newEngine(t, nil)
	p := load(t, e, `
name: cond
inputs:
  mode: {default: fast}
steps:
  - {id: a, type: fake, value: x}
  - {id: deep, type: fake, value: d, condition: "inputs.mode == 'deep'"}
  - {id: yes, type: fake, value: y, condition: "steps.a.value == 'x'", depends_on: [a]}
  - {id: tpl, type: fake, value: t, condition: "{{ eq inputs.mode 'fast' }}"}
  - id: uses
    type: fake
    depends_on: [deep, yes]
    template: "[{{ steps.deep.value }}][{{ steps.yes.value }}]"
  - {id: broken, type: fake, condition: "steps.deep.value + 1 > 0", depends_on: [deep, uses]}
`)
	res := mustRun(t, t.Context(), e, p, nil)
	if got := res.Steps["uses"].Output["rendered"]; got != "[][y]" {
		t.Errorf("uses rendered %q, want [][y]: a skipped step renders empty", got)
	}
	b := res.Steps["broken"]
	if b.Status != "failure" || b.Error.Type != "validation" || b.Attempts != 0 || !strings.HasPrefix(b.Error.Message, "condition: ") {
		t.Errorf("broken = %+v %+v, want a failed condition", b, b.Error)
	}
	diff(t, ev.sorted(), []string{
		"run end cond failure step_failed",
		"run start cond",
		"step end a fake success  attempts=1",
		"step end broken fake failure validation attempts=0",
		"step end deep fake skipped (condition false) attempts=0",
		"step end tpl fake success  attempts=1",
		"step end uses fake success  attempts=1",
		"step end yes fake success  attempts=1",
		"step start a fake",
		"step start broken fake",
		"step start tpl fake",
		"step start uses fake",
		"step start yes fake",
	})
}

func TestBranch(t *testing.T) {
	const wf = `
name: br
inputs:
  kind: {required: true}
steps:
  - {id: a, type: fake, value: x}
  - id: route
    type: branch
    depends_on: [a]
    on: inputs.kind
    branches:
      complaint:
        - {id: c1, type: fake, value: c1, read: a}
        - {id: c2, type: fake, value: c2, depends_on: [c1]}
      "3":
        - {id: three, type: fake, value: "3"}
    default:
      - {id: d1, type: fake, value: d1}
  - {id: after, type: fake, depends_on: [route], template: "{{ steps.route.branch }}/{{ steps.c2.value }}{{ steps.d1.value }}"}
`
	tests := []struct {
		kind     any
		branch   string
		rendered string
		events   []string
	}{
		{"complaint", "complaint", "complaint/c2", []string{
			"run start br",
			"step start a fake",
			"step end a fake success  attempts=1",
			"step start route branch",
			"step end three fake skipped (branch not taken) attempts=0",
			"step end d1 fake skipped (branch not taken) attempts=0",
			"step start c1 fake",
			"step end c1 fake success  attempts=1",
			"step start c2 fake",
			"step end c2 fake success  attempts=1",
			"step end route branch success  attempts=1",
			"step start after fake",
			"step end after fake success  attempts=1",
			"run end br success ",
		}},
		{3, "3", "3/", nil},
		{"other", "default", "default/d1", []string{
			"run start br",
			"step start a fake",
			"step end a fake success  attempts=1",
			"step start route branch",
			"step end three fake skipped (branch not taken) attempts=0",
			"step end c1 fake skipped (branch not taken) attempts=0",
			"step end c2 fake skipped (branch not taken) attempts=0",
			"step start d1 fake",
			"step end d1 fake success  attempts=1",
			"step end route branch success  attempts=1",
			"step start after fake",
			"step end after fake success  attempts=1",
			"run end br success ",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.branch, func(t *testing.T) {
			e, ev := newEngine(t, nil)
			res := mustRun(t, t.Context(), e, load(t, e, wf), map[string]any{"kind": tt.kind})
			if res.Status != "success" {
				t.Fatalf("status %s: %s", res.Status, summary(res))
			}
			if got := res.Steps["route"].Output["branch"]; got != tt.branch {
				t.Errorf("branch %v, want %s", got, tt.branch)
			}
			if got := res.Steps["after"].Output["rendered"]; got != tt.rendered {
				t.Errorf("after rendered %q, want %q", got, tt.rendered)
			}
			if tt.events != nil {
				diff(t, ev.get(), tt.events)
			}
			if n := len(res.Steps); n != 7 {
				t.Errorf("%d step results, want 7", n)
			}
		})
	}
}

func TestBranchNoMatchNoDefault(t *testing.T) {
	e, _ := newEngine(t, nil)
	p := load(t, e, `
name: br
steps:
  - id: route
    type: branch
    on: "'nope'"
    branches:
      yes: [{id: y, type: fake}]
`)
	res := mustRun(t, t.Context(), e, p, nil)
	if res.Status != "success" || res.Steps["route"].Output["branch"] != "" || res.Steps["y"].SkipReason != "branch not taken" {
		t.Errorf("%s %v", summary(res), res.Steps["route"].Output)
	}
}

func TestBranchFailure(t *testing.T) {
	e, _ := newEngine(t, nil)
	p := load(t, e, `
name: br
steps:
  - id: route
    type: branch
    on: "true"
    branches:
      "true": [{id: y, type: fake, fail: network, retry: {max_attempts: 2, initial_delay_ms: 1, max_delay_ms: 1}}]
`)
	res := mustRun(t, t.Context(), e, p, nil)
	if got, want := summary(res), "route:failure:network:1 y:failure:network:2"; got != want {
		t.Errorf("steps %s, want %s", got, want)
	}
}

func TestLoadProblems(t *testing.T) {
	e, _ := newEngine(t, nil)
	_, err := e.Load("bad.yaml", []byte(`name: bad
inputs:
  ticket: {required: true}
steps:
  - {id: a, type: fake, template: "{{ steps.b.value }}"}
  - {id: b, type: fake, template: "{{ steps.nope.x }} {{ inputs.missing }} {{ ticket }}"}
  - {id: c, type: fake, provider: nowhere}
  - {id: d, type: fake, provider: keyless, bogus: 1}
  - {id: e, type: fake, condition: "steps.a.value ==", depends_on: [a]}
  - {id: f, type: fake, template: "{{#if x}}"}
  - id: p
    type: parallel
    tasks:
      - {id: t1, type: fake, template: "{{ steps.t2.value }}"}
      - {id: t2, type: fake}
  - {id: g, type: fake, template: "{{ steps.t1.value }}", depends_on: [p]}
`))
	var probs workflow.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want workflow.Problems", err)
	}
	want := []string{
		`bad.yaml:5:35: step "a": template references step "b", which is not an ancestor (add it to depends_on)`,
		`bad.yaml:6:35: step "b": template references input "missing", which is not declared in inputs`,
		`bad.yaml:6:35: step "b": template references unknown step "nope"`,
		`bad.yaml:7:35: step "c": unknown provider "nowhere" (known: keyless, myfake, secure)`,
		`bad.yaml:8:35: step "d": provider "keyless": FAKE_API_KEY is not set`,
		`bad.yaml:8:44: step "d": unknown key "bogus"`,
		`bad.yaml:9:36: step "e": expression: 1:16: unexpected token EOF`,
		`bad.yaml:10:35: step "f": template: 1:1: unclosed {{#if}}: missing {{/if}}`,
		`bad.yaml:14:40: step "t1": template references step "t2", which is not an ancestor (add it to depends_on)`,
	}
	diff(t, strings.Split(probs.Error(), "\n"), want)
}

func TestLoadFatal(t *testing.T) {
	e, _ := newEngine(t, nil)
	_, err := e.Load("x.yaml", []byte("name: [unclosed"))
	var probs workflow.Problems
	if !errors.As(err, &probs) || len(probs) == 0 {
		t.Errorf("err = %v, want a syntax problem", err)
	}
}

func TestNestedTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, ev := newEngine(t, newRecorder())
		p := load(t, e, `
name: nt
timeout_seconds: 5
steps:
  - id: capped
    type: parallel
    timeout_seconds: 1
    tasks:
      - {id: c1, type: fake, sleep_ms: 3000}
      - {id: c2, type: fake, depends_on: [c1]}
  - id: long
    type: parallel
    tasks:
      - {id: l1, type: fake, sleep_ms: 10000}
      - {id: l2, type: fake, sleep_ms: 100}
`)
		res := mustRun(t, t.Context(), e, p, nil)
		want := `c1:failure:timeout:1 c2:skipped(dependency "c1" failed) capped:failure:timeout:1 l1:failure:timeout:1 l2:success:1 long:failure:timeout:1`
		if got := summary(res); got != want {
			t.Errorf("steps:\n got %s\nwant %s", got, want)
		}
		if res.Error.Type != "timeout" || res.Duration != 5*time.Second {
			t.Errorf("run %+v after %v, want timeout after 5s", res.Error, res.Duration)
		}
		if m := res.Steps["capped"].Error.Message; !strings.HasPrefix(m, "attempt timed out after 1s: step \"c1\" failed: ") {
			t.Errorf("capped error %q", m)
		}
		starts, ends := 0, 0
		for _, l := range ev.get() {
			if strings.HasPrefix(l, "step start") {
				starts++
			}
			if strings.HasPrefix(l, "step end") {
				ends++
			}
		}
		if starts != 5 || ends != 6 {
			t.Errorf("%d StepStart and %d StepEnd, want 5 and 6", starts, ends)
		}
	})
}

func TestNestedTypeProblems(t *testing.T) {
	e, _ := newEngine(t, nil)
	_, err := e.Load("n.yaml", []byte(`name: n
steps:
  - {id: p, type: parallel, tasks: [], max_concurrency: -1}
  - {id: b, type: branch, on: "1 +"}
  - {id: c, type: branch, on: "true"}
`))
	var probs workflow.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v", err)
	}
	diff(t, strings.Split(probs.Error(), "\n"), []string{
		`n.yaml:3:36: step "p": tasks must not be empty`,
		`n.yaml:3:57: step "p": max_concurrency must not be negative, got -1`,
		`n.yaml:4:5: step "b": a branch needs at least one list in branches or default`,
		`n.yaml:4:31: step "b": expression: 1:3: unexpected token EOF`,
		`n.yaml:5:5: step "c": a branch needs at least one list in branches or default`,
	})
}

func TestFailFastIsRunWide(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, ev := newEngine(t, newRecorder())
		p := load(t, e, `
name: wide
steps:
  - id: chain
    type: parallel
    tasks:
      - {id: t1, type: fake, sleep_ms: 2000}
      - {id: t2, type: fake, depends_on: [t1]}
  - {id: bad, type: fake, sleep_ms: 1000, fail: auth}
  - {id: later, type: fake, sleep_ms: 500}
  - {id: after_later, type: fake, depends_on: [later]}
`)
		res := mustRun(t, t.Context(), e, p, nil)
		// later and after_later finish before bad fails; t2 would start
		// after it failed.
		want := `after_later:success:1 bad:failure:auth:1 chain:failure:canceled:1 later:success:1 t1:success:1 t2:skipped(run stopped after a failure)`
		if got := summary(res); got != want {
			t.Errorf("steps:\n got %s\nwant %s", got, want)
		}
		if res.Error.Type != "step_failed" || res.Error.Message != `step "bad" failed: fake failure on attempt 1` {
			t.Errorf("run error %+v, want the first failure", res.Error)
		}
		if m := res.Steps["chain"].Error.Message; m != "nested steps did not all run: run stopped after a failure" {
			t.Errorf("chain error %q", m)
		}
		diff(t, ev.sorted(), []string{
			"run end wide failure step_failed",
			"run start wide",
			"step end after_later fake success  attempts=1",
			"step end bad fake failure auth attempts=1",
			"step end chain parallel failure canceled attempts=1",
			"step end later fake success  attempts=1",
			"step end t1 fake success  attempts=1",
			"step end t2 fake skipped (run stopped after a failure) attempts=0",
			"step start after_later fake",
			"step start bad fake",
			"step start chain parallel",
			"step start later fake",
			"step start t1 fake",
		})
	})
}
