package vector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func mustIndex(t testing.TB, path string, embed EmbedFunc) *Index {
	t.Helper()
	ix, err := Load(context.Background(), path, embed)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func ids(hits []Hit) string {
	s := make([]string, len(hits))
	for i, h := range hits {
		s[i] = h.ID
	}
	return strings.Join(s, ",")
}

func TestSearch(t *testing.T) {
	ix := mustIndex(t, "testdata/vectors.jsonl", nil)
	tests := []struct {
		name   string
		query  []float64
		k      int
		filter map[string]any
		want   string
	}{
		{"nearest first", []float64{1, 0, 0}, 2, nil, "a,b"},
		{"k over size", []float64{0, 1, 0}, 10, nil, "c,b,a,d"},
		{"scale invariant", []float64{0, 0, 5}, 1, nil, "d"},
		{"ties by id", []float64{0, 0, 0.001}, 4, nil, "d,a,b,c"},
		{"filter string", []float64{1, 0, 0}, 5, map[string]any{"lang": "en"}, "a,c"},
		{"filter int matches json number", []float64{1, 0, 0}, 5, map[string]any{"n": 2}, "b"},
		{"filter list", []float64{1, 0, 0}, 5, map[string]any{"tags": []any{"x", "y"}}, "c"},
		{"filter two keys", []float64{1, 0, 0}, 5, map[string]any{"lang": "en", "n": 1.0}, "a"},
		{"filter no match", []float64{1, 0, 0}, 5, map[string]any{"lang": "fr"}, ""},
		{"filter missing key", []float64{1, 0, 0}, 5, map[string]any{"absent": nil}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits, err := ix.Search(tt.query, tt.k, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(hits); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for i := 1; i < len(hits); i++ {
				if hits[i].Score > hits[i-1].Score {
					t.Errorf("hits not sorted: %v", hits)
				}
			}
		})
	}
	hits, _ := ix.Search([]float64{1, 0, 0}, 1, nil)
	if h := hits[0]; h.Score != 1 || h.Text != "apple" || h.Metadata["lang"] != "en" || len(h.Vector) != 3 {
		t.Errorf("hit = %+v", h)
	}
}

func TestSearchErrors(t *testing.T) {
	ix := mustIndex(t, "testdata/vectors.jsonl", nil)
	tests := []struct {
		name  string
		query []float64
		k     int
		want  string
	}{
		{"dimensions", []float64{1, 0}, 1, "dimension mismatch: the query has 2 dimensions, index testdata/vectors.jsonl has 3"},
		{"zero", []float64{0, 0, 0}, 1, "query: vector has zero length"},
		{"nan", []float64{math.NaN(), 0, 0}, 1, "query: vector element 0 is not a finite number"},
		{"k", []float64{1, 0, 0}, 0, "k is 0, want at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ix.Search(tt.query, tt.k, nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
	if _, err := ix.Search([]float64{1}, 1, nil); !errors.Is(err, ErrDimensionMismatch) {
		t.Errorf("not ErrDimensionMismatch: %v", err)
	}
}

// fakeEmbed maps each text to a fixed vector and records the batches.
type fakeEmbed struct {
	vecs    map[string][]float64
	batches []int
	err     error
}

func (f *fakeEmbed) embed(ctx context.Context, texts []string) ([][]float64, error) {
	f.batches = append(f.batches, len(texts))
	if f.err != nil {
		return nil, f.err
	}
	out := make([][]float64, len(texts))
	for i, s := range texts {
		out[i] = f.vecs[s]
	}
	return out, nil
}

func TestIndexEmbeds(t *testing.T) {
	f := &fakeEmbed{vecs: map[string][]float64{"banana": {0, 1, 0}, "cherry": {0, 0, 1}}}
	ix := mustIndex(t, "testdata/mixed.jsonl", f.embed)
	if ix.Len() != 3 || ix.Dim() != 3 || len(f.batches) != 1 || f.batches[0] != 2 {
		t.Fatalf("len %d dim %d batches %v", ix.Len(), ix.Dim(), f.batches)
	}
	hits, err := ix.Search([]float64{0, 0, 1}, 1, nil)
	if err != nil || ids(hits) != "c" {
		t.Errorf("got %v, %v", hits, err)
	}

	// Batches of 64.
	var src strings.Builder
	big := &fakeEmbed{vecs: map[string][]float64{}}
	for i := range 150 {
		fmt.Fprintf(&src, "{\"id\":\"d%d\",\"text\":\"t%d\"}\n", i, i)
		big.vecs[fmt.Sprint("t", i)] = []float64{1, float64(i)}
	}
	c, err := ParseCorpus(strings.NewReader(src.String()), "big")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Index(context.Background(), big.embed); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(big.batches) != "[64 64 22]" {
		t.Errorf("batches %v", big.batches)
	}
}

func TestIndexEmbedErrors(t *testing.T) {
	c, err := ReadCorpus("testdata/mixed.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	tests := []struct {
		name  string
		embed EmbedFunc
		want  string
	}{
		{"no embedder", nil, "testdata/mixed.jsonl: 2 documents have no vector and there is no embedder"},
		{"error passes through", (&fakeEmbed{err: boom}).embed, "boom"},
		{"count", func(context.Context, []string) ([][]float64, error) { return [][]float64{{1, 0, 0}}, nil },
			"testdata/mixed.jsonl: the embedder returned 1 vectors for 2 texts"},
		{"dims", func(_ context.Context, in []string) ([][]float64, error) { return [][]float64{{1, 0}, {1, 0}}, nil },
			`testdata/mixed.jsonl: document "b": dimension mismatch: the embedder returned 2 dimensions, want 3`},
		{"nan", func(_ context.Context, in []string) ([][]float64, error) {
			return [][]float64{{1, 0, 0}, {math.Inf(1), 0, 0}}, nil
		},
			`testdata/mixed.jsonl: document "c": embedder: vector element 0 is not a finite number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Index(context.Background(), tt.embed)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
	if _, err := c.Index(context.Background(), (&fakeEmbed{err: boom}).embed); !errors.Is(err, boom) {
		t.Errorf("embedder error is not passed through: %v", err)
	}
}

// TestSearchMatchesBruteForce compares the heap with a full sort.
func TestSearchMatchesBruteForce(t *testing.T) {
	ix := randomIndex(t, 500, 16)
	rng := rand.New(rand.NewPCG(7, 7))
	for range 20 {
		q := randomVector(rng, 16)
		k := 1 + rng.IntN(30)
		hits, err := ix.Search(q, k, nil)
		if err != nil {
			t.Fatal(err)
		}
		all, _ := ix.Search(q, ix.Len(), nil)
		if ids(hits) != ids(all[:k]) {
			t.Fatalf("k=%d: heap %s, full %s", k, ids(hits), ids(all[:k]))
		}
	}
}

func randomVector(rng *rand.Rand, dim int) []float64 {
	v := make([]float64, dim)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func randomIndex(tb testing.TB, n, dim int) *Index {
	rng := rand.New(rand.NewPCG(1, 2))
	c := &Corpus{Name: "random", Dim: dim}
	for i := range n {
		c.Docs = append(c.Docs, Doc{ID: fmt.Sprintf("doc-%05d", i), Text: "t", Vector: randomVector(rng, dim),
			Metadata: map[string]any{"topic": fmt.Sprint("t", i%10)}})
	}
	ix, err := c.Index(context.Background(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return ix
}

func BenchmarkSearch(b *testing.B) {
	const docs, dim = 10_000, 384
	ix := randomIndex(b, docs, dim)
	q := randomVector(rand.New(rand.NewPCG(3, 4)), dim)
	for _, bc := range []struct {
		name   string
		k      int
		filter map[string]any
	}{
		{"k=5", 5, nil},
		{"k=100", 100, nil},
		{"k=5/filter", 5, map[string]any{"topic": "t3"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ix.Search(q, bc.k, bc.filter); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
