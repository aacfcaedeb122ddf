package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestIndependentStepsOverlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		e, _ := newEngine(t, rec)
		p := load(t, e, `
name: fan
steps:
  - {id: a, type: fake, sleep_ms: 1000}
  - {id: b, type: fake, sleep_ms: 1000, depends_on: [a]}
  - {id: c, type: fake, sleep_ms: 1000, depends_on: [a]}
  - {id: d, type: fake, sleep_ms: 1000, depends_on: [a]}
  - {id: slow, type: fake, sleep_ms: 5000}
  - {id: e, type: fake, depends_on: [b, c, d]}
`)
		res := mustRun(t, t.Context(), e, p, nil)
		if res.Status != "success" {
			t.Fatalf("status %s: %s", res.Status, summary(res))
		}
		if got := rec.peakRunning(); got != 4 {
			t.Errorf("peak concurrency %d, want 4 (b, c, d and slow overlap)", got)
		}
		for id, want := range map[string]time.Duration{"b": time.Second, "c": time.Second, "d": time.Second, "e": 2 * time.Second} {
			if got, _ := rec.started(id); got != want {
				t.Errorf("%s started at %v, want %v (it must not wait for unrelated steps)", id, got, want)
			}
		}
		if res.Duration != 5*time.Second {
			t.Errorf("run took %v, want 5s", res.Duration)
		}
	})
}

func TestMaxConcurrency(t *testing.T) {
	const wf = `
name: wide
max_concurrency: 2
steps:
  - {id: a, type: fake, sleep_ms: 100}
  - {id: b, type: fake, sleep_ms: 100}
  - {id: c, type: fake, sleep_ms: 100}
  - {id: d, type: fake, sleep_ms: 100}
  - {id: e, type: fake, sleep_ms: 100}
  - id: p
    type: parallel
    max_concurrency: 3
    tasks:
      - {id: t1, type: fake, sleep_ms: 100}
      - {id: t2, type: fake, sleep_ms: 100}
      - {id: t3, type: fake, sleep_ms: 100}
      - {id: t4, type: fake, sleep_ms: 100}
      - {id: t5, type: fake, sleep_ms: 100}
      - {id: t6, type: fake, sleep_ms: 100}
    depends_on: [a, b, c, d, e]
`
	tests := []struct {
		name string
		opts []engine.Option
		want int
	}{
		{"workflow limit, then parallel's own", nil, 3},
		{"engine override", []engine.Option{engine.WithMaxConcurrency(1)}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				e, _ := newEngine(t, rec, tt.opts...)
				res := mustRun(t, t.Context(), e, load(t, e, wf), nil)
				if res.Status != "success" || rec.peakRunning() != tt.want {
					t.Errorf("status %s, peak %d; want success, %d", res.Status, rec.peakRunning(), tt.want)
				}
			})
		})
	}
	t.Run("top level only", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			for _, c := range []struct {
				opts []engine.Option
				want int
			}{{nil, 2}, {[]engine.Option{engine.WithMaxConcurrency(1)}, 1}, {[]engine.Option{engine.WithMaxConcurrency(5)}, 5}} {
				rec := newRecorder()
				e, _ := newEngine(t, rec, c.opts...)
				src := strings.Split(wf, "  - id: p")[0]
				res := mustRun(t, t.Context(), e, load(t, e, src), nil)
				if res.Status != "success" || rec.peakRunning() != c.want {
					t.Errorf("status %s, peak %d; want success, %d", res.Status, rec.peakRunning(), c.want)
				}
			}
		})
	})
}

func TestFailFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		e, ev := newEngine(t, rec)
		p := load(t, e, `
name: ff
steps:
  - {id: bad, type: fake, sleep_ms: 1000, fail: invalid_request}
  - {id: long, type: fake, sleep_ms: 3000}
  - {id: after_bad, type: fake, depends_on: [bad]}
  - {id: after_long, type: fake, depends_on: [long]}
  - {id: last, type: fake, depends_on: [after_bad, after_long]}
`)
		res := mustRun(t, t.Context(), e, p, nil)
		want := `after_bad:skipped(dependency "bad" failed) after_long:skipped(run stopped after a failure) bad:failure:invalid_request:1 last:skipped(run stopped after a failure) long:success:1`
		if got := summary(res); got != want {
			t.Errorf("steps:\n got %s\nwant %s", got, want)
		}
		if res.Status != "failure" || res.Error == nil || res.Error.Type != "step_failed" ||
			res.Error.Message != `step "bad" failed: fake failure on attempt 1` {
			t.Errorf("run status %s error %+v", res.Status, res.Error)
		}
		if res.Duration != 3*time.Second {
			t.Errorf("duration %v, want 3s: the running step finishes", res.Duration)
		}
		if len(res.Outputs) != 0 {
			t.Errorf("outputs %v, want none (no sink succeeded)", res.Outputs)
		}
		diff(t, ev.sorted(), []string{
			`run end ff failure step_failed`,
			`run start ff`,
			`step end after_bad fake skipped (dependency "bad" failed) attempts=0`,
			`step end after_long fake skipped (run stopped after a failure) attempts=0`,
			`step end bad fake failure invalid_request attempts=1`,
			`step end last fake skipped (run stopped after a failure) attempts=0`,
			`step end long fake success  attempts=1`,
			`step start bad fake`,
			`step start long fake`,
		})
	})
}

func TestExactEventsLinear(t *testing.T) {
	e, ev := newEngine(t, nil)
	p := load(t, e, `
name: lin
steps:
  - {id: a, type: fake, value: x}
  - {id: b, type: fake, read: a, depends_on: [a]}
  - {id: c, type: fake, provider: myfake, model: ok, depends_on: [b]}
`)
	res := mustRun(t, t.Context(), e, p, nil)
	diff(t, ev.get(), []string{
		"run start lin",
		"step start a fake",
		"step end a fake success  attempts=1",
		"step start b fake",
		"step end b fake success  attempts=1",
		"step start c fake",
		"provider c myfake/fake chat ok model=ok-v2 status=success  in=10 out=5 stream=false ttfc=false server=127.0.0.1:8089",
		"step end c fake success  attempts=1",
		"run end lin success ",
	})
	if got := res.Steps["b"].Output["read"]; got != "x" {
		t.Errorf("b read %v, want x", got)
	}
	if _, ok := res.Outputs["c"]; !ok || len(res.Outputs) != 1 {
		t.Errorf("outputs %v, want only the sink c", res.Outputs)
	}
}

func TestStepTimeoutPerAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, ev := newEngine(t, newRecorder())
		p := load(t, e, `
name: to
steps:
  - id: slow
    type: fake
    sleep_ms: 5000
    timeout_seconds: 1
    retry: {max_attempts: 3, backoff: constant, initial_delay_ms: 100, max_delay_ms: 100}
`)
		res := mustRun(t, t.Context(), e, p, nil)
		s := res.Steps["slow"]
		if s.Status != "failure" || s.Error.Type != "timeout" || s.Attempts != 3 {
			t.Fatalf("step %+v error %+v, want 3 timed-out attempts", s, s.Error)
		}
		if !strings.HasPrefix(s.Error.Message, "attempt timed out after 1s") {
			t.Errorf("message %q", s.Error.Message)
		}
		// Three 1 s attempts and two waits of 50-100 ms (jittered).
		if s.Duration < 3100*time.Millisecond || s.Duration > 3200*time.Millisecond {
			t.Errorf("step duration %v, want 3.1s to 3.2s", s.Duration)
		}
		if res.Error.Type != "step_failed" {
			t.Errorf("run error %+v, want step_failed", res.Error)
		}
		diff(t, ev.get(), []string{
			"run start to",
			"step start slow fake",
			`retry slow attempt=1 timeout provider="" retry_after=false`,
			`retry slow attempt=2 timeout provider="" retry_after=false`,
			"step end slow fake failure timeout attempts=3",
			"run end to failure step_failed",
		})
	})
}

func TestWorkflowTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, ev := newEngine(t, newRecorder())
		p := load(t, e, `
name: wto
timeout_seconds: 2
steps:
  - {id: quick, type: fake, sleep_ms: 500}
  - {id: slow, type: fake, sleep_ms: 10000}
  - {id: stubborn, type: fake, sleep_ms: 3000, ignore_ctx: true}
  - {id: after, type: fake, depends_on: [slow]}
`)
		res := mustRun(t, t.Context(), e, p, nil)
		want := `after:skipped(dependency "slow" failed) quick:success:1 slow:failure:timeout:1 stubborn:success:1`
		if got := summary(res); got != want {
			t.Errorf("steps:\n got %s\nwant %s", got, want)
		}
		if res.Status != "failure" || res.Error.Type != "timeout" || res.Error.Message != "workflow timed out after 2s" {
			t.Errorf("run %s %+v, want failure timeout", res.Status, res.Error)
		}
		if res.Duration != 3*time.Second {
			t.Errorf("duration %v, want 3s (a step ignoring ctx is waited for)", res.Duration)
		}
		diff(t, ev.sorted(), []string{
			"run end wto failure timeout",
			"run start wto",
			`step end after fake skipped (dependency "slow" failed) attempts=0`,
			"step end quick fake success  attempts=1",
			"step end slow fake failure timeout attempts=1",
			"step end stubborn fake success  attempts=1",
			"step start quick fake",
			"step start slow fake",
			"step start stubborn fake",
		})
	})
}

func TestWorkflowTimeoutDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, _ := newEngine(t, newRecorder())
		p := load(t, e, `
name: wto
timeout_seconds: 1.5
steps:
  - {id: flaky, type: fake, fail: network, retry: {max_attempts: 5, backoff: constant, initial_delay_ms: 4000, max_delay_ms: 4000}}
  - {id: never, type: fake, depends_on: [flaky]}
`)
		res := mustRun(t, t.Context(), e, p, nil)
		s := res.Steps["flaky"]
		if s.Status != "failure" || s.Error.Type != "timeout" || s.Attempts != 1 || res.Error.Type != "timeout" ||
			s.Error.Message != "attempt 1: fake failure on attempt 1; no retry: workflow timed out after 1.5s" {
			t.Errorf("step %+v %+v run %+v; want 1 attempt cut off in backoff, timeout", s, s.Error, res.Error)
		}
		if res.Duration != 1500*time.Millisecond {
			t.Errorf("duration %v, want 1.5s", res.Duration)
		}
	})
}

func TestCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, ev := newEngine(t, newRecorder())
		p := load(t, e, `
name: cx
steps:
  - {id: a, type: fake, sleep_ms: 10000, provider: myfake, model: slow}
  - {id: b, type: fake, depends_on: [a]}
`)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(500*time.Millisecond, cancel)
		res := mustRun(t, ctx, e, p, nil)
		want := `a:failure:canceled:1 b:skipped(dependency "a" failed)`
		if got := summary(res); got != want {
			t.Errorf("steps:\n got %s\nwant %s", got, want)
		}
		if res.Error == nil || res.Error.Type != "canceled" {
			t.Errorf("run error %+v, want canceled", res.Error)
		}
		diff(t, ev.get(), []string{
			"run start cx",
			"step start a fake",
			"provider a myfake/fake chat slow model= status=failure timeout in=0 out=0 stream=false ttfc=false server=127.0.0.1:8089",
			"step end a fake failure canceled attempts=1",
			`step end b fake skipped (dependency "a" failed) attempts=0`,
			"run end cx failure canceled",
		})
	})
}

func TestPanicInStep(t *testing.T) {
	e, ev := newEngine(t, newRecorder())
	p := load(t, e, `
name: boom
steps:
  - {id: a, type: fake, panic: true}
  - {id: b, type: fake, depends_on: [a]}
`)
	res := mustRun(t, t.Context(), e, p, nil)
	a := res.Steps["a"]
	if a.Status != "failure" || a.Error.Type != "execution_error" || a.Attempts != 1 ||
		a.Error.Message != "attempt 1 panicked: fake step exploded" {
		t.Errorf("a = %+v %+v", a, a.Error)
	}
	diff(t, ev.get(), []string{
		"run start boom",
		"step start a fake",
		"step end a fake failure execution_error attempts=1",
		`step end b fake skipped (dependency "a" failed) attempts=0`,
		"run end boom failure step_failed",
	})
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name       string
		step       string
		waits      []time.Duration // min, max per retry
		events     []string
		wantStatus string
	}{
		{
			name: "exponential",
			step: `{id: s, type: fake, fail: provider_error, fail_times: 3, retry: {max_attempts: 4, backoff: exponential, initial_delay_ms: 1000, max_delay_ms: 60000}}`,
			// Jitter draws from [d/2, d].
			waits: []time.Duration{500 * time.Millisecond, time.Second, time.Second, 2 * time.Second, 2 * time.Second, 4 * time.Second},
		},
		{
			name:  "linear",
			step:  `{id: s, type: fake, fail: network, fail_times: 3, retry: {max_attempts: 4, backoff: linear, initial_delay_ms: 1000, max_delay_ms: 60000}}`,
			waits: []time.Duration{500 * time.Millisecond, time.Second, time.Second, 2 * time.Second, 1500 * time.Millisecond, 3 * time.Second},
		},
		{
			name:  "constant capped",
			step:  `{id: s, type: fake, fail: timeout, fail_times: 3, retry: {max_attempts: 4, backoff: constant, initial_delay_ms: 1000, max_delay_ms: 1000}}`,
			waits: []time.Duration{500 * time.Millisecond, time.Second, 500 * time.Millisecond, time.Second, 500 * time.Millisecond, time.Second},
		},
		{
			name:  "retry-after",
			step:  `{id: s, type: fake, fail: rate_limit, fail_times: 3, retry_after_ms: 1500, retry: {max_attempts: 4, initial_delay_ms: 10, max_delay_ms: 60000}}`,
			waits: []time.Duration{1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond},
		},
		{
			name:  "retry-after capped",
			step:  `{id: s, type: fake, fail: rate_limit, fail_times: 3, retry_after_ms: 5000, retry: {max_attempts: 4, initial_delay_ms: 10, max_delay_ms: 2000}}`,
			waits: []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var starts []time.Time
				timer := &attemptTimes{mu: &mu, starts: &starts}
				e, ev := newEngine(t, newRecorder(), engine.WithObserver(timer))
				p := load(t, e, "name: r\nsteps:\n  - "+tt.step+"\n")
				res := mustRun(t, t.Context(), e, p, nil)
				if s := res.Steps["s"]; s.Status != "success" || s.Attempts != 4 {
					t.Fatalf("step %+v, want success after 4 attempts", s)
				}
				retries := 0
				for _, l := range ev.get() {
					if strings.HasPrefix(l, "retry s") {
						retries++
					}
				}
				if retries != 3 || len(timer.waits) != 3 {
					t.Fatalf("%d StepRetry events, waits %v; want 3", retries, timer.waits)
				}
				for i, w := range timer.waits {
					if lo, hi := tt.waits[2*i], tt.waits[2*i+1]; w < lo || w > hi {
						t.Errorf("retry %d waited %v, want within [%v, %v]", i+1, w, lo, hi)
					}
				}
			})
		})
	}
}

// attemptTimes records the Wait of every StepRetry.
type attemptTimes struct {
	observe.Nop
	mu     *sync.Mutex
	starts *[]time.Time
	waits  []time.Duration
}

func (a *attemptTimes) StepRetrying(_ context.Context, ev observe.StepRetry) {
	a.mu.Lock()
	a.waits = append(a.waits, ev.Wait)
	a.mu.Unlock()
}

func TestNotRetried(t *testing.T) {
	for _, typ := range []string{"invalid_request", "auth", "template", "validation", "execution_error"} {
		t.Run(typ, func(t *testing.T) {
			e, ev := newEngine(t, newRecorder())
			p := load(t, e, "name: nr\nsteps:\n  - {id: s, type: fake, fail: "+typ+"}\n")
			res := mustRun(t, t.Context(), e, p, nil)
			if s := res.Steps["s"]; s.Attempts != 1 || s.Error.Type != typ {
				t.Errorf("step %+v %+v, want one attempt of type %s", s, s.Error, typ)
			}
			for _, l := range ev.get() {
				if strings.HasPrefix(l, "retry") {
					t.Errorf("unexpected %s", l)
				}
			}
		})
	}
}

func TestProviderEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, ev := newEngine(t, nil)
		p := load(t, e, `
name: prov
steps:
  - {id: stream, type: fake, provider: secure, model: ok, stream: true}
  - {id: emb, type: fake, provider: myfake, model: vec, embed: true}
  - {id: broken, type: fake, provider: myfake, model: broken, depends_on: [stream, emb], retry: {max_attempts: 2, initial_delay_ms: 10, max_delay_ms: 10}}
`)
		res := mustRun(t, t.Context(), e, p, nil)
		if b := res.Steps["broken"]; b.Error == nil || b.Error.Type != "provider_error" || b.Error.Message != "provider_error (http 500): internal" {
			t.Errorf("broken = %+v %+v", b, b.Error)
		}
		diff(t, ev.sorted(), []string{
			"provider broken myfake/fake chat broken model= status=failure provider_error in=7 out=0 stream=false ttfc=false server=127.0.0.1:8089",
			"provider broken myfake/fake chat broken model= status=failure provider_error in=7 out=0 stream=false ttfc=false server=127.0.0.1:8089",
			"provider emb myfake/fake embeddings vec model=vec status=success  in=2 out=0 stream=false ttfc=false server=127.0.0.1:8089",
			"provider stream secure/fake chat ok model=ok-v2 status=success  in=10 out=5 stream=true ttfc=true server=llm.example.test:443",
			`retry broken attempt=1 provider_error provider="myfake" retry_after=false`,
			"run end prov failure step_failed",
			"run start prov",
			"step end broken fake failure provider_error attempts=2",
			"step end emb fake success  attempts=1",
			"step end stream fake success  attempts=1",
			"step start broken fake",
			"step start emb fake",
			"step start stream fake",
		})
	})
}

func TestTimeToFirstChunk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got time.Duration
		obs := &ttfc{got: &got}
		e, _ := newEngine(t, nil, engine.WithObserver(obs))
		p := load(t, e, "name: s\nsteps:\n  - {id: s, type: fake, provider: myfake, model: ok, stream: true}\n")
		mustRun(t, t.Context(), e, p, nil)
		if got != 100*time.Millisecond {
			t.Errorf("time to first chunk %v, want 100ms", got)
		}
	})
}

type ttfc struct {
	observe.Nop
	got *time.Duration
}

func (o *ttfc) ProviderRequestFinished(_ context.Context, ev observe.ProviderRequest) {
	*o.got = ev.TimeToFirstChunk
}

func TestNestedParallel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		e, ev := newEngine(t, rec)
		p := load(t, e, `
name: nest
steps:
  - {id: first, type: fake, value: one}
  - id: fan
    type: parallel
    depends_on: [first]
    tasks:
      - {id: t1, type: fake, sleep_ms: 1000, value: v1, read: first}
      - {id: t2, type: fake, sleep_ms: 1000, value: v2}
      - {id: t3, type: fake, value: v3, read: t1, depends_on: [t1]}
  - {id: after, type: fake, read: t3, depends_on: [fan]}
`)
		res := mustRun(t, t.Context(), e, p, nil)
		if res.Status != "success" || rec.peakRunning() != 2 {
			t.Fatalf("status %s peak %d: %s", res.Status, rec.peakRunning(), summary(res))
		}
		if got := res.Steps["t1"].Output["read"]; got != "one" {
			t.Errorf("t1 read %v, want one (outputs of the parent's ancestors)", got)
		}
		if got := res.Steps["after"].Output["read"]; got != "v3" {
			t.Errorf("after read %v, want v3 (outputs nested in a dependency)", got)
		}
		results, _ := res.Steps["fan"].Output["results"].(map[string]any)
		if len(results) != 3 {
			t.Errorf("fan results %v, want the three task objects", results)
		}
		diff(t, ev.sorted(), []string{
			"run end nest success ",
			"run start nest",
			"step end after fake success  attempts=1",
			"step end fan parallel success  attempts=1",
			"step end first fake success  attempts=1",
			"step end t1 fake success  attempts=1",
			"step end t2 fake success  attempts=1",
			"step end t3 fake success  attempts=1",
			"step start after fake",
			"step start fan parallel",
			"step start first fake",
			"step start t1 fake",
			"step start t2 fake",
			"step start t3 fake",
		})
	})
}

func TestNestedFailure(t *testing.T) {
	e, ev := newEngine(t, newRecorder())
	p := load(t, e, `
name: nf
steps:
  - id: fan
    type: parallel
    max_concurrency: 1
    tasks:
      - {id: t1, type: fake, fail: auth}
      - {id: t2, type: fake}
      - id: inner
        type: parallel
        tasks:
          - {id: deep, type: fake}
  - {id: after, type: fake, depends_on: [fan]}
`)
	res := mustRun(t, t.Context(), e, p, nil)
	want := `after:skipped(dependency "fan" failed) deep:skipped(step "inner" was skipped: run stopped after a failure) fan:failure:auth:1 inner:skipped(run stopped after a failure) t1:failure:auth:1 t2:skipped(run stopped after a failure)`
	if got := summary(res); got != want {
		t.Errorf("steps:\n got %s\nwant %s", got, want)
	}
	if m := res.Steps["fan"].Error.Message; m != `step "t1" failed: fake failure on attempt 1` {
		t.Errorf("fan error %q", m)
	}
	lines := ev.get()
	// Nested steps end before their parent; the parent is not retried.
	if lines[len(lines)-3] != "step end fan parallel failure auth attempts=1" {
		t.Errorf("events: %s", strings.Join(lines, "\n"))
	}
}

func TestSkippedParentSkipsNested(t *testing.T) {
	e, ev := newEngine(t, newRecorder())
	p := load(t, e, `
name: sp
steps:
  - {id: bad, type: fake, fail: auth}
  - id: fan
    type: parallel
    depends_on: [bad]
    tasks:
      - {id: t1, type: fake}
`)
	mustRun(t, t.Context(), e, p, nil)
	diff(t, ev.get(), []string{
		"run start sp",
		"step start bad fake",
		"step end bad fake failure auth attempts=1",
		`step end t1 fake skipped (step "fan" was skipped: dependency "bad" failed) attempts=0`,
		`step end fan parallel skipped (dependency "bad" failed) attempts=0`,
		"run end sp failure step_failed",
	})
}

func TestOutputBinding(t *testing.T) {
	e, _ := newEngine(t, nil)
	p := load(t, e, `
name: ob
steps:
  - {id: a, type: fake, value: hello, output: [greeting]}
  - {id: c, type: fake}
  - {id: b, type: fake, value: x, output: [one, two], depends_on: [a, c]}
`)
	res := mustRun(t, t.Context(), e, p, nil)
	if got := res.Steps["a"].Output; got["greeting"] != "hello" || got["value"] != "hello" {
		t.Errorf("a output %v", got)
	}
	if b := res.Steps["b"]; b.Status != "failure" || b.Error.Type != "validation" ||
		b.Error.Message != "output lists 2 names but the step produced 1 values" {
		t.Errorf("b = %+v %+v", b, b.Error)
	}
	if got := res.Steps["c"].Output; got == nil {
		t.Errorf("c output is nil, want an empty object")
	}
}

func TestInputs(t *testing.T) {
	e, ev := newEngine(t, nil)
	p := load(t, e, `
name: in
inputs:
  ticket: {required: true}
  mode: {default: fast}
steps:
  - {id: a, type: fake}
`)
	for _, tt := range []struct {
		in   map[string]any
		want string
	}{
		{nil, `invalid inputs: missing required input "ticket"`},
		{map[string]any{"ticket": "t", "extra": 1}, `invalid inputs: unknown input "extra"`},
	} {
		_, err := e.Run(t.Context(), p, tt.in)
		if !errors.Is(err, engine.ErrInvalidInputs) || err.Error() != tt.want {
			t.Errorf("Run(%v) = %v, want %q", tt.in, err, tt.want)
		}
	}
	if l := ev.get(); len(l) != 0 {
		t.Errorf("invalid inputs emitted events: %v", l)
	}
	res := mustRun(t, t.Context(), e, p, map[string]any{"ticket": "t"})
	if res.Status != "success" {
		t.Errorf("status %s", res.Status)
	}
}

func TestConcurrentRunsOfOnePlan(t *testing.T) {
	rec := newRecorder()
	e, ev := newEngine(t, rec)
	p := load(t, e, `
name: many
steps:
  - {id: a, type: fake, value: x}
  - {id: b, type: fake, read: a, depends_on: [a]}
  - {id: c, type: fake, read: a, depends_on: [a], provider: myfake, model: ok}
  - id: fan
    type: parallel
    depends_on: [b, c]
    tasks:
      - {id: t1, type: fake, value: y}
      - {id: t2, type: fake, read: b}
`)
	var wg sync.WaitGroup
	results := make([]*engine.Result, 50)
	for i := range results {
		wg.Go(func() {
			res, err := e.Run(t.Context(), p, nil)
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = res
		})
	}
	wg.Wait()
	ids := map[string]bool{}
	for _, res := range results {
		if res == nil {
			continue
		}
		if res.Status != "success" || res.Steps["b"].Output["read"] != "x" {
			t.Errorf("run %s: %s", res.ID, summary(res))
		}
		ids[res.ID] = true
	}
	if len(ids) != 50 {
		t.Errorf("%d distinct run ids, want 50", len(ids))
	}
	if n := len(ev.get()); n != 50*(2+6*2+1) {
		t.Errorf("%d events, want %d", n, 50*(2+6*2+1))
	}
}

func TestRunOptions(t *testing.T) {
	e, _ := newEngine(t, nil)
	p := load(t, e, "name: o\nsteps:\n  - {id: a, type: fake}\n")
	own := &events{}
	res, err := e.Run(t.Context(), p, nil, engine.WithRunID("run-1"), engine.WithRunObserver(own))
	if err != nil || res.ID != "run-1" {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if n := len(own.get()); n != 4 {
		t.Errorf("run observer saw %d events, want 4", n)
	}
	if _, err := e.Run(t.Context(), nil, nil); err == nil {
		t.Error("Run(nil plan) succeeded")
	}
}
