// Package transform implements the `transform` step type: a pure function
// (concat, template, merge, json_parse, pick, split) over template values.
//
// Start with Spec and the functions table in transform.go: each function
// names its keys, so that keys of another function and unknown functions are
// load-time problems. The Executor never calls out, never retries, and is
// safe for concurrent use.
package transform
