package retry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/retry"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	errRetryable = &provider.Error{Type: errtype.ProviderError, StatusCode: 500, Message: "boom"}
	errPermanent = &provider.Error{Type: errtype.InvalidRequest, StatusCode: 400, Message: "bad"}
)

// record runs Do inside a synctest bubble with a function that always
// fails with err and returns the fake-clock waits between attempts.
func record(t *testing.T, p retry.Policy, err error, opts ...retry.Option) (waits []time.Duration, attempts int, final error) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		last := time.Now()
		attempts, final = retry.Do(t.Context(), p, func(ctx context.Context, attempt int) error {
			if attempt > 1 {
				waits = append(waits, time.Since(last))
			}
			last = time.Now()
			return err
		}, opts...)
	})
	return waits, attempts, final
}

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestBackoffWaits(t *testing.T) {
	tests := []struct {
		name string
		p    retry.Policy
		want []time.Duration
	}{
		{"exponential", retry.Policy{MaxAttempts: 5, Backoff: retry.Exponential, Initial: 100 * time.Millisecond, Max: time.Minute}, ms(100, 200, 400, 800)},
		{"exponential capped", retry.Policy{MaxAttempts: 6, Backoff: retry.Exponential, Initial: 100 * time.Millisecond, Max: 300 * time.Millisecond}, ms(100, 200, 300, 300, 300)},
		{"linear", retry.Policy{MaxAttempts: 5, Backoff: retry.Linear, Initial: 100 * time.Millisecond, Max: time.Minute}, ms(100, 200, 300, 400)},
		{"linear capped", retry.Policy{MaxAttempts: 5, Backoff: retry.Linear, Initial: 100 * time.Millisecond, Max: 250 * time.Millisecond}, ms(100, 200, 250, 250)},
		{"constant", retry.Policy{MaxAttempts: 4, Backoff: retry.Constant, Initial: 70 * time.Millisecond, Max: time.Minute}, ms(70, 70, 70)},
		{"no cap", retry.Policy{MaxAttempts: 4, Backoff: retry.Exponential, Initial: time.Second}, ms(1000, 2000, 4000)},
		{"single attempt", retry.Policy{MaxAttempts: 1, Backoff: retry.Exponential, Initial: time.Second}, nil},
		{"zero attempts means one", retry.Policy{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waits, attempts, err := record(t, tt.p, errRetryable)
			if fmt.Sprint(waits) != fmt.Sprint(tt.want) {
				t.Errorf("waits = %v, want %v", waits, tt.want)
			}
			if want := len(tt.want) + 1; attempts != want {
				t.Errorf("attempts = %d, want %d", attempts, want)
			}
			if !errors.Is(err, errRetryable) {
				t.Errorf("err = %v, want the last attempt's error", err)
			}
		})
	}
}

func TestDelayOverflow(t *testing.T) {
	p := retry.Policy{Backoff: retry.Exponential, Initial: time.Hour, Max: 0}
	if d := p.Delay(200); d <= 0 {
		t.Errorf("Delay(200) = %v, want a positive saturated value", d)
	}
	p.Backoff = retry.Linear
	if d := p.Delay(1 << 40); d <= 0 {
		t.Errorf("linear Delay(2^40) = %v, want a positive saturated value", d)
	}
}

func TestJitterBound(t *testing.T) {
	p := retry.Policy{MaxAttempts: 12, Backoff: retry.Exponential, Initial: 100 * time.Millisecond, Max: time.Second, Jitter: retry.DefaultJitter}
	var below int
	for range 200 {
		waits, _, _ := record(t, p, errRetryable)
		for i, w := range waits {
			d := p.Delay(i + 1)
			if w > d || w > p.Max || w < d/2 {
				t.Fatalf("retry %d waited %v, want within [%v, %v] and at most the cap %v", i+1, w, d/2, d, p.Max)
			}
			if w < d {
				below++
			}
		}
	}
	if below == 0 {
		t.Error("jitter never shortened a wait")
	}
}

func TestJitterDeterministicSource(t *testing.T) {
	p := retry.Policy{MaxAttempts: 3, Backoff: retry.Constant, Initial: time.Second, Max: time.Second, Jitter: 0.5}
	waits, _, _ := record(t, p, errRetryable, retry.WithRand(func() float64 { return 0.999999 }))
	for _, w := range waits {
		if w < 500*time.Millisecond || w > time.Second {
			t.Errorf("wait %v outside [500ms, 1s]", w)
		}
	}
	waits, _, _ = record(t, p, errRetryable, retry.WithRand(func() float64 { return 0 }))
	if fmt.Sprint(waits) != fmt.Sprint(ms(1000, 1000)) {
		t.Errorf("waits = %v, want [1s 1s] with rand 0", waits)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		max        time.Duration
		want       time.Duration
	}{
		{"honoured", 2 * time.Second, 30 * time.Second, 2 * time.Second},
		{"longer than backoff", 5 * time.Second, 30 * time.Second, 5 * time.Second},
		{"capped", 90 * time.Second, 10 * time.Second, 10 * time.Second},
		{"uncapped", 90 * time.Second, 0, 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := &provider.Error{Type: errtype.RateLimit, StatusCode: 429, RetryAfter: tt.retryAfter}
			p := retry.Policy{MaxAttempts: 2, Backoff: retry.Exponential, Initial: 100 * time.Millisecond, Max: tt.max, Jitter: 0.5}
			var hook []string
			waits, attempts, _ := record(t, p, err, retry.OnRetry(func(attempt int, err error, wait time.Duration, fromRA bool) {
				hook = append(hook, fmt.Sprintf("%d %s %v %v", attempt, errtype.Of(err), wait, fromRA))
			}))
			if attempts != 2 || len(waits) != 1 || waits[0] != tt.want {
				t.Fatalf("attempts %d waits %v, want 2 attempts and one wait of %v", attempts, waits, tt.want)
			}
			if want := fmt.Sprintf("1 rate_limit %v true", tt.want); len(hook) != 1 || hook[0] != want {
				t.Errorf("OnRetry calls = %q, want [%q]", hook, want)
			}
		})
	}
}

func TestOnRetryReportsBackoff(t *testing.T) {
	p := retry.Policy{MaxAttempts: 3, Backoff: retry.Linear, Initial: time.Second, Max: time.Minute}
	var hook []string
	record(t, p, errRetryable, retry.OnRetry(func(attempt int, err error, wait time.Duration, fromRA bool) {
		hook = append(hook, fmt.Sprintf("%d %v %v", attempt, wait, fromRA))
	}))
	if want := "[1 1s false 2 2s false]"; fmt.Sprint(hook) != want {
		t.Errorf("OnRetry calls = %v, want %v", hook, want)
	}
}

func TestStopsAtOnce(t *testing.T) {
	p := retry.Policy{MaxAttempts: 5, Backoff: retry.Constant, Initial: time.Second}
	tests := []struct {
		name string
		err  error
	}{
		{"invalid_request", errPermanent},
		{"auth", &provider.Error{Type: errtype.Auth, StatusCode: 401}},
		{"template", errtype.New(errtype.Template, errors.New("bad"))},
		{"validation", errtype.New(errtype.Validation, errors.New("bad"))},
		{"untyped", errors.New("plain")},
		{"permanent timeout", retry.Permanent(errtype.New(errtype.Timeout, errors.New("slow")))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waits, attempts, err := record(t, p, tt.err)
			if attempts != 1 || len(waits) != 0 {
				t.Errorf("attempts %d waits %v, want exactly one attempt", attempts, waits)
			}
			if err == nil || err.Error() != tt.err.Error() {
				t.Errorf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

func TestRetryableTypes(t *testing.T) {
	for _, typ := range []errtype.Type{errtype.Timeout, errtype.RateLimit, errtype.ProviderError, errtype.Network} {
		t.Run(string(typ), func(t *testing.T) {
			_, attempts, _ := record(t, retry.Policy{MaxAttempts: 3, Initial: time.Millisecond}, errtype.New(typ, errors.New("x")))
			if attempts != 3 {
				t.Errorf("attempts = %d, want 3", attempts)
			}
		})
	}
}

func TestSucceedsAfterRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		attempts, err := retry.Do(t.Context(), retry.Policy{MaxAttempts: 5, Initial: time.Second, Max: time.Minute},
			func(ctx context.Context, attempt int) error {
				if attempt < 3 {
					return errRetryable
				}
				return nil
			})
		if attempts != 3 || err != nil {
			t.Errorf("Do = %d, %v; want 3, nil", attempts, err)
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("total wait %v, want 3s (1s + 2s)", got)
		}
	})
}

func TestCancelDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		cause := errtype.New(errtype.Timeout, errors.New("workflow timed out"))
		start := time.Now()
		go func() {
			time.Sleep(1500 * time.Millisecond)
			cancel(cause)
		}()
		attempts, err := retry.Do(ctx, retry.Policy{MaxAttempts: 10, Backoff: retry.Constant, Initial: time.Second},
			func(ctx context.Context, attempt int) error { return errRetryable })
		if attempts != 2 {
			t.Errorf("attempts = %d, want 2 (at 0s and 1s)", attempts)
		}
		if !errors.Is(err, cause) || errtype.Of(err) != errtype.Timeout {
			t.Errorf("err = %v (type %s), want the cancel cause", err, errtype.Of(err))
		}
		if got := time.Since(start); got != 1500*time.Millisecond {
			t.Errorf("returned after %v, want 1.5s (at the cancellation)", got)
		}
	})
}

func TestCanceledBeforeWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		attempts, err := retry.Do(ctx, retry.Policy{MaxAttempts: 3, Initial: time.Hour},
			func(ctx context.Context, attempt int) error {
				cancel()
				return errRetryable
			})
		if attempts != 1 || errtype.Of(err) != errtype.Canceled {
			t.Errorf("Do = %d, %v (type %s); want 1 attempt, canceled", attempts, err, errtype.Of(err))
		}
	})
}

func TestFromWorkflow(t *testing.T) {
	p := retry.FromWorkflow(workflow.DefaultRetry)
	want := retry.Policy{MaxAttempts: 3, Backoff: retry.Exponential, Initial: 100 * time.Millisecond, Max: 30 * time.Second, Jitter: retry.DefaultJitter}
	if p != want {
		t.Errorf("FromWorkflow(DefaultRetry) = %+v, want %+v", p, want)
	}
}
