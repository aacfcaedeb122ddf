// Package stepkit holds the small helpers the built-in step types share: a
// Builder wrapper that remembers whether a problem was reported, template
// rendering with typed errors and the size limit, key checks, "did you
// mean" suggestions and value descriptions for messages. Everything is safe
// for concurrent use except Builder, which, like step.Builder, is used by
// one Build call.
package stepkit
