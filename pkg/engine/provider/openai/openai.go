package openai

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/internal/endpoint"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/internal/httperr"
)

// DefaultBaseURL is the OpenAI API.
const DefaultBaseURL = "https://api.openai.com/v1"

// Provider talks to the OpenAI API or an OpenAI-compatible server.
type Provider struct {
	chat     sdk.ChatCompletionService
	embed    sdk.EmbeddingService
	key      string
	maxBytes int64
}

var _ provider.Provider = (*Provider)(nil)

// New builds an OpenAI provider. cfg.BaseURL defaults to DefaultBaseURL.
// cfg.APIKey is required for api.openai.com and whenever cfg.APIKeyEnv names
// the variable it should have come from (the error then names the variable,
// never a value); another base URL (Ollama, vLLM, LM Studio) may go without.
// The SDK's retries are off and it reads no environment variable: cfg is the
// whole configuration.
func New(cfg provider.Config) (provider.Provider, error) {
	base, client, err := endpoint.Resolve(cfg, DefaultBaseURL, "api.openai.com")
	if err != nil {
		return nil, err
	}
	opts := []option.RequestOption{
		option.WithBaseURL(base),
		option.WithHTTPClient(client),
		option.WithMaxRetries(0),
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	return &Provider{
		chat:     sdk.NewChatCompletionService(opts...),
		embed:    sdk.NewEmbeddingService(opts...),
		key:      cfg.APIKey,
		maxBytes: cfg.MaxResponseBytes,
	}, nil
}

// Chat sends one chat completion request; see provider.Provider.
func (p *Provider) Chat(ctx context.Context, req provider.ChatRequest) (*provider.ChatResponse, error) {
	params := sdk.ChatCompletionNewParams{Model: req.Model}
	if req.System != "" {
		params.Messages = append(params.Messages, sdk.SystemMessage(req.System))
	}
	params.Messages = append(params.Messages, sdk.UserMessage(req.Prompt))
	if req.Temperature != nil {
		params.Temperature = sdk.Float(*req.Temperature)
	}
	if req.MaxTokens != nil {
		params.MaxTokens = sdk.Int(*req.MaxTokens)
	}
	if len(req.Extra) > 0 {
		params.SetExtraFields(req.Extra)
	}
	call := httperr.NewCall(p.maxBytes, p.key)
	if req.Stream {
		return p.stream(ctx, call, params, req.OnChunk)
	}
	res, err := p.chat.New(ctx, params, option.WithMiddleware(call.Middleware))
	if err != nil {
		return nil, call.Error(ctx, err, detail(err))
	}
	out := &provider.ChatResponse{
		Model: res.Model,
		Usage: provider.Usage{InputTokens: res.Usage.PromptTokens, OutputTokens: res.Usage.CompletionTokens},
	}
	if len(res.Choices) == 0 {
		return out, call.Errorf(errtype.ProviderError, "response has no choices")
	}
	out.Text = res.Choices[0].Message.Content
	out.FinishReason = res.Choices[0].FinishReason
	return out, nil
}

// stream sends a streamed chat completion and accumulates its deltas.
func (p *Provider) stream(ctx context.Context, call *httperr.Call, params sdk.ChatCompletionNewParams, onChunk func(string)) (*provider.ChatResponse, error) {
	params.StreamOptions.IncludeUsage = sdk.Bool(true)
	// Chat.Completions.NewStreaming cannot tell a stream that ended with
	// [DONE] from one cut short, so the raw response is decoded here with a
	// decoder that notices [DONE].
	var raw *http.Response
	_, err := p.chat.New(ctx, params,
		option.WithJSONSet("stream", true),
		option.WithResponseBodyInto(&raw),
		option.WithMiddleware(call.Middleware))
	if err != nil {
		return nil, call.Error(ctx, err, detail(err))
	}
	if !call.IsEventStream() {
		_ = raw.Body.Close()
		_, h := call.Response()
		return nil, call.Errorf(errtype.ProviderError, "streamed response has content type %q, want text/event-stream", h.Get("Content-Type"))
	}
	dec := &doneDecoder{Decoder: ssestream.NewDecoder(raw)}
	s := ssestream.NewStream[sdk.ChatCompletionChunk](dec, nil)
	defer s.Close()

	var (
		text      strings.Builder
		out       provider.ChatResponse
		sawUsage  bool
		sawChoice bool
	)
	for s.Next() {
		chunk := s.Current()
		if chunk.Model != "" {
			out.Model = chunk.Model
		}
		if chunk.JSON.Usage.Valid() {
			sawUsage = true
			out.Usage = provider.Usage{InputTokens: chunk.Usage.PromptTokens, OutputTokens: chunk.Usage.CompletionTokens}
		}
		for _, c := range chunk.Choices {
			if c.Index != 0 {
				continue
			}
			sawChoice = true
			if d := c.Delta.Content; d != "" {
				text.WriteString(d)
				if onChunk != nil {
					onChunk(d)
				}
			}
			if c.FinishReason != "" {
				out.FinishReason = c.FinishReason
			}
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
	if !dec.done {
		if ctx.Err() != nil {
			return partial(), httperr.FromContext(ctx)
		}
		return partial(), call.Errorf(errtype.Network, "stream ended before [DONE]")
	}
	if !sawChoice {
		return partial(), call.Errorf(errtype.ProviderError, "stream has no choices")
	}
	return &out, nil
}

// Embed sends one embeddings request; see provider.Provider.
func (p *Provider) Embed(ctx context.Context, req provider.EmbedRequest) (*provider.EmbedResponse, error) {
	if len(req.Input) == 0 {
		return nil, &provider.Error{Type: errtype.InvalidRequest, Message: "embedding request has no input"}
	}
	params := sdk.EmbeddingNewParams{
		Model:          req.Model,
		Input:          sdk.EmbeddingNewParamsInputUnion{OfArrayOfStrings: req.Input},
		EncodingFormat: sdk.EmbeddingNewParamsEncodingFormatFloat,
	}
	if req.Dimensions > 0 {
		params.Dimensions = sdk.Int(int64(req.Dimensions))
	}
	call := httperr.NewCall(p.maxBytes, p.key)
	res, err := p.embed.New(ctx, params, option.WithMiddleware(call.Middleware))
	if err != nil {
		return nil, call.Error(ctx, err, detail(err))
	}
	out := &provider.EmbedResponse{
		Model:   res.Model,
		Usage:   provider.Usage{InputTokens: res.Usage.PromptTokens},
		Vectors: make([][]float64, len(req.Input)),
	}
	if len(res.Data) != len(req.Input) {
		return out, call.Errorf(errtype.ProviderError, "got %d embeddings for %d inputs", len(res.Data), len(req.Input))
	}
	for _, d := range res.Data {
		if d.Index < 0 || int(d.Index) >= len(out.Vectors) || out.Vectors[d.Index] != nil {
			return out, call.Errorf(errtype.ProviderError, "embedding has an invalid or repeated index %d", d.Index)
		}
		if len(d.Embedding) == 0 {
			return out, call.Errorf(errtype.ProviderError, "embedding %d is empty", d.Index)
		}
		out.Vectors[d.Index] = d.Embedding
	}
	return out, nil
}

// detail extracts what the API said about an error: the body of an error
// response or an error event in a stream.
func detail(err error) httperr.Detail {
	var apiErr *sdk.Error
	if errors.As(err, &apiErr) {
		return httperr.Detail{Type: apiErr.Type, Code: apiErr.Code, Message: apiErr.Message}
	}
	var se *ssestream.StreamError
	if errors.As(err, &se) {
		var ev struct {
			Error struct {
				Type    string `json:"type"`
				Code    any    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(se.Event.Data, &ev) == nil {
			code, _ := ev.Error.Code.(string)
			return httperr.Detail{Type: ev.Error.Type, Code: code, Message: ev.Error.Message}
		}
	}
	return httperr.Detail{}
}

// doneDecoder passes SSE events through and notes the [DONE] sentinel.
type doneDecoder struct {
	ssestream.Decoder
	done bool
}

func (d *doneDecoder) Next() bool {
	if !d.Decoder.Next() {
		return false
	}
	if strings.HasPrefix(string(d.Event().Data), "[DONE]") {
		d.done = true
	}
	return true
}
