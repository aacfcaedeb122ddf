// Package embed implements the `embed` step type: one embeddings request to
// a named provider for one input template or a list of them.
//
// Start with Spec. Build parses the templates and resolves the provider at
// load time; the Executor renders and calls Provider.Embed once per attempt.
// The vector_search step reads Config (provider, model, dimensions) of the
// embed step its query refers to, to embed corpus documents the same way.
// The Executor never retries, logs failures or records metrics, and is safe
// for concurrent use.
package embed
