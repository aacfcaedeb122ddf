package vector

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
)

// embedBatch is the number of texts sent in one embedding request.
const embedBatch = 64

// ErrDimensionMismatch is returned (wrapped) by Search when the query's
// length differs from the index's, and by Corpus.Index when the embedder's
// vectors differ from the corpus's.
var ErrDimensionMismatch = errors.New("dimension mismatch")

// EmbedFunc returns one vector per text, in order. It is called with at most
// 64 texts at a time.
type EmbedFunc func(ctx context.Context, texts []string) ([][]float64, error)

// Index is an immutable cosine-similarity index. It is safe for concurrent use.
type Index struct {
	name string
	dim  int
	docs []Doc     // Vector fields are nil: vectors live in data
	data []float64 // len(docs)*dim unit vectors, row by row
}

// Hit is one search result.
type Hit struct {
	ID       string
	Text     string
	Metadata map[string]any // the document's metadata; shared, do not modify
	Score    float64        // cosine similarity, in [-1, 1]
	Vector   []float64      // the unit-normalised vector; shared, do not modify
}

// Load reads the corpus at path and builds its index (ReadCorpus, then
// Corpus.Index).
func Load(ctx context.Context, path string, embed EmbedFunc) (*Index, error) {
	c, err := ReadCorpus(path)
	if err != nil {
		return nil, err
	}
	return c.Index(ctx, embed)
}

// Index builds the index: it embeds the documents without a vector with
// embed (which may be nil when every document has one), in batches, and
// normalises every vector. The embedder's errors are returned unwrapped, so
// that their type survives.
func (c *Corpus) Index(ctx context.Context, embed EmbedFunc) (*Index, error) {
	vecs := make([][]float64, len(c.Docs))
	var todo []int
	for i, d := range c.Docs {
		if d.Vector != nil {
			vecs[i] = d.Vector
		} else {
			todo = append(todo, i)
		}
	}
	if len(todo) > 0 && embed == nil {
		return nil, fmt.Errorf("%s: %d documents have no vector and there is no embedder", c.Name, len(todo))
	}
	dim := c.Dim
	for start := 0; start < len(todo); start += embedBatch {
		batch := todo[start:min(start+embedBatch, len(todo))]
		texts := make([]string, len(batch))
		for j, i := range batch {
			texts[j] = c.Docs[i].Text
		}
		out, err := embed(ctx, texts)
		if err != nil {
			return nil, err
		}
		if len(out) != len(batch) {
			return nil, fmt.Errorf("%s: the embedder returned %d vectors for %d texts", c.Name, len(out), len(batch))
		}
		for j, i := range batch {
			v := out[j]
			if dim == 0 {
				dim = len(v)
			}
			if len(v) != dim {
				return nil, fmt.Errorf("%s: document %q: %w: the embedder returned %d dimensions, want %d", c.Name, c.Docs[i].ID, ErrDimensionMismatch, len(v), dim)
			}
			if err := checkFinite(v); err != nil {
				return nil, fmt.Errorf("%s: document %q: embedder: %w", c.Name, c.Docs[i].ID, err)
			}
			vecs[i] = v
		}
	}
	ix := &Index{name: c.Name, dim: dim, docs: make([]Doc, len(c.Docs)), data: make([]float64, len(c.Docs)*dim)}
	for i, d := range c.Docs {
		d.Vector = nil
		ix.docs[i] = d
		normalise(ix.data[i*dim:(i+1)*dim], vecs[i])
	}
	return ix, nil
}

// Len returns the number of documents.
func (ix *Index) Len() int { return len(ix.docs) }

// Dim returns the vectors' dimensions.
func (ix *Index) Dim() int { return ix.dim }

// Search returns the k documents most similar to query whose metadata
// matches filter (every key equal; numbers compare by value), best first,
// ties broken by id. It returns fewer than k hits when fewer documents match.
// A query of the wrong length (ErrDimensionMismatch), with zero length or
// non-finite elements, or k < 1 is an error.
func (ix *Index) Search(query []float64, k int, filter map[string]any) ([]Hit, error) {
	if k < 1 {
		return nil, fmt.Errorf("k is %d, want at least 1", k)
	}
	if len(query) != ix.dim {
		return nil, fmt.Errorf("%w: the query has %d dimensions, index %s has %d", ErrDimensionMismatch, len(query), ix.name, ix.dim)
	}
	if err := checkFinite(query); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	q := make([]float64, ix.dim)
	normalise(q, query)
	want := normaliseFilter(filter)

	h := make(hitHeap, 0, min(k, len(ix.docs)))
	for i := range ix.docs {
		if len(want) > 0 && !matches(ix.docs[i].Metadata, want) {
			continue
		}
		c := cand{i: i, score: dot(q, ix.data[i*ix.dim:(i+1)*ix.dim]), id: ix.docs[i].ID}
		switch {
		case len(h) < k:
			heap.Push(&h, c)
		case c.better(h[0]):
			h[0] = c
			heap.Fix(&h, 0)
		}
	}
	hits := make([]Hit, len(h))
	for n := len(h) - 1; n >= 0; n-- {
		c := heap.Pop(&h).(cand)
		d := ix.docs[c.i]
		hits[n] = Hit{ID: d.ID, Text: d.Text, Metadata: d.Metadata, Score: c.score, Vector: ix.data[c.i*ix.dim : (c.i+1)*ix.dim : (c.i+1)*ix.dim]}
	}
	return hits, nil
}

func normalise(dst, v []float64) {
	var sum float64
	for _, x := range v {
		sum += x * x
	}
	n := math.Sqrt(sum)
	for i, x := range v {
		dst[i] = x / n
	}
}

func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// cand is a scored document; hitHeap keeps the worst candidate at the root.
type cand struct {
	i     int
	score float64
	id    string
}

func (c cand) better(o cand) bool {
	return c.score > o.score || (c.score == o.score && c.id < o.id)
}

type hitHeap []cand

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return h[j].better(h[i]) }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(cand)) }
func (h *hitHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

func normaliseFilter(f map[string]any) map[string]any {
	if len(f) == 0 {
		return nil
	}
	out := make(map[string]any, len(f))
	for k, v := range f {
		out[k] = number(v)
	}
	return out
}

func matches(meta, want map[string]any) bool {
	for k, w := range want {
		v, ok := meta[k]
		if !ok || !equal(number(v), w) {
			return false
		}
	}
	return true
}

// equal compares like ==, with reflect.DeepEqual for lists and objects.
func equal(a, b any) bool {
	if a != nil && b != nil {
		if t := reflect.TypeOf(a); t == reflect.TypeOf(b) && !t.Comparable() {
			return reflect.DeepEqual(a, b)
		}
	}
	return a == b
}

// number turns every numeric type into float64, so that a YAML int filter
// value equals a JSON number in metadata.
func number(v any) any {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case int32:
		return float64(n)
	case uint64:
		return float64(n)
	case uint:
		return float64(n)
	case float32:
		return float64(n)
	}
	return v
}
