package vectorsearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/embed"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/internal/stepkit"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/vector"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// Defaults and bounds.
const (
	DefaultDatabase = "memory"
	DefaultTopK     = 5
	MaxTopK         = 1000
)

// databases lists the vector stores that exist.
var databases = []string{DefaultDatabase}

// Config is the `vector_search` step's configuration.
type Config struct {
	Database        string         `yaml:"database"`       // default "memory"
	Index           string         `yaml:"index,required"` // corpus path, relative to the workflow's directory
	Query           string         `yaml:"query,required"` // template whose value is a vector
	TopK            *int           `yaml:"top_k"`          // default 5, 1..1000
	Filter          map[string]any `yaml:"filter"`         // metadata equality match
	IncludeMetadata *bool          `yaml:"include_metadata"`
	IncludeVectors  bool           `yaml:"include_vectors"`
}

// StepFinder is implemented by a step.Builder that can return any step of
// the workflow being compiled by id (nil when there is none). Build uses it
// to find the embed step the query refers to.
type StepFinder interface {
	Step(id string) *workflow.Step
}

// Spec returns the `vector_search` step type.
func Spec() step.Spec {
	return step.Spec{Type: "vector_search", NewConfig: func() any { return new(Config) }, Build: build}
}

type executor struct {
	cache       *vector.Cache
	corpus      *vector.Corpus
	key         vector.Key
	embedder    provider.Provider // nil when every document has a vector
	query       *tmpl.Template
	topK        int
	filter      map[string]any
	includeMeta bool
	includeVecs bool
	maxBytes    int
}

func build(sb step.Builder, s *workflow.Step) step.Executor {
	c := s.Config.(*Config)
	b := stepkit.Wrap(sb)
	env := b.Env()
	e := &executor{topK: DefaultTopK, includeMeta: true, includeVecs: c.IncludeVectors, filter: c.Filter, maxBytes: env.MaxTemplateBytes}
	if stepkit.Has(s, "database") && c.Database != DefaultDatabase {
		b.Errorf("database", "%s", stepkit.Unknown("database", c.Database, databases))
	}
	if c.TopK != nil {
		e.topK = *c.TopK
		if e.topK < 1 || e.topK > MaxTopK {
			b.Errorf("top_k", "top_k must be between 1 and %d, got %d", MaxTopK, e.topK)
		}
	}
	if c.IncludeMetadata != nil {
		e.includeMeta = *c.IncludeMetadata
	}
	for k, v := range c.Filter {
		switch v.(type) {
		case string, bool, int, int64, float64, nil:
		default:
			b.Errorf("filter", "filter %q: want a string, number, boolean or null, got %s", k, stepkit.Describe(v))
		}
	}
	e.query = b.Template("query", c.Query)
	e.cache, _ = env.Indexes.(*vector.Cache)
	if e.cache == nil {
		e.cache = vector.NewCache() // no engine-wide cache: this step keeps its own
	}
	if c.Index == "" || !filepath.IsLocal(c.Index) {
		b.Errorf("index", "index must be a relative path inside the workflow's directory, got %q", c.Index)
	} else {
		path := filepath.Join(env.BaseDir, c.Index)
		corpus, err := e.cache.Corpus(path)
		if err != nil {
			b.Errorf("index", "read index: %v", err)
		} else {
			e.corpus = corpus
			e.key.Path, _ = filepath.Abs(path) // one index per file, however it is named
		}
	}
	if e.corpus != nil && e.corpus.Missing > 0 && e.query != nil {
		e.findEmbedder(b, c)
	}
	if b.Failed() {
		return nil
	}
	return e
}

// findEmbedder resolves the embed step the query refers to.
func (e *executor) findEmbedder(b *stepkit.Builder, c *Config) {
	finder, _ := b.Builder.(StepFinder)
	for _, ref := range e.query.Refs() {
		id, ok := strings.CutPrefix(ref, "steps.")
		if !ok || finder == nil {
			continue
		}
		id, _, _ = strings.Cut(id, ".")
		if s := finder.Step(id); s != nil {
			if ec, ok := s.Config.(*embed.Config); ok {
				e.embedder = b.Provider("query", ec.Provider)
				e.key.Provider, e.key.Model, e.key.Dimensions = ec.Provider, ec.Model, ec.Dims()
				return
			}
		}
	}
	b.Errorf("query", "%d of the %d documents in %s have no vector: add vectors to the corpus, or make query refer to an embed step (for example {{ steps.embed_query.vector }}) so that they are embedded with its provider and model",
		e.corpus.Missing, len(e.corpus.Docs), c.Index)
}

// Execute renders the query vector, builds the index on first use and
// searches it.
func (e *executor) Execute(ctx context.Context, rt step.Runtime) (step.Result, error) {
	v, err := stepkit.Value(e.query, rt.Data(), e.maxBytes, "query")
	if err != nil {
		return step.Result{}, err
	}
	q, err := toVector(v)
	if err != nil {
		return step.Result{}, errtype.New(errtype.Validation, fmt.Errorf("query: %w", err))
	}
	ix, err := e.cache.Index(ctx, e.key, func(ctx context.Context) (*vector.Index, error) {
		return e.corpus.Index(ctx, e.embed)
	})
	if err != nil {
		if errors.Is(err, vector.ErrDimensionMismatch) {
			return step.Result{}, errtype.New(errtype.Validation, err)
		}
		return step.Result{}, err
	}
	hits, err := ix.Search(q, e.topK, e.filter)
	if err != nil {
		return step.Result{}, errtype.New(errtype.Validation, err)
	}
	out := make([]any, len(hits))
	for i, h := range hits {
		m := map[string]any{"id": h.ID, "score": h.Score, "text": h.Text}
		if e.includeMeta {
			meta := h.Metadata
			if meta == nil {
				meta = map[string]any{}
			}
			m["metadata"] = meta
		}
		if e.includeVecs {
			m["vector"] = h.Vector
		}
		out[i] = m
	}
	return step.Result{Object: map[string]any{"hits": out}, Values: []any{out}}, nil
}

// embed embeds corpus documents with the query's embed step's settings.
func (e *executor) embed(ctx context.Context, texts []string) ([][]float64, error) {
	resp, err := e.embedder.Embed(ctx, provider.EmbedRequest{Model: e.key.Model, Input: texts, Dimensions: e.key.Dimensions})
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, errtype.New(errtype.ProviderError, errors.New("the provider returned no response"))
	}
	return resp.Vectors, nil
}

// toVector accepts []float64, []float32, a list of numbers, or a string
// holding a JSON array of numbers.
func toVector(v any) ([]float64, error) {
	switch x := v.(type) {
	case []float64:
		return x, nil
	case string:
		var out []float64
		if err := json.Unmarshal([]byte(x), &out); err != nil {
			return nil, fmt.Errorf("want a vector (a list of numbers, such as {{ steps.embed_query.vector }}), got text that is not a JSON array of numbers: %w", err)
		}
		return out, nil
	case nil:
		return nil, errors.New("want a vector, got nothing (is the referenced step skipped?)")
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return nil, fmt.Errorf("want a vector (a list of numbers), got %s", stepkit.Describe(v))
	}
	out := make([]float64, rv.Len())
	for i := range out {
		el := rv.Index(i)
		if el.Kind() == reflect.Interface {
			el = el.Elem()
		}
		switch {
		case el.CanFloat():
			out[i] = el.Float()
		case el.CanInt():
			out[i] = float64(el.Int())
		default:
			return nil, fmt.Errorf("want a vector, element %d is %s", i, el.Kind())
		}
	}
	return out, nil
}
