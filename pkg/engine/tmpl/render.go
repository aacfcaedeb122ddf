package tmpl

import (
	"fmt"
	"sync"
)

// frame is one context pushed by #each or #with.
type frame struct {
	v     any
	index int
	key   any // map key, or the index for lists
	n     int // number of items, for @last
}

// state is the per-render mutable state. States are pooled.
type state struct {
	src    string
	data   map[string]any
	frames []frame
	buf    []byte
	max    int
	steps  int
	args   []any // argument stack for helper calls
}

var statePool = sync.Pool{New: func() any { return new(state) }}

// maxPooledBuf bounds the buffers kept in the pool, so that one huge
// render does not pin its memory.
const maxPooledBuf = 64 << 10

func getState(src string, data map[string]any, maxBytes int) *state {
	st := statePool.Get().(*state)
	st.src, st.data, st.max, st.steps = src, data, maxBytes, 0
	return st
}

func putState(st *state) {
	if cap(st.buf) > maxPooledBuf {
		st.buf = nil
	}
	clear(st.frames[:cap(st.frames)])
	clear(st.args[:cap(st.args)])
	st.buf, st.frames, st.args = st.buf[:0], st.frames[:0], st.args[:0]
	st.data = nil
	statePool.Put(st)
}

// tick charges one step against MaxSteps.
func (st *state) tick() error { return st.add(1) }

// charge charges for reading or building n bytes: one step per 64.
func (st *state) charge(n int) error { return st.add(n >> 6) }

func (st *state) add(n int) error {
	st.steps += n
	if st.steps > MaxSteps {
		return fmt.Errorf("template does more than %d steps: %w", MaxSteps, ErrWorkLimit)
	}
	return nil
}

func (st *state) write(s string) error {
	if len(st.buf)+len(s) > st.max {
		return fmt.Errorf("output exceeds %d bytes: %w", st.max, ErrOutputLimit)
	}
	st.buf = append(st.buf, s...)
	return nil
}

// at wraps err with the line and column of pos.
func (st *state) at(pos int, err error) error {
	l, c := position(st.src, pos)
	return fmt.Errorf("%d:%d: %w", l, c, err)
}

func renderNodes(st *state, nodes []node) error {
	for _, n := range nodes {
		if err := n.render(st); err != nil {
			return err
		}
	}
	return nil
}

func (n textNode) render(st *state) error { return st.write(string(n)) }

func (n *outNode) render(st *state) error {
	if err := st.tick(); err != nil {
		return err
	}
	v, err := n.e.eval(st)
	if err != nil {
		return st.at(n.pos, err)
	}
	mark := len(st.buf)
	if st.buf, err = appendValue(st.buf, v); err != nil {
		st.buf = st.buf[:mark]
		return st.at(n.pos, err)
	}
	if len(st.buf) > st.max {
		st.buf = st.buf[:mark]
		return fmt.Errorf("output exceeds %d bytes: %w", st.max, ErrOutputLimit)
	}
	return nil
}

func (n *ifNode) render(st *state) error {
	for _, b := range n.branches {
		if err := st.tick(); err != nil {
			return err
		}
		v, err := b.e.eval(st)
		if err != nil {
			return st.at(b.pos, err)
		}
		if truthy(v) != b.neg {
			return renderNodes(st, b.body)
		}
	}
	return renderNodes(st, n.alt)
}

func (n *scopeNode) render(st *state) error {
	if err := st.tick(); err != nil {
		return err
	}
	v, err := n.e.eval(st)
	if err != nil {
		return st.at(n.pos, err)
	}
	if !n.each {
		if !truthy(v) {
			return renderNodes(st, n.alt)
		}
		st.frames = append(st.frames, frame{v: v})
		err := renderNodes(st, n.body)
		st.frames = st.frames[:len(st.frames)-1]
		return err
	}
	count := 0
	err = iterate(v, func(i, total int, key, item any) error {
		if err := st.tick(); err != nil {
			return err
		}
		count++
		st.frames = append(st.frames, frame{v: item, index: i, key: key, n: total})
		err := renderNodes(st, n.body)
		st.frames = st.frames[:len(st.frames)-1]
		return err
	})
	if err != nil || count > 0 {
		return err
	}
	return renderNodes(st, n.alt)
}

func (e litExpr) eval(*state) (any, error) { return e.v, nil }

func (e rootPath) eval(st *state) (any, error) {
	var v any = st.data[e.segs[0].key]
	for _, s := range e.segs[1:] {
		if v = lookup(v, s); v == nil {
			break
		}
	}
	return v, nil
}

func (e localPath) eval(st *state) (any, error) {
	v := st.frames[len(st.frames)-1-e.up].v
	for _, s := range e.segs {
		if v = lookup(v, s); v == nil {
			break
		}
	}
	return v, nil
}

func (e dataVar) eval(st *state) (any, error) {
	f := &st.frames[len(st.frames)-1-e.up]
	switch e.name {
	case "index":
		return f.index, nil
	case "key":
		return f.key, nil
	case "first":
		return f.index == 0, nil
	default: // "last"
		return f.index == f.n-1, nil
	}
}

func (e *callExpr) eval(st *state) (any, error) {
	base := len(st.args)
	for _, a := range e.args {
		v, err := a.eval(st)
		if err != nil {
			st.args = st.args[:base]
			return nil, err
		}
		st.args = append(st.args, v)
	}
	if err := st.tick(); err != nil {
		return nil, err
	}
	v, err := e.h.fn(st, st.args[base:])
	clear(st.args[base:])
	st.args = st.args[:base]
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.h.name, err)
	}
	return v, nil
}
