package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/internal/endpoint"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/internal/httperr"
)

// DefaultBaseURL is the Anthropic API.
const DefaultBaseURL = "https://api.anthropic.com"

// DefaultMaxTokens is sent when a request sets no max_tokens: the Messages
// API requires one.
const DefaultMaxTokens = 1024

// Provider talks to the Anthropic Messages API.
type Provider struct {
	messages sdk.MessageService
	key      string
	maxBytes int64
}

var _ provider.Provider = (*Provider)(nil)

// New builds an Anthropic provider. cfg.BaseURL defaults to DefaultBaseURL.
// cfg.APIKey is required for api.anthropic.com and whenever cfg.APIKeyEnv
// names the variable it should have come from (the error then names the
// variable, never a value); another base URL (a proxy or a compatible
// server) may go without. The SDK's retries and its own
// OpenTelemetry spans are off, and it reads no environment variable or
// profile: cfg is the whole configuration.
func New(cfg provider.Config) (provider.Provider, error) {
	base, client, err := endpoint.Resolve(cfg, DefaultBaseURL, "api.anthropic.com")
	if err != nil {
		return nil, err
	}
	opts := []option.RequestOption{
		option.WithBaseURL(base),
		option.WithHTTPClient(client),
		option.WithMaxRetries(0),
		option.WithoutOpenTelemetry(),
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	return &Provider{messages: sdk.NewMessageService(opts...), key: cfg.APIKey, maxBytes: cfg.MaxResponseBytes}, nil
}

// Chat sends one Messages request; see provider.Provider.
func (p *Provider) Chat(ctx context.Context, req provider.ChatRequest) (*provider.ChatResponse, error) {
	params := sdk.MessageNewParams{
		Model:     sdk.Model(req.Model),
		MaxTokens: DefaultMaxTokens,
		Messages:  []sdk.MessageParam{sdk.NewUserMessage(sdk.NewTextBlock(req.Prompt))},
	}
	if req.MaxTokens != nil {
		params.MaxTokens = *req.MaxTokens
	}
	if req.System != "" {
		params.System = []sdk.TextBlockParam{{Text: req.System}}
	}
	if req.Temperature != nil {
		params.Temperature = sdk.Float(*req.Temperature)
	}
	if len(req.Extra) > 0 {
		params.SetExtraFields(req.Extra)
	}
	call := httperr.NewCall(p.maxBytes, p.key)
	if req.Stream {
		return p.stream(ctx, call, params, req.OnChunk)
	}
	msg, err := p.messages.New(ctx, params, option.WithMiddleware(call.Middleware))
	if err != nil {
		return nil, call.Error(ctx, err, detail(err))
	}
	out := &provider.ChatResponse{Model: string(msg.Model), Usage: usage(msg.Usage)}
	if msg.StopReason == "" {
		return out, call.Errorf(errtype.ProviderError, "message has no stop_reason")
	}
	var text strings.Builder
	for _, b := range msg.Content {
		if b.Type == "text" {
			text.WriteString(b.Text)
		}
	}
	out.Text = text.String()
	out.FinishReason = finishReason(msg.StopReason)
	return out, nil
}

// stream sends a streamed Messages request and accumulates its text deltas.
func (p *Provider) stream(ctx context.Context, call *httperr.Call, params sdk.MessageNewParams, onChunk func(string)) (*provider.ChatResponse, error) {
	s := p.messages.NewStreaming(ctx, params, option.WithMiddleware(call.Middleware))
	defer s.Close()
	if err := s.Err(); err != nil {
		return nil, call.Error(ctx, err, detail(err))
	}
	if !call.IsEventStream() {
		_, h := call.Response()
		return nil, call.Errorf(errtype.ProviderError, "streamed response has content type %q, want text/event-stream", h.Get("Content-Type"))
	}
	var (
		text              strings.Builder
		out               provider.ChatResponse
		sawUsage, sawStop bool
		stopReason        sdk.StopReason
	)
	for s.Next() {
		ev := s.Current()
		switch ev.Type {
		case "message_start":
			sawUsage = true
			out.Model = string(ev.Message.Model)
			out.Usage = usage(ev.Message.Usage)
		case "content_block_delta":
			if ev.Delta.Type == "text_delta" && ev.Delta.Text != "" {
				text.WriteString(ev.Delta.Text)
				if onChunk != nil {
					onChunk(ev.Delta.Text)
				}
			}
		case "message_delta":
			sawUsage = true
			stopReason = ev.Delta.StopReason
			// message_delta usage is cumulative; input counts appear there
			// only when they changed (server tools).
			out.Usage.OutputTokens = ev.Usage.OutputTokens
			if in := ev.Usage.InputTokens + ev.Usage.CacheCreationInputTokens + ev.Usage.CacheReadInputTokens; in > 0 {
				out.Usage.InputTokens = in
			}
		case "message_stop":
			sawStop = true
		}
	}
	out.Text = text.String()
	partial := func() *provider.ChatResponse {
		if sawUsage {
			return &out
		}
		return nil
	}
	if err := s.Err(); err != nil {
		return partial(), call.Error(ctx, err, detail(err))
	}
	if !sawStop {
		if ctx.Err() != nil {
			return partial(), httperr.FromContext(ctx)
		}
		return partial(), call.Errorf(errtype.Network, "stream ended before message_stop")
	}
	if stopReason == "" {
		return partial(), call.Errorf(errtype.ProviderError, "stream has no stop_reason")
	}
	out.FinishReason = finishReason(stopReason)
	return &out, nil
}

// Embed fails: Anthropic has no embeddings API.
func (p *Provider) Embed(context.Context, provider.EmbedRequest) (*provider.EmbedResponse, error) {
	return nil, &provider.Error{Type: errtype.InvalidRequest, Message: "anthropic has no embeddings API: use an openai or simulated provider for embed steps"}
}

// usage counts every input token the request consumed, cached or not, as
// input tokens.
func usage(u sdk.Usage) provider.Usage {
	return provider.Usage{
		InputTokens:  u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens,
		OutputTokens: u.OutputTokens,
	}
}

// finishReason maps Anthropic stop reasons onto the normalised words.
func finishReason(r sdk.StopReason) string {
	switch r {
	case sdk.StopReasonEndTurn, sdk.StopReasonStopSequence:
		return "stop"
	case sdk.StopReasonMaxTokens:
		return "length"
	case sdk.StopReasonToolUse:
		return "tool_calls"
	case sdk.StopReasonRefusal:
		return "content_filter"
	}
	return string(r)
}

// detail extracts the API's error type and message from an error response
// body or an error event: {"type":"error","error":{"type":..,"message":..}}.
func detail(err error) httperr.Detail {
	var apiErr *sdk.Error
	if !errors.As(err, &apiErr) {
		return httperr.Detail{}
	}
	var body struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(apiErr.RawJSON()), &body) != nil {
		return httperr.Detail{}
	}
	return httperr.Detail{Type: body.Error.Type, Message: body.Error.Message}
}
