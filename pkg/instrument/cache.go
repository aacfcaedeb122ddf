package instrument

import "sync"

// cache maps a label tuple to its precomputed measurement options. It holds
// at most max entries; past that, callers build the options per call (the
// result is still correct, only slower). Reads take a shared lock and do not
// allocate.
type cache[K comparable, V any] struct {
	mu  sync.RWMutex
	m   map[K]V
	max int
}

func newCache[K comparable, V any](max int) *cache[K, V] {
	return &cache[K, V]{m: make(map[K]V), max: max}
}

func (c *cache[K, V]) load(k K) (V, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

// store keeps v under k unless the cache is full, and returns the value now
// associated with k (an earlier concurrent store wins).
func (c *cache[K, V]) store(k K, v V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[k]; ok {
		return old
	}
	if len(c.m) < c.max {
		c.m[k] = v
	}
	return v
}

// OverflowValue replaces a workflow name or model once its label has reached
// its limit of distinct values.
const OverflowValue = "_other"

// limiter admits label values: every allowed value, plus the first max other
// distinct values seen. Admitted values stay admitted.
type limiter struct {
	mu      sync.RWMutex
	allowed map[string]struct{}
	seen    map[string]struct{}
	max     int
}

func newLimiter(max int) *limiter {
	return &limiter{allowed: map[string]struct{}{}, seen: map[string]struct{}{}, max: max}
}

func (l *limiter) allow(vals ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range vals {
		l.allowed[v] = struct{}{}
	}
}

// admit reports whether v may be used as a label value.
func (l *limiter) admit(v string) bool {
	l.mu.RLock()
	_, a := l.allowed[v]
	_, s := l.seen[v]
	l.mu.RUnlock()
	if a || s {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[v]; ok {
		return true
	}
	if len(l.seen) >= l.max {
		return false
	}
	l.seen[v] = struct{}{}
	return true
}
