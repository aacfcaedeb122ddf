// Package httperr classifies the failures of provider HTTP calls into the
// closed set of provider error types, shared by the openai and anthropic
// providers.
//
// Classification uses only facts: the context's state, transport and body
// read errors, the HTTP status code and the API's error type. It never
// matches message text. Start with Call: install Call.Middleware on the one
// SDK request of a provider call, then pass the SDK's error to Call.Error.
// Call also bounds the response body (provider.Config.MaxResponseBytes) and
// keeps the API key out of every message (Redact).
//
// A Call belongs to one provider call; the other functions are pure and safe
// for concurrent use.
package httperr
