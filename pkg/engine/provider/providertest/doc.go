// Package providertest holds fake provider APIs for tests and the shared
// conformance suite of the HTTP providers.
//
// NewOpenAIServer and NewAnthropicServer start an httptest server on
// 127.0.0.1 that speaks the real wire format: JSON bodies shaped like the
// APIs', SSE streams (OpenAI `data:` frames ending in [DONE] with a usage
// chunk; Anthropic message_start, content_block_*, message_delta and
// message_stop events), and the APIs' error bodies. A script of Reply
// values chooses each answer and its Fault: error statuses with
// Retry-After, HTML pages, malformed JSON, empty answers, truncated
// streams, connection resets, slow first bytes and slowloris trickles.
// ClosedURL gives a port where nothing listens. The Server counts the
// requests it received (Requests, Received) and the connections open on it
// (OpenConns, WaitNoOpenConns) so that tests can prove one request per
// attempt and no leaked connection.
//
// RunChatSuite runs every fault and status case against a provider
// factory; the openai and anthropic packages run it.
//
// A Server is safe for concurrent use and is closed by t.Cleanup; its
// handlers end as soon as the client goes away or the server closes.
package providertest
