package simulated_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/simulated"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder records the simulated latencies instead of sleeping.
type recorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sleeps = append(r.sleeps, d)
	return ctx.Err()
}

func (r *recorder) total() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var t time.Duration
	for _, d := range r.sleeps {
		t += d
	}
	return t
}

func newSim(t *testing.T, opts ...simulated.Option) provider.Provider {
	t.Helper()
	p, err := simulated.NewFactory(opts...)(provider.Config{Name: "simulated", Kind: "simulated"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLatencyByModel(t *testing.T) {
	tests := []struct {
		model    string
		extra    map[string]any
		min, max time.Duration
	}{
		{model: "sim-fast", min: 0, max: 0},
		{model: "sim-default", min: 20 * time.Millisecond, max: 80 * time.Millisecond},
		{model: "gpt-whatever", min: 20 * time.Millisecond, max: 80 * time.Millisecond},
		{model: "sim-slow", min: time.Second, max: 3 * time.Second},
		{model: "sim-embed", min: 5 * time.Millisecond, max: 15 * time.Millisecond},
		{model: "sim-slow", extra: map[string]any{"latency_ms": 250}, min: 250 * time.Millisecond, max: 250 * time.Millisecond},
		{model: "sim-fast", extra: map[string]any{"latency_ms": 12.5}, min: 12500 * time.Microsecond, max: 12500 * time.Microsecond},
	}
	for _, tc := range tests {
		for _, stream := range []bool{false, true} {
			rec := &recorder{}
			p := newSim(t, simulated.WithSleep(rec.sleep))
			for _, prompt := range []string{"a", "b c", "something longer here"} {
				rec.sleeps = nil
				if _, err := p.Chat(t.Context(), provider.ChatRequest{Model: tc.model, Prompt: prompt, Extra: tc.extra, Stream: stream}); err != nil {
					t.Fatalf("%s: %v", tc.model, err)
				}
				if got := rec.total(); got < tc.min || got > tc.max {
					t.Errorf("%s %v stream=%v: latency %v outside [%v, %v]", tc.model, tc.extra, stream, got, tc.min, tc.max)
				}
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	p1, p2 := newSim(t), newSim(t)
	req := provider.ChatRequest{Model: "sim-fast", System: "sys", Prompt: "Summarise the ticket about a late delivery"}
	a, err := p1.Chat(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p2.Chat(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if *a != *b {
		t.Errorf("same request, different answers: %+v vs %+v", a, b)
	}
	req.Prompt = "Something else entirely"
	c, err := p1.Chat(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if c.Text == a.Text {
		t.Errorf("different prompts, same text %q", a.Text)
	}
	if want := (provider.Usage{InputTokens: simulated.Tokens("sys") + simulated.Tokens(req.Prompt), OutputTokens: simulated.Tokens(c.Text)}); c.Usage != want {
		t.Errorf("usage = %+v, want %+v", c.Usage, want)
	}
	if c.Model != "sim-fast" || c.FinishReason != "stop" {
		t.Errorf("model/finish = %q/%q", c.Model, c.FinishReason)
	}
}

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{{"", 0}, {"one", 1}, {"one two", 3}, {"one two three", 4}, {"a b c d e f", 8}}
	for _, tc := range tests {
		if got := simulated.Tokens(tc.in); got != tc.want {
			t.Errorf("Tokens(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestFails(t *testing.T) {
	tests := []struct {
		perMille int
		want     []uint64 // failing calls among 0..14
	}{
		{0, nil},
		{300, []uint64{0, 4, 7, 10, 14}},
		{500, []uint64{0, 2, 4, 6, 8, 10, 12, 14}},
		{1000, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}},
	}
	for _, tc := range tests {
		var got []uint64
		for n := range uint64(15) {
			if simulated.Fails(n, tc.perMille) {
				got = append(got, n)
			}
		}
		if !equal(got, tc.want) {
			t.Errorf("Fails(·, %d) fails calls %v, want %v", tc.perMille, got, tc.want)
		}
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFailureSequences(t *testing.T) {
	tests := []struct {
		model      string
		extra      map[string]any
		wantFail   []bool
		wantType   errtype.Type
		wantStatus int
		wantAfter  time.Duration
	}{
		{model: "sim-flaky", wantFail: []bool{true, false, false, false, true, false, false, true},
			wantType: errtype.ProviderError, wantStatus: 500},
		{model: "sim-ratelimit", wantFail: []bool{true, false, true, false},
			wantType: errtype.RateLimit, wantStatus: 429, wantAfter: time.Second},
		{model: "sim-broken", wantFail: []bool{true, true, true}, wantType: errtype.ProviderError, wantStatus: 500},
		{model: "sim-flaky", extra: map[string]any{"fail_rate": 0}, wantFail: []bool{false, false}},
		{model: "sim-fast", extra: map[string]any{"fail_rate": 0.5}, wantFail: []bool{true, false, true},
			wantType: errtype.ProviderError, wantStatus: 500},
	}
	for _, tc := range tests {
		p := newSim(t, simulated.WithSleep((&recorder{}).sleep))
		for i, wantFail := range tc.wantFail {
			_, err := p.Chat(t.Context(), provider.ChatRequest{Model: tc.model, Prompt: "p", Extra: tc.extra})
			if (err != nil) != wantFail {
				t.Fatalf("%s call %d: err = %v, want failure %v", tc.model, i, err, wantFail)
			}
			if err == nil {
				continue
			}
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Type != tc.wantType || pe.StatusCode != tc.wantStatus || pe.RetryAfter != tc.wantAfter {
				t.Errorf("%s call %d: err = %#v, want %s/%d/%v", tc.model, i, err, tc.wantType, tc.wantStatus, tc.wantAfter)
			}
		}
	}
}

func TestConcurrentFailureCount(t *testing.T) {
	p := newSim(t, simulated.WithSleep((&recorder{}).sleep))
	const calls = 100
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			_, errs[i] = p.Chat(t.Context(), provider.ChatRequest{Model: "sim-flaky", Prompt: "p"})
		})
	}
	wg.Wait()
	failed, want := 0, 0
	for i := range calls {
		if errs[i] != nil {
			failed++
		}
		if simulated.Fails(uint64(i), 300) {
			want++
		}
	}
	if failed != want {
		t.Errorf("%d of %d concurrent calls failed, want %d", failed, calls, want)
	}
}

func TestContext(t *testing.T) {
	for _, stream := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			p := newSim(t)
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := p.Chat(ctx, provider.ChatRequest{Model: "sim-slow", Prompt: "p", Stream: stream})
			if errtype.Of(err) != errtype.Timeout {
				t.Fatalf("err = %v, want timeout", err)
			}
			if elapsed := time.Since(start); elapsed != 500*time.Millisecond {
				t.Errorf("returned after %v of fake time, want at the deadline", elapsed)
			}

			ctx, cancel = context.WithCancel(t.Context())
			time.AfterFunc(100*time.Millisecond, cancel)
			_, err = p.Chat(ctx, provider.ChatRequest{Model: "sim-slow", Prompt: "p", Stream: stream})
			if errtype.Of(err) != errtype.Canceled || !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want canceled", err)
			}
		})
	}
}

func TestStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newSim(t)
		var chunks []string
		var firstAt time.Duration
		start := time.Now()
		resp, err := p.Chat(t.Context(), provider.ChatRequest{Model: "sim-default", Prompt: "tell me a story", Stream: true,
			Extra: map[string]any{"latency_ms": 100},
			OnChunk: func(d string) {
				if chunks == nil {
					firstAt = time.Since(start)
				}
				chunks = append(chunks, d)
			}})
		if err != nil {
			t.Fatal(err)
		}
		if len(chunks) < 3 || strings.Join(chunks, "") != resp.Text {
			t.Errorf("chunks %q do not make up %q", chunks, resp.Text)
		}
		if firstAt != 50*time.Millisecond {
			t.Errorf("first chunk after %v, want half the latency", firstAt)
		}
		if total := time.Since(start); total != 100*time.Millisecond {
			t.Errorf("stream took %v of fake time, want the 100ms latency", total)
		}
	})
}

func TestMaxTokens(t *testing.T) {
	p := newSim(t)
	limit := int64(5)
	resp, err := p.Chat(t.Context(), provider.ChatRequest{Model: "sim-fast", Prompt: "explain everything in detail", MaxTokens: &limit})
	if err != nil {
		t.Fatal(err)
	}
	if resp.FinishReason != "length" || resp.Usage.OutputTokens > limit || resp.Usage.OutputTokens == 0 {
		t.Errorf("response = %+v, want a truncated answer of at most %d tokens", resp, limit)
	}
}

func TestExtraParams(t *testing.T) {
	tests := []struct {
		name     string
		extra    map[string]any
		want     []string // acceptable texts
		wantType errtype.Type
	}{
		{name: "response", extra: map[string]any{"response": "fixed"}, want: []string{"fixed"}},
		{name: "choices", extra: map[string]any{"choices": []any{"complaint", "question"}}, want: []string{"complaint", "question"}},
		{name: "unknown params ignored", extra: map[string]any{"top_p": 0.3, "response": "x"}, want: []string{"x"}},
		{name: "bad response", extra: map[string]any{"response": 3}, wantType: errtype.InvalidRequest},
		{name: "bad choices", extra: map[string]any{"choices": []any{"a", 1}}, wantType: errtype.InvalidRequest},
		{name: "empty choices", extra: map[string]any{"choices": []any{}}, wantType: errtype.InvalidRequest},
		{name: "bad latency", extra: map[string]any{"latency_ms": "fast"}, wantType: errtype.InvalidRequest},
		{name: "negative latency", extra: map[string]any{"latency_ms": -1}, wantType: errtype.InvalidRequest},
		{name: "fail_rate above 1", extra: map[string]any{"fail_rate": 1.5}, wantType: errtype.InvalidRequest},
	}
	p := newSim(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := p.Chat(t.Context(), provider.ChatRequest{Model: "sim-fast", Prompt: "classify this", Extra: tc.extra})
			if errtype.Of(err) != tc.wantType {
				t.Fatalf("err = %v, want type %q", err, tc.wantType)
			}
			if err != nil {
				return
			}
			for _, w := range tc.want {
				if resp.Text == w {
					return
				}
			}
			t.Errorf("text = %q, want one of %q", resp.Text, tc.want)
		})
	}
}

func cosine(a, b []float64) float64 {
	var dot float64
	for i := range a {
		dot += a[i] * b[i]
	}
	return dot
}

func TestEmbed(t *testing.T) {
	p := newSim(t, simulated.WithSleep((&recorder{}).sleep))
	inputs := []string{
		"How do I get a refund for my order?",
		"Refund policy for returned orders",
		"The weather in Paris is sunny today",
		"",
	}
	resp, err := p.Embed(t.Context(), provider.EmbedRequest{Model: "sim-embed", Input: inputs})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Vectors) != len(inputs) || resp.Model != "sim-embed" {
		t.Fatalf("got %d vectors, model %q", len(resp.Vectors), resp.Model)
	}
	for i, v := range resp.Vectors {
		if len(v) != simulated.DefaultDimensions {
			t.Errorf("vector %d has %d dims", i, len(v))
		}
		if n := math.Sqrt(cosine(v, v)); math.Abs(n-1) > 1e-9 {
			t.Errorf("vector %d has norm %v", i, n)
		}
	}
	if near, far := cosine(resp.Vectors[0], resp.Vectors[1]), cosine(resp.Vectors[0], resp.Vectors[2]); near <= far {
		t.Errorf("refund texts similarity %v <= unrelated similarity %v", near, far)
	}
	var wantTokens int64
	for _, in := range inputs {
		wantTokens += simulated.Tokens(in)
	}
	if resp.Usage != (provider.Usage{InputTokens: wantTokens}) {
		t.Errorf("usage = %+v, want %d input tokens", resp.Usage, wantTokens)
	}
	again, err := p.Embed(t.Context(), provider.EmbedRequest{Input: inputs[:1], Dimensions: 16})
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Vectors[0]; len(got) != 16 || cosine(got, simulated.Vector(inputs[0], 16)) < 1-1e-12 {
		t.Errorf("dimensions 16 vector = %v", got)
	}
	for _, bad := range []provider.EmbedRequest{{Input: nil}, {Input: []string{"x"}, Dimensions: -1}, {Input: []string{"x"}, Dimensions: simulated.MaxDimensions + 1}} {
		if _, err := p.Embed(t.Context(), bad); errtype.Of(err) != errtype.InvalidRequest {
			t.Errorf("Embed(%+v) err = %v, want invalid_request", bad, err)
		}
	}
}
