package simulated

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/internal/httperr"
)

// Defaults of the simulated provider.
const (
	DefaultModel      = "sim-default"
	DefaultDimensions = 64   // embedding size when the request gives none
	MaxDimensions     = 4096 // larger requests are invalid_request
)

// Option configures a simulated provider.
type Option func(*Provider)

// WithSleep replaces the wait that simulates latency. sleep must return
// promptly once ctx is done, with a non-nil error. The default waits on a
// time.Timer (which testing/synctest fakes) or ctx, whichever ends first.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(p *Provider) { p.sleep = sleep }
}

// Provider is the simulated provider. It is safe for concurrent use.
type Provider struct {
	sleep func(ctx context.Context, d time.Duration) error

	mu       sync.Mutex
	counters map[string]*atomic.Uint64 // calls per model, for failure sequences
}

var _ provider.Provider = (*Provider)(nil)

// New is the provider.Factory of kind simulated. cfg needs no key or URL.
func New(cfg provider.Config) (provider.Provider, error) { return NewFactory()(cfg) }

// NewFactory returns a provider.Factory building simulated providers with
// opts.
func NewFactory(opts ...Option) provider.Factory {
	return func(provider.Config) (provider.Provider, error) {
		p := &Provider{sleep: sleep, counters: map[string]*atomic.Uint64{}}
		for _, o := range opts {
			o(p)
		}
		return p, nil
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Chat answers deterministically; see the package documentation.
func (p *Provider) Chat(ctx context.Context, req provider.ChatRequest) (*provider.ChatResponse, error) {
	model := req.Model
	if model == "" {
		model = DefaultModel
	}
	b, err := behaviourOf(model, req.Extra)
	if err != nil {
		return nil, err
	}
	seed := hash(model, req.System, req.Prompt)
	latency := b.latency(seed)
	failErr := p.failure(model, b)

	text, err := answer(seed, req.Prompt, req.Extra)
	if err != nil {
		return nil, err
	}
	finish := "stop"
	if req.MaxTokens != nil {
		if words := strings.Fields(text); Tokens(text) > *req.MaxTokens {
			n := int(max(*req.MaxTokens, 0) * 3 / 4)
			text = strings.Join(words[:min(n, len(words))], " ")
			finish = "length"
		}
	}
	resp := &provider.ChatResponse{
		Text:         text,
		Model:        model,
		FinishReason: finish,
		Usage:        provider.Usage{InputTokens: Tokens(req.System) + Tokens(req.Prompt), OutputTokens: Tokens(text)},
	}
	if !req.Stream {
		if err := p.wait(ctx, latency); err != nil {
			return nil, err
		}
		if failErr != nil {
			return nil, failErr
		}
		return resp, nil
	}
	// Streaming: the first chunk after half the latency, the others spread
	// evenly over the other half.
	first := latency / 2
	if err := p.wait(ctx, first); err != nil {
		return nil, err
	}
	if failErr != nil {
		return nil, failErr
	}
	chunks := strings.SplitAfter(text, " ")
	rest, gaps := latency-first, time.Duration(max(len(chunks)-1, 1))
	at := time.Duration(0) // offset of the previous chunk within rest
	for i, c := range chunks {
		if i > 0 {
			next := rest * time.Duration(i) / gaps
			if err := p.wait(ctx, next-at); err != nil {
				return nil, err
			}
			at = next
		}
		if c != "" && req.OnChunk != nil {
			req.OnChunk(c)
		}
	}
	if err := p.wait(ctx, rest-at); err != nil { // only a single chunk leaves time here
		return nil, err
	}
	return resp, nil
}

// Embed returns one deterministic unit vector per input; see the package
// documentation.
func (p *Provider) Embed(ctx context.Context, req provider.EmbedRequest) (*provider.EmbedResponse, error) {
	model := req.Model
	if model == "" {
		model = "sim-embed"
	}
	if len(req.Input) == 0 {
		return nil, invalid("embedding request has no input")
	}
	dims := req.Dimensions
	if dims == 0 {
		dims = DefaultDimensions
	}
	if dims < 0 || dims > MaxDimensions {
		return nil, invalid(fmt.Sprintf("dimensions %d out of range 1..%d", req.Dimensions, MaxDimensions))
	}
	b, err := behaviourOf(model, nil)
	if err != nil {
		return nil, err
	}
	failErr := p.failure(model, b)
	resp := &provider.EmbedResponse{Model: model, Vectors: make([][]float64, len(req.Input))}
	for i, in := range req.Input {
		resp.Vectors[i] = Vector(in, dims)
		resp.Usage.InputTokens += Tokens(in)
	}
	if err := p.wait(ctx, b.latency(hash(model, strings.Join(req.Input, "\x00")))); err != nil {
		return nil, err
	}
	if failErr != nil {
		return nil, failErr
	}
	return resp, nil
}

func (p *Provider) wait(ctx context.Context, d time.Duration) error {
	if err := p.sleep(ctx, d); err != nil {
		if ctx.Err() != nil {
			return httperr.FromContext(ctx)
		}
		return err
	}
	return nil
}

// failure counts the call and returns the error it must fail with, if any.
func (p *Provider) failure(model string, b behaviour) error {
	if b.failPerMille == 0 {
		return nil
	}
	p.mu.Lock()
	c, ok := p.counters[model]
	if !ok {
		c = new(atomic.Uint64)
		p.counters[model] = c
	}
	p.mu.Unlock()
	n := c.Add(1) - 1
	if !Fails(n, b.failPerMille) {
		return nil
	}
	msg := fmt.Sprintf("simulated failure of %s (call %d)", model, n)
	if b.failType == errtype.RateLimit {
		return &provider.Error{Type: errtype.RateLimit, StatusCode: http.StatusTooManyRequests, RetryAfter: time.Second, Message: msg}
	}
	return &provider.Error{Type: errtype.ProviderError, StatusCode: http.StatusInternalServerError, Message: msg}
}

// Fails reports whether call n (from 0) of a model failing perMille calls in
// a thousand fails: the first call fails, then failures are spread evenly
// (perMille 300 fails calls 0, 4, 7, 10, 14, ...; 500 fails every other
// call; 1000 fails all; 0 none).
func Fails(n uint64, perMille int) bool {
	r, off := uint64(perMille), uint64(1000-perMille)
	return ((n+1)*r+off)/1000 > (n*r+off)/1000
}

type behaviour struct {
	minLatency, maxLatency time.Duration
	failPerMille           int
	failType               errtype.Type
}

func (b behaviour) latency(seed uint64) time.Duration {
	span := b.maxLatency - b.minLatency
	if span <= 0 {
		return b.minLatency
	}
	return b.minLatency + time.Duration(seed%uint64(span/time.Millisecond+1))*time.Millisecond
}

// behaviourOf resolves a model name (by prefix) and the extra parameters
// latency_ms and fail_rate into a behaviour.
func behaviourOf(model string, extra map[string]any) (behaviour, error) {
	b := behaviour{minLatency: 20 * time.Millisecond, maxLatency: 80 * time.Millisecond, failType: errtype.ProviderError}
	switch {
	case strings.HasPrefix(model, "sim-fast"):
		b.minLatency, b.maxLatency = 0, 0
	case strings.HasPrefix(model, "sim-slow"):
		b.minLatency, b.maxLatency = time.Second, 3*time.Second
	case strings.HasPrefix(model, "sim-flaky"):
		b.failPerMille = 300
	case strings.HasPrefix(model, "sim-ratelimit"):
		b.failPerMille, b.failType = 500, errtype.RateLimit
	case strings.HasPrefix(model, "sim-broken"):
		b.failPerMille = 1000
	case strings.HasPrefix(model, "sim-embed"):
		b.minLatency, b.maxLatency = 5*time.Millisecond, 15*time.Millisecond
	}
	if v, ok := extra["latency_ms"]; ok {
		ms, ok := number(v)
		if !ok || ms < 0 || ms > 10*60*1000 {
			return b, invalid(fmt.Sprintf("latency_ms must be a number of milliseconds in 0..600000, got %v", v))
		}
		b.minLatency = time.Duration(ms * float64(time.Millisecond))
		b.maxLatency = b.minLatency
	}
	if v, ok := extra["fail_rate"]; ok {
		r, ok := number(v)
		if !ok || r < 0 || r > 1 {
			return b, invalid(fmt.Sprintf("fail_rate must be a number in 0..1, got %v", v))
		}
		b.failPerMille = int(math.Round(r * 1000))
	}
	return b, nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func invalid(msg string) error {
	return &provider.Error{Type: errtype.InvalidRequest, StatusCode: http.StatusBadRequest, Message: msg}
}

// answer returns the reply text: the extra parameter response, one of
// choices picked by the seed, or generated sentences.
func answer(seed uint64, prompt string, extra map[string]any) (string, error) {
	if v, ok := extra["response"]; ok {
		s, ok := v.(string)
		if !ok {
			return "", invalid(fmt.Sprintf("response must be a string, got %T", v))
		}
		return s, nil
	}
	if v, ok := extra["choices"]; ok {
		list, _ := v.([]any)
		var choices []string
		for _, c := range list {
			if s, ok := c.(string); ok {
				choices = append(choices, s)
			}
		}
		if len(choices) == 0 || len(choices) != len(list) {
			return "", invalid("choices must be a non-empty list of strings")
		}
		return choices[seed%uint64(len(choices))], nil
	}
	rng := rand.New(rand.NewPCG(seed, seed>>7|1))
	words := strings.Fields(prompt)
	topic := strings.Join(words[:min(8, len(words))], " ")
	if len(words) > 8 {
		topic += " …"
	}
	var b strings.Builder
	if topic != "" {
		fmt.Fprintf(&b, "Simulated answer about %q.", topic)
	} else {
		b.WriteString("Simulated answer.")
	}
	for range 2 + rng.IntN(3) {
		b.WriteString(" ")
		b.WriteString(sentences[rng.IntN(len(sentences))])
	}
	return b.String(), nil
}

var sentences = [...]string{
	"The request was reviewed against the available context.",
	"The most relevant facts point to a clear conclusion.",
	"Several details support this reading of the input.",
	"A short summary follows from the key points.",
	"The customer should receive a prompt and polite reply.",
	"No further action is needed at this stage.",
	"The evidence suggests a routine case.",
	"Escalation may be useful if the issue persists.",
	"The answer stays within the information provided.",
	"Each step of the reasoning is deterministic.",
	"The tone remains neutral and helpful.",
	"A follow-up check is recommended within a week.",
	"This outcome matches similar past requests.",
	"The main risk is low and well understood.",
	"Key terms from the prompt were taken into account.",
	"The result can be verified independently.",
}

// Tokens is the simulated token count of s: four tokens for every three
// words, rounded.
func Tokens(s string) int64 {
	return (int64(len(strings.Fields(s)))*4 + 1) / 3
}

// Vector is the simulated embedding of text: a unit vector of dims
// dimensions built with the hashing trick over the lower-cased words of
// text and their character trigrams, so that texts sharing words (or word
// stems) have a higher cosine similarity. Equal texts give equal vectors.
func Vector(text string, dims int) []float64 {
	v := make([]float64, dims)
	add := func(feature string, weight float64) {
		h := hash(feature)
		sign := 1.0
		if h>>63 == 1 {
			sign = -1
		}
		v[h%uint64(dims)] += sign * weight
	}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, w := range words {
		add("w:"+w, 1)
		padded := []rune("^" + w + "$")
		for i := 0; i+3 <= len(padded); i++ {
			add("t:"+string(padded[i:i+3]), 0.25)
		}
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	if norm == 0 { // no words: a unit vector picked by the text itself
		v[hash("text:"+text)%uint64(dims)] = 1
		return v
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] /= norm
	}
	return v
}

func hash(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}
