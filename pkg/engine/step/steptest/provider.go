package steptest

import (
	"context"
	"hash/fnv"
	"math"
	"sync"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
)

// Provider is a scripted fake provider.Provider. It records every request.
// With a nil ChatFunc, Chat answers "echo: PROMPT" with usage len/4; with a
// nil EmbedFunc, Embed answers HashVector(text, 8) per input. Safe for
// concurrent use.
type Provider struct {
	ChatFunc  func(ctx context.Context, req provider.ChatRequest) (*provider.ChatResponse, error)
	EmbedFunc func(ctx context.Context, req provider.EmbedRequest) (*provider.EmbedResponse, error)

	mu     sync.Mutex
	chats  []provider.ChatRequest
	embeds []provider.EmbedRequest
}

var _ provider.Provider = (*Provider)(nil)

// Chat records req and answers it.
func (p *Provider) Chat(ctx context.Context, req provider.ChatRequest) (*provider.ChatResponse, error) {
	p.mu.Lock()
	p.chats = append(p.chats, req)
	p.mu.Unlock()
	if p.ChatFunc != nil {
		return p.ChatFunc(ctx, req)
	}
	text := "echo: " + req.Prompt
	return &provider.ChatResponse{
		Text: text, Model: req.Model, FinishReason: "stop",
		Usage: provider.Usage{InputTokens: int64(len(req.System)+len(req.Prompt)) / 4, OutputTokens: int64(len(text)) / 4},
	}, nil
}

// Embed records req and answers it.
func (p *Provider) Embed(ctx context.Context, req provider.EmbedRequest) (*provider.EmbedResponse, error) {
	p.mu.Lock()
	p.embeds = append(p.embeds, req)
	p.mu.Unlock()
	if p.EmbedFunc != nil {
		return p.EmbedFunc(ctx, req)
	}
	resp := &provider.EmbedResponse{Model: req.Model}
	for _, s := range req.Input {
		resp.Vectors = append(resp.Vectors, HashVector(s, 8))
		resp.Usage.InputTokens += int64(len(s)) / 4
	}
	return resp, nil
}

// ChatRequests returns the chat requests seen so far.
func (p *Provider) ChatRequests() []provider.ChatRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]provider.ChatRequest(nil), p.chats...)
}

// EmbedRequests returns the embedding requests seen so far.
func (p *Provider) EmbedRequests() []provider.EmbedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]provider.EmbedRequest(nil), p.embeds...)
}

// HashVector returns a deterministic unit vector of dim dimensions derived
// from text: equal texts give equal vectors.
func HashVector(text string, dim int) []float64 {
	v := make([]float64, dim)
	var sum float64
	for i := range v {
		h := fnv.New64a()
		h.Write([]byte{byte(i), byte(i >> 8)})
		h.Write([]byte(text))
		v[i] = float64(int64(h.Sum64()>>11))/float64(1<<52) - 1
		sum += v[i] * v[i]
	}
	for i := range v {
		v[i] /= math.Sqrt(sum)
	}
	return v
}
