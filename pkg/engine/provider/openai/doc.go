// Package openai is the provider of kind openai: chat completions (plain and
// streamed) and embeddings through the official SDK
// github.com/openai/openai-go/v3, against api.openai.com or any
// OpenAI-compatible server (Ollama, vLLM, LM Studio).
//
// Start with New, the provider.Factory of the kind. The configuration comes
// only from provider.Config (the builtin package resolves OPENAI_API_KEY and
// OPENAI_BASE_URL); the SDK reads no environment variable.
//
// Every Chat or Embed call sends exactly one HTTP request: the SDK's retries
// are off, because the engine retries. Streamed calls ask for
// stream_options.include_usage so that they report tokens, call
// ChatRequest.OnChunk for every content delta and fail with a network error
// when the stream ends before [DONE]. Extra request parameters (top_p, stop,
// seed, ...) are merged into the request JSON as given. Failures are
// *provider.Error values classified by status code and API error type
// (package internal/httperr); a cancelled context yields an error wrapping
// context.Canceled. When the API reported usage before failing, the partial
// response is returned with the error.
//
// A Provider is safe for concurrent use.
package openai
