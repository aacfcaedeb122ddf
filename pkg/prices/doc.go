// Package prices holds the LLM price table that turns reported token usage
// into USD cost (issue: cost per model and per workflow).
//
// Start with Default (the embedded prices.yaml) or Load (the embedded table
// overridden and extended by a user file), then pass (*Table).Cost to
// engine.WithCost. A Table is immutable after construction and safe for
// concurrent use; the one-warning-per-unpriced-model bookkeeping is guarded.
package prices
