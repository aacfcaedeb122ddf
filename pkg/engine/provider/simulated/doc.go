// Package simulated is the provider of kind simulated: deterministic chat
// answers and embeddings with no network, behind every example and
// `make run`.
//
// Start with New (the provider.Factory) or NewFactory (with options such as
// WithSleep to replace the latency wait). The model name, by prefix, picks
// the behaviour:
//
//	sim-fast       no latency
//	sim-default    20-80 ms (also any unknown model)
//	sim-slow       1-3 s
//	sim-flaky      20-80 ms, fails provider_error (http 500) on 30% of calls
//	sim-ratelimit  20-80 ms, fails rate_limit (http 429, Retry-After 1s) on 50% of calls
//	sim-broken     20-80 ms, always fails provider_error
//	sim-embed      5-15 ms, the default embedding model
//
// The latency within a range is picked from a hash of the request, so equal
// requests wait equally. Extra parameters override it: latency_ms (a fixed
// latency) and fail_rate (0..1). response (a fixed answer) and choices (a
// list, one picked by the request hash) choose the text; otherwise the text
// is generated from a hash of model, system prompt and prompt. Tokens counts
// four tokens per three words. Vector builds embeddings with the hashing
// trick over words and trigrams, so texts sharing words are closer.
//
// Failures are deterministic in sequence: each Provider counts the calls of
// every model (atomically) and call n fails when Fails(n, rate) holds: the
// first call fails and the failures are then spread evenly. Concurrent
// calls draw numbers in the order they start.
//
// Every call honours ctx: an expired deadline is a timeout *provider.Error,
// a cancellation wraps context.Canceled. Streamed calls send the first chunk
// after half the latency and spread the rest over the other half. A
// Provider is safe for concurrent use.
package simulated
