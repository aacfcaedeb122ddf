package server

import (
	"context"
	"sync"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
)

// history holds the runs in flight (always) and the last finished ones
// (bounded). It is safe for concurrent use.
type history struct {
	mu      sync.Mutex
	running map[string]*runEntry
	done    *lru[string, *engine.Result]
}

func newHistory(size int) *history {
	return &history{running: map[string]*runEntry{}, done: newLRU[string, *engine.Result](size)}
}

// begin registers a run about to start.
func (h *history) begin(id, workflow string) *runEntry {
	e := &runEntry{
		id:       id,
		workflow: workflow,
		started:  make(chan struct{}),
		done:     make(chan struct{}),
		steps:    map[string]*engine.StepResult{},
	}
	h.mu.Lock()
	h.running[id] = e
	h.mu.Unlock()
	return e
}

// finish moves a run to the finished history.
func (h *history) finish(e *runEntry, res *engine.Result) {
	h.mu.Lock()
	delete(h.running, e.id)
	h.done.add(e.id, res)
	h.mu.Unlock()
	close(e.done)
}

// abort forgets a run that never started (invalid inputs).
func (h *history) abort(e *runEntry) {
	h.mu.Lock()
	delete(h.running, e.id)
	h.mu.Unlock()
}

// get returns the run's document: its result when finished, else a
// snapshot with status "running" (or "queued" before it started).
func (h *history) get(id string) (*engine.Result, bool) {
	h.mu.Lock()
	e, running := h.running[id]
	h.mu.Unlock()
	if running {
		return e.snapshot(), true
	}
	return h.done.get(id)
}

// Statuses of a run document before the run ends.
const (
	StatusQueued  = "queued"  // an asynchronous run waiting for a run slot
	StatusRunning = "running" // the run is executing
)

// runEntry tracks one run in flight. As the run's observer it keeps the
// steps' progress for GET /v1/runs/{id}; the engine calls it from many
// goroutines at once.
type runEntry struct {
	observe.Nop
	id       string
	workflow string
	started  chan struct{} // closed on RunStart
	done     chan struct{} // closed when the result is in the history
	// onStart, when set (before the run), is called on RunStart.
	onStart func(context.Context)

	mu        sync.Mutex
	startedAt time.Time
	steps     map[string]*engine.StepResult
}

func (e *runEntry) RunStarted(ctx context.Context, ev observe.RunStart) {
	if e.onStart != nil {
		e.onStart(ctx)
	}
	e.mu.Lock()
	e.startedAt = ev.Start
	e.mu.Unlock()
	close(e.started)
}

func (e *runEntry) StepStarted(_ context.Context, ev observe.StepStart) {
	e.mu.Lock()
	e.steps[ev.StepID] = &engine.StepResult{Status: StatusRunning, Type: ev.StepType, Attempts: 1}
	e.mu.Unlock()
}

func (e *runEntry) StepRetrying(_ context.Context, ev observe.StepRetry) {
	e.mu.Lock()
	if st, ok := e.steps[ev.StepID]; ok {
		st.Attempts = ev.Attempt + 1
		st.Error = &engine.ErrorInfo{Type: string(ev.ErrorType), Message: "attempt failed; retrying"}
	}
	e.mu.Unlock()
}

func (e *runEntry) StepFinished(_ context.Context, ev observe.StepEnd) {
	st := &engine.StepResult{
		Status:     ev.Status,
		Type:       ev.StepType,
		Attempts:   ev.Attempts,
		Duration:   ev.Duration,
		DurationMS: float64(ev.Duration) / float64(time.Millisecond),
		SkipReason: ev.SkipReason,
	}
	if ev.Status == observe.StatusFailure {
		st.Error = &engine.ErrorInfo{Type: string(ev.ErrorType), Message: ev.Error}
	}
	e.mu.Lock()
	e.steps[ev.StepID] = st
	e.mu.Unlock()
}

func (e *runEntry) snapshot() *engine.Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	steps := make(map[string]*engine.StepResult, len(e.steps))
	for id, st := range e.steps {
		c := *st
		steps[id] = &c
	}
	status := StatusRunning
	if e.startedAt.IsZero() {
		status = StatusQueued
	}
	res := &engine.Result{
		ID:        e.id,
		Workflow:  e.workflow,
		Status:    status,
		StartedAt: e.startedAt,
		Steps:     steps,
		Outputs:   map[string]any{},
	}
	if !e.startedAt.IsZero() {
		res.Duration = time.Since(e.startedAt)
		res.DurationMS = float64(res.Duration) / float64(time.Millisecond)
	}
	return res
}
