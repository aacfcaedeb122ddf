// Package anthropic is the provider of kind anthropic: the Messages API,
// plain and streamed, through the official SDK
// github.com/anthropics/anthropic-sdk-go.
//
// Start with New, the provider.Factory of the kind. The configuration comes
// only from provider.Config (the builtin package resolves ANTHROPIC_API_KEY
// and ANTHROPIC_BASE_URL); the SDK reads no environment variable or profile,
// and its own OpenTelemetry spans are off (the engine measures).
//
// Every Chat call sends exactly one HTTP request (the SDK's retries are
// off). max_tokens defaults to DefaultMaxTokens because the API requires it.
// A streamed call takes input tokens from message_start, output tokens from
// message_delta and text from content_block_delta events, calls
// ChatRequest.OnChunk for every text delta, and fails with a network error
// when the stream ends before message_stop. Cached input tokens count as
// input tokens. Stop reasons are normalised (end_turn -> stop, max_tokens ->
// length, tool_use -> tool_calls, refusal -> content_filter). Embed always
// fails with invalid_request: Anthropic has no embeddings API.
//
// A Provider is safe for concurrent use.
package anthropic
