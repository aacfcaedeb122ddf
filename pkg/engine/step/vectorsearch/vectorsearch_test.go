package vectorsearch_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/embed"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/steptest"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/vectorsearch"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/vector"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const embedStep = "id: embed_q\nprovider: fake\nmodel: emb\ndimensions: 8\ninput: '{{ question }}'"

func newBuilder(p provider.Provider) *steptest.Builder {
	b := steptest.NewBuilder(map[string]provider.Provider{"fake": p})
	b.Settings.BaseDir = "testdata"
	b.Settings.Indexes = vector.NewCache()
	return b
}

func TestBuildProblems(t *testing.T) {
	tests := []struct {
		name      string
		withEmbed bool
		src       string
		want      []string
	}{
		{"vectors in corpus", false, "id: s\nindex: vectors.jsonl\nquery: '{{ inputs.v }}'\ndatabase: memory\ntop_k: 1000\nfilter: {lang: en, n: 1, ok: true}", nil},
		{"embed step reference", true, "id: s\nindex: texts.jsonl\nquery: '{{ steps.embed_q.vector }}'", nil},
		{"unknown database", false, "id: s\ndatabase: memroy\nindex: vectors.jsonl\nquery: '{{ v }}'",
			[]string{`database: unknown database "memroy" (did you mean "memory"?); known: memory`}},
		{"missing file", false, "id: s\nindex: absent.jsonl\nquery: '{{ v }}'",
			[]string{"index: read index: open testdata/absent.jsonl: no such file or directory"}},
		{"absolute path", false, "id: s\nindex: /etc/passwd\nquery: '{{ v }}'",
			[]string{`index: index must be a relative path inside the workflow's directory, got "/etc/passwd"`}},
		{"escaping path", false, "id: s\nindex: ../vectors.jsonl\nquery: '{{ v }}'",
			[]string{`index: index must be a relative path inside the workflow's directory, got "../vectors.jsonl"`}},
		{"bad corpus", false, "id: s\nindex: bad.jsonl\nquery: '{{ v }}'",
			[]string{`index: read index: testdata/bad.jsonl:2: json: unknown field "colour"`}},
		{"no embedder", false, "id: s\nindex: texts.jsonl\nquery: '{{ inputs.v }}'",
			[]string{"query: 4 of the 4 documents in texts.jsonl have no vector: add vectors to the corpus, or make query refer to an embed step (for example {{ steps.embed_query.vector }}) so that they are embedded with its provider and model"}},
		{"bad query", false, "id: s\nindex: vectors.jsonl\nquery: '{{'", []string{"query: *"}},
		{"every problem", false, "id: s\nindex: vectors.jsonl\nquery: '{{ v }}'\ntop_k: 0\nfilter: {tags: [a]}",
			[]string{"top_k: top_k must be between 1 and 1000, got 0", `filter: filter "tags": want a string, number, boolean or null, got a list of 1`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(&steptest.Provider{})
			if tt.withEmbed {
				b.Build(t, embed.Spec(), embedStep)
			}
			e := b.Build(t, vectorsearch.Spec(), tt.src)
			steptest.CheckBuild(t, b, e, tt.want)
		})
	}
}

func hitIDs(t *testing.T, res step.Result) []string {
	t.Helper()
	hits := res.Object["hits"].([]any)
	if !reflect.DeepEqual(res.Values, []any{hits}) {
		t.Errorf("values %v, want [hits]", res.Values)
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.(map[string]any)["id"].(string)
	}
	return ids
}

func TestExecuteWithCorpusVectors(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		query any
		want  []string
		check func(t *testing.T, hit map[string]any)
	}{
		{"defaults", "index: vectors.jsonl\nquery: '{{ v }}'", []any{1, 0, 0}, []string{"a", "b", "c"},
			func(t *testing.T, hit map[string]any) {
				want := map[string]any{"id": "a", "score": 1.0, "text": "apple", "metadata": map[string]any{"lang": "en"}}
				if !reflect.DeepEqual(hit, want) {
					t.Errorf("hit %v, want %v", hit, want)
				}
			}},
		{"top_k and float64s", "index: vectors.jsonl\nquery: '{{ v }}'\ntop_k: 1", []float64{0, 1, 0}, []string{"c"},
			func(t *testing.T, hit map[string]any) {
				if m := hit["metadata"]; !reflect.DeepEqual(m, map[string]any{}) {
					t.Errorf("metadata of a document without any: %v", m)
				}
			}},
		{"json text", "index: vectors.jsonl\nquery: '{{ v }}'\ntop_k: 2", "[0.8, 0.2, 0]", []string{"b", "a"}, nil},
		{"filter", "index: vectors.jsonl\nquery: '{{ v }}'\nfilter: {lang: de}", []any{1.0, 0, 0}, []string{"b"}, nil},
		{"metadata off, vectors on", "index: vectors.jsonl\nquery: '{{ v }}'\ninclude_metadata: false\ninclude_vectors: true", []any{1, 0, 0}, []string{"a", "b", "c"},
			func(t *testing.T, hit map[string]any) {
				if _, ok := hit["metadata"]; ok {
					t.Error("metadata included")
				}
				if v := hit["vector"]; !reflect.DeepEqual(v, []float64{1, 0, 0}) {
					t.Errorf("vector %v", v)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(&steptest.Provider{})
			e := b.Build(t, vectorsearch.Spec(), "id: s\n"+tt.src)
			if e == nil {
				t.Fatal(b.Problems)
			}
			res, err := e.Execute(context.Background(), steptest.NewRuntime(map[string]any{"v": tt.query}, nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := hitIDs(t, res); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("hits %v, want %v", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, res.Object["hits"].([]any)[0].(map[string]any))
			}
		})
	}
}

func TestExecuteErrors(t *testing.T) {
	tests := []struct {
		name  string
		query any
		want  string
	}{
		{"not a vector", "hello", `query: want a vector (a list of numbers, such as {{ steps.embed_query.vector }}), got text that is not a JSON array of numbers: invalid character 'h' looking for beginning of value`},
		{"skipped step", nil, "query: want a vector, got nothing (is the referenced step skipped?)"},
		{"object", map[string]any{}, "query: want a vector (a list of numbers), got an object"},
		{"non-numbers", []any{1, "x", 0}, "query: want a vector, element 1 is string"},
		{"dimensions", []any{1, 0}, "dimension mismatch: the query has 2 dimensions, index testdata/vectors.jsonl has 3"},
		{"zero", []any{0, 0, 0}, "query: vector has zero length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(&steptest.Provider{})
			e := b.Build(t, vectorsearch.Spec(), "id: s\nindex: vectors.jsonl\nquery: '{{ v }}'")
			_, err := e.Execute(context.Background(), steptest.NewRuntime(map[string]any{"v": tt.query}, nil))
			if errtype.Of(err) != errtype.Validation || err.Error() != tt.want {
				t.Errorf("got %q (%s)\nwant %q (validation)", err, errtype.Of(err), tt.want)
			}
		})
	}
}

// Documents without vectors are embedded once, with the embed step's
// provider, model and dimensions, for every run and every plan of the engine.
func TestEmbedsCorpusOnce(t *testing.T) {
	p := &steptest.Provider{}
	b := newBuilder(p)
	embedExec := b.Build(t, embed.Spec(), embedStep)
	src := "id: s\nindex: texts.jsonl\nquery: '{{ steps.embed_q.vector }}'\ntop_k: 2\nfilter: {topic: sync}"
	execs := []step.Executor{b.Build(t, vectorsearch.Spec(), src), b.Build(t, vectorsearch.Spec(), src)}
	if len(b.Problems) > 0 {
		t.Fatal(b.Problems)
	}
	inputs := map[string]any{"question": "notes do not sync"}
	q, err := embedExec.Execute(context.Background(), steptest.NewRuntime(inputs, nil))
	if err != nil {
		t.Fatal(err)
	}
	rt := steptest.NewRuntime(inputs, map[string]any{"embed_q": q.Object})

	const runs = 8
	results := make([]step.Result, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() { results[i], errs[i] = execs[i%2].Execute(context.Background(), rt) })
	}
	wg.Wait()
	for i := range runs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got := hitIDs(t, results[i]); !reflect.DeepEqual(got, []string{"sync", "sync-de"}) {
			t.Errorf("run %d: hits %v", i, got)
		}
	}
	hit := results[0].Object["hits"].([]any)[0].(map[string]any)
	if s := hit["score"].(float64); s < 0.999999 {
		t.Errorf("the same text scores %v", s)
	}
	reqs := p.EmbedRequests()
	if len(reqs) != 2 { // the query, then the corpus once
		t.Fatalf("%d embed requests: %+v", len(reqs), reqs)
	}
	want := provider.EmbedRequest{Model: "emb", Dimensions: 8, Input: []string{
		"how to reset a password", "how to get a refund", "notes do not sync", "Notizen werden nicht synchronisiert"}}
	if !reflect.DeepEqual(reqs[1], want) {
		t.Errorf("corpus request %+v, want %+v", reqs[1], want)
	}
}

func TestEmbedFailureIsNotCached(t *testing.T) {
	down := &provider.Error{Type: errtype.ProviderError, StatusCode: 500}
	fail := true
	p := &steptest.Provider{EmbedFunc: func(ctx context.Context, req provider.EmbedRequest) (*provider.EmbedResponse, error) {
		if fail {
			return nil, down
		}
		return (&steptest.Provider{}).Embed(ctx, req)
	}}
	b := newBuilder(p)
	b.Build(t, embed.Spec(), embedStep)
	e := b.Build(t, vectorsearch.Spec(), "id: s\nindex: texts.jsonl\nquery: '{{ steps.embed_q.vector }}'")
	rt := steptest.NewRuntime(nil, map[string]any{"embed_q": map[string]any{"vector": steptest.HashVector("x", 8)}})
	if _, err := e.Execute(context.Background(), rt); !errors.Is(err, down) || errtype.Of(err) != errtype.ProviderError {
		t.Fatalf("first attempt: %v", err)
	}
	fail = false
	if _, err := e.Execute(context.Background(), rt); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	if n := len(p.EmbedRequests()); n != 2 {
		t.Errorf("%d embed requests, want 2", n)
	}
}

func TestEmbedderDimensionMismatch(t *testing.T) {
	b := newBuilder(&steptest.Provider{}) // embeds with 8 dimensions
	b.Build(t, embed.Spec(), embedStep)
	e := b.Build(t, vectorsearch.Spec(), "id: s\nindex: texts.jsonl\nquery: '{{ steps.embed_q.vector }}'")
	rt := steptest.NewRuntime(nil, map[string]any{"embed_q": map[string]any{"vector": []float64{1, 0}}})
	_, err := e.Execute(context.Background(), rt)
	if errtype.Of(err) != errtype.Validation || !errors.Is(err, vector.ErrDimensionMismatch) {
		t.Errorf("got %v (%s)", err, errtype.Of(err))
	}
}
