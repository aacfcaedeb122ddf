package server

import (
	"container/list"
	"context"
	"fmt"
	"net/http"
	"time"
)

// QueueObserver receives the events of admission control;
// instrument.Recorder implements it (orchestrator_run_queue_depth and
// orchestrator_run_queue_wait_seconds). Every run that reaches the engine
// causes exactly one QueueLeft or QueueBypassed. The methods are called
// from request and run goroutines at once, must be safe for concurrent use
// and must not block.
type QueueObserver interface {
	// QueueEntered: an asynchronous run starts waiting for a run slot.
	QueueEntered(ctx context.Context)
	// QueueLeft: a waiting run leaves the queue after waiting waited,
	// because it got a run slot or because the shutdown deadline passed
	// (it then runs at once, cancelled).
	QueueLeft(ctx context.Context, waited time.Duration)
	// QueueBypassed: a run started without waiting.
	QueueBypassed(ctx context.Context)
}

type nopQueue struct{}

func (nopQueue) QueueEntered(context.Context)             {}
func (nopQueue) QueueLeft(context.Context, time.Duration) {}
func (nopQueue) QueueBypassed(context.Context)            {}

// ticket is one admitted submission's place under admission control: a run
// slot, or a reserved place in the queue (asynchronous runs only). It is
// used by one goroutine at a time.
type ticket struct {
	s      *Server
	slot   bool // holds a run slot (counted in Server.inflight)
	queued bool // holds a queue place not yet in the queue (Server.reserved)
	done   bool
}

// waiter is one asynchronous run in the queue, waiting for a run slot.
type waiter struct {
	ready chan struct{} // closed when a freed slot is handed to it
	since time.Time
	elem  *list.Element // nil once out of Server.waiting; guarded by Server.mu
}

// admit takes a run slot when one is free and nobody waits. Otherwise an
// asynchronous submission reserves a place in the queue while there is
// room. Every other case is answered: 503 (draining) or 429 (max_inflight,
// or queue_full for an asynchronous run), and admit returns false.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, async bool) (*ticket, bool) {
	s.mu.Lock()
	switch {
	case s.draining:
		s.mu.Unlock()
		s.reject(w, r, ReasonDraining, http.StatusServiceUnavailable, "server is shutting down and accepts no new runs; retry on another instance")
		return nil, false
	case s.inflight < s.cfg.maxInflight && s.waiting.Len() == 0:
		s.inflight++
		s.wg.Add(1)
		s.mu.Unlock()
		return &ticket{s: s, slot: true}, true
	case async && s.waiting.Len()+s.reserved < s.cfg.maxQueued:
		s.reserved++
		s.wg.Add(1)
		s.mu.Unlock()
		return &ticket{s: s, queued: true}, true
	case async && s.cfg.maxQueued > 0:
		s.mu.Unlock()
		s.reject(w, r, ReasonQueueFull, http.StatusTooManyRequests,
			fmt.Sprintf("run queue is full (%d runs waiting for %d run slots); retry later", s.cfg.maxQueued, s.cfg.maxInflight))
		return nil, false
	default:
		s.mu.Unlock()
		s.reject(w, r, ReasonMaxInflight, http.StatusTooManyRequests,
			fmt.Sprintf("too many runs in flight (limit %d); retry later", s.cfg.maxInflight))
		return nil, false
	}
}

// release gives up the ticket: a run slot goes to the oldest waiting run
// (or back to the pool), a reserved queue place is freed. Later calls do
// nothing.
func (tk *ticket) release() {
	if tk.done {
		return
	}
	tk.done = true
	s := tk.s
	s.mu.Lock()
	switch {
	case tk.slot:
		if f := s.waiting.Front(); f != nil {
			wt := s.waiting.Remove(f).(*waiter)
			wt.elem = nil
			close(wt.ready)
		} else {
			s.inflight--
		}
	case tk.queued:
		s.reserved--
	}
	s.mu.Unlock()
	s.wg.Done()
}

// handOff moves the ticket to a new owner (an async run's goroutine): tk's
// release then does nothing.
func (tk *ticket) handOff() *ticket {
	c := *tk
	tk.done = true
	return &c
}

// enqueue turns tk's reserved place into a place at the back of the queue,
// and returns its waiter. When a slot is free and nobody waits (a run ended
// meanwhile), tk takes the slot instead and enqueue returns nil.
func (s *Server) enqueue(ctx context.Context, tk *ticket) *waiter {
	s.mu.Lock()
	s.reserved--
	tk.queued = false
	if s.inflight < s.cfg.maxInflight && s.waiting.Len() == 0 {
		s.inflight++
		tk.slot = true
		s.mu.Unlock()
		return nil
	}
	wt := &waiter{ready: make(chan struct{}), since: time.Now()}
	wt.elem = s.waiting.PushBack(wt)
	s.mu.Unlock()
	s.queue.QueueEntered(ctx)
	return wt
}

// awaitTurn blocks until wt is handed a run slot (tk then holds it) or ctx
// ends (the shutdown deadline): the run then leaves the queue without a
// slot, to run cancelled.
func (s *Server) awaitTurn(ctx context.Context, tk *ticket, wt *waiter) {
	select {
	case <-wt.ready:
		tk.slot = true
	case <-ctx.Done():
		s.mu.Lock()
		if wt.elem != nil {
			s.waiting.Remove(wt.elem)
			wt.elem = nil
		} else {
			tk.slot = true // a slot was handed over meanwhile
		}
		s.mu.Unlock()
	}
	s.queue.QueueLeft(ctx, time.Since(wt.since))
}
