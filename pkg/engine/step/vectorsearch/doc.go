// Package vectorsearch implements the `vector_search` step type over the
// in-memory store of package vector (`database: memory`).
//
// Start with Spec. At load time Build reads and checks the corpus file
// (through the engine's vector.Cache in step.Env.Indexes), parses the query
// template and, when some documents have no vector, finds the embed step the
// query refers to and resolves its provider, so that documents are embedded
// with the same provider, model and dimensions as the query. The index is
// built on the first attempt that needs it, once per engine, inside that
// attempt's context (the embedding requests are observed as that step's).
//
// The Executor is safe for concurrent use; it never retries, logs failures
// or records metrics.
package vectorsearch
