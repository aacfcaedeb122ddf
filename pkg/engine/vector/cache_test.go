package vector

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCacheCorpus(t *testing.T) {
	c := NewCache()
	a, err := c.Corpus("testdata/vectors.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Corpus("./testdata/../testdata/vectors.jsonl")
	if err != nil || a != b {
		t.Errorf("second read not cached: %p %p %v", a, b, err)
	}
	if _, err := c.Corpus("testdata/absent.jsonl"); err == nil {
		t.Error("absent file: no error")
	}
}

func TestCacheIndexBuildsOnce(t *testing.T) {
	c := NewCache()
	corpus, err := c.Corpus("testdata/vectors.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var builds atomic.Int32
	release := make(chan struct{})
	build := func(ctx context.Context) (*Index, error) {
		builds.Add(1)
		<-release
		return corpus.Index(ctx, nil)
	}
	key := Key{Path: "testdata/vectors.jsonl"}
	const n = 20
	got := make([]*Index, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = c.Index(context.Background(), key, build) })
	}
	close(release)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i] == nil || got[i] != got[0] {
			t.Fatalf("caller %d: %p %v", i, got[i], errs[i])
		}
	}
	if builds.Load() != 1 {
		t.Errorf("built %d times", builds.Load())
	}
	// Another key builds separately.
	if _, err := c.Index(context.Background(), Key{Path: key.Path, Model: "m"}, build); err != nil || builds.Load() != 2 {
		t.Errorf("second key: %v, builds %d", err, builds.Load())
	}
}

func TestCacheIndexFailures(t *testing.T) {
	c := NewCache()
	key := Key{Path: "p"}
	boom := errors.New("boom")
	fail := func(context.Context) (*Index, error) { return nil, boom }
	if _, err := c.Index(context.Background(), key, fail); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	// Failures are not cached.
	ix := &Index{}
	if got, err := c.Index(context.Background(), key, func(context.Context) (*Index, error) { return ix, nil }); got != ix || err != nil {
		t.Errorf("after a failure: %p %v", got, err)
	}
	// A nil index without error is an error.
	if _, err := c.Index(context.Background(), Key{Path: "nil"}, func(context.Context) (*Index, error) { return nil, nil }); err == nil {
		t.Error("nil index: no error")
	}
}

// A waiter whose builder was cancelled builds again with its own context; a
// waiter whose own context ends stops waiting.
func TestCacheIndexCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewCache()
		key := Key{Path: "p"}
		ctx1, cancel1 := context.WithCancel(context.Background())
		var first error
		go func() {
			_, first = c.Index(ctx1, key, func(ctx context.Context) (*Index, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			})
		}()
		synctest.Wait() // the first caller is building

		ctx3, cancel3 := context.WithCancel(context.Background())
		var third error
		go func() { _, third = c.Index(ctx3, key, nil) }()

		ix := &Index{}
		var second *Index
		var secondErr error
		go func() {
			second, secondErr = c.Index(context.Background(), key, func(context.Context) (*Index, error) { return ix, nil })
		}()
		synctest.Wait() // both others are waiting
		cancel3()
		synctest.Wait()
		if !errors.Is(third, context.Canceled) {
			t.Errorf("waiter with a cancelled context: %v", third)
		}
		cancel1()
		synctest.Wait()
		if !errors.Is(first, context.Canceled) {
			t.Errorf("first caller: %v", first)
		}
		if second != ix || secondErr != nil {
			t.Errorf("second caller: %p %v", second, secondErr)
		}
	})
}
