// Package vector is the embedded in-memory vector store behind
// `vector_search` with `database: memory`.
//
// Start with ReadCorpus (strict JSONL: one {"id","text","vector"?,"metadata"?}
// object per line), then Corpus.Index, which embeds the documents that have
// no vector and normalises every vector once, so that Index.Search ranks by
// cosine similarity with a plain dot product and a bounded heap. Load does
// both in one call. Cache keeps parsed corpora and built indexes for the
// lifetime of an engine and builds each index once, even when many runs ask
// for it at the same time.
//
// Concurrency: a Corpus and an Index are immutable once built and safe for
// concurrent use; Cache is safe for concurrent use. Nothing here retries,
// logs or records metrics.
package vector
