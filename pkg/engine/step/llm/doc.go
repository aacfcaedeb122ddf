// Package llm implements the `llm` step type: one chat request to a named
// provider, with a prompt and optional system prompt rendered from templates.
//
// Start with Spec. Build parses the templates and resolves the provider at
// load time; the Executor renders and calls Provider.Chat once per attempt
// (streaming when `stream: true`; the engine's provider wrapper observes the
// chunks). It never retries, logs failures or records metrics, and is safe
// for concurrent use.
package llm
