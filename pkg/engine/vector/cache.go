package vector

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
)

// Key identifies a built index: the corpus file and the embedder that filled
// in the missing vectors (empty when the corpus has every vector).
type Key struct {
	Path       string // the corpus file (vector_search uses its absolute path)
	Provider   string // provider name as written in the workflow
	Model      string
	Dimensions int // the embed request's dimensions; 0 for the model's default
}

// Cache keeps parsed corpora and built indexes for the lifetime of an
// engine, which creates one with NewCache and hands it to step types through
// step.Env.Indexes. A file is read once: later edits are not seen until the
// engine restarts. Failures are not cached. It is safe for concurrent use.
type Cache struct {
	mu      sync.Mutex // guards corpora; held while a corpus is parsed
	corpora map[string]*Corpus

	imu     sync.Mutex // guards indexes
	indexes map[Key]*entry
}

type entry struct {
	done chan struct{} // closed when idx/err are set
	idx  *Index
	err  error
	// retry is set when the load failed because its caller's context ended:
	// the error is that caller's, so waiters load again themselves.
	retry bool
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{corpora: map[string]*Corpus{}, indexes: map[Key]*entry{}}
}

// Corpus returns the parsed corpus at path, reading it on first use.
func (c *Cache) Corpus(path string) (*Corpus, error) {
	key, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cp, ok := c.corpora[key]; ok {
		return cp, nil
	}
	cp, err := ReadCorpus(path)
	if err != nil {
		return nil, err
	}
	c.corpora[key] = cp
	return cp, nil
}

// Index returns the index for key, calling build once for all concurrent
// callers. Callers that wait give up when their ctx ends. When build fails
// the error goes to the callers that waited for it (and is not cached), except
// when it failed because its own caller's ctx ended: then a waiter builds
// again with its own ctx.
func (c *Cache) Index(ctx context.Context, key Key, build func(context.Context) (*Index, error)) (*Index, error) {
	for {
		c.imu.Lock()
		e, ok := c.indexes[key]
		if !ok {
			e = &entry{done: make(chan struct{})}
			c.indexes[key] = e
			c.imu.Unlock()
			c.build(ctx, key, e, build)
			return e.idx, e.err
		}
		c.imu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for index %s: %w", key.Path, context.Cause(ctx))
		}
		if e.err == nil || !e.retry {
			return e.idx, e.err
		}
	}
}

func (c *Cache) build(ctx context.Context, key Key, e *entry, build func(context.Context) (*Index, error)) {
	defer func() {
		if e.idx == nil {
			if e.err == nil {
				e.err = errors.New("vector: index build returned nothing or panicked")
			}
			e.retry = ctx.Err() != nil
			c.imu.Lock()
			delete(c.indexes, key)
			c.imu.Unlock()
		}
		close(e.done)
	}()
	e.idx, e.err = build(ctx)
	if e.err != nil {
		e.idx = nil
	}
}
