// Package retry is the engine's only retry loop.
//
// Start with Do: it calls a function until it succeeds, returns an error
// whose errtype is not retryable, runs out of attempts, or its context ends.
// Between attempts it sleeps a backoff computed by Policy.Delay (exponential
// initial·2^(n-1), linear initial·n or constant, capped at Max, then
// jittered downwards so a wait never exceeds the cap) or, when the error
// carries a provider Retry-After, that duration capped at Max. The OnRetry
// hook (or a Notifier given with Notify) sees every retry before its wait,
// so that instrumentation can count it. A first attempt that succeeds
// costs no allocation when the hook is a Notifier.
//
// Do blocks the calling goroutine and starts none. It is safe for concurrent
// use; a Policy is a plain value.
package retry
