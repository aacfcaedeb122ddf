package retry_test

import (
	"context"
	"testing"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/retry"
)

type call struct {
	attempt int
	err     error
	wait    time.Duration
	fromRA  bool
}

type notifier struct{ calls []call }

func (n *notifier) Retrying(attempt int, err error, wait time.Duration, fromRetryAfter bool) {
	n.calls = append(n.calls, call{attempt, err, wait, fromRetryAfter})
}

// Notify sees the same retries, with the same arguments, as OnRetry.
func TestNotifyMatchesOnRetry(t *testing.T) {
	p := retry.Policy{MaxAttempts: 3, Backoff: retry.Constant, Initial: time.Second}
	var n notifier
	var want []call
	_, attempts, _ := record(t, p, errRetryable, retry.Notify(&n), retry.WithRand(func() float64 { return 0 }))
	_, _, _ = record(t, p, errRetryable, retry.OnRetry(func(attempt int, err error, wait time.Duration, fromRA bool) {
		want = append(want, call{attempt, err, wait, fromRA})
	}), retry.WithRand(func() float64 { return 0 }))
	if attempts != 3 || len(n.calls) != 2 || len(want) != 2 {
		t.Fatalf("attempts %d, notified %v, OnRetry %v", attempts, n.calls, want)
	}
	for i := range want {
		if n.calls[i] != want[i] {
			t.Errorf("retry %d: Notify got %+v, OnRetry got %+v", i+1, n.calls[i], want[i])
		}
	}
}

// A first attempt that succeeds allocates nothing with a Notifier.
func TestDoFirstAttemptAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	p := retry.Policy{MaxAttempts: 3}
	n := &notifier{}
	ok := func(context.Context, int) error { return nil }
	if allocs := testing.AllocsPerRun(100, func() { _, _ = retry.Do(ctx, p, ok, retry.Notify(n)) }); allocs != 0 {
		t.Errorf("Do allocated %v times per call, want 0", allocs)
	}
}
