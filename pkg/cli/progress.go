package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
)

// Progress is an observer that prints one line per step event to w: started,
// finished (duration and attempts), failed (error type and reason), retrying
// (the wait) and skipped (why), then one line for the run. Safe for
// concurrent use; lines never interleave.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
}

// NewProgress returns a Progress writing to w, with ANSI colours when color.
func NewProgress(w io.Writer, color bool) *Progress { return &Progress{w: w, color: color} }

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiDim    = "\x1b[2m"
)

func (p *Progress) line(color, mark, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.color {
		mark = color + mark + ansiReset
	}
	fmt.Fprintf(p.w, "%s %s\n", mark, fmt.Sprintf(format, args...))
}

func (p *Progress) RunStarted(_ context.Context, e observe.RunStart) {
	p.line(ansiCyan, "▶", "run %s: workflow %q", e.RunID, e.Workflow)
}

func (p *Progress) RunFinished(_ context.Context, e observe.RunEnd) {
	if e.Status == observe.StatusSuccess {
		p.line(ansiGreen, "✔", "run %s: success in %s", e.RunID, round(e.Duration))
		return
	}
	p.line(ansiRed, "✘", "run %s: failure (%s) in %s", e.RunID, e.ErrorType, round(e.Duration))
}

func (p *Progress) StepStarted(_ context.Context, e observe.StepStart) {
	p.line(ansiCyan, "▸", "%s (%s) started", e.StepID, e.StepType)
}

func (p *Progress) StepFinished(_ context.Context, e observe.StepEnd) {
	switch e.Status {
	case observe.StatusSuccess:
		p.line(ansiGreen, "✓", "%s (%s) finished in %s, %s", e.StepID, e.StepType, round(e.Duration), attempts(e.Attempts))
	case observe.StatusFailure:
		p.line(ansiRed, "✗", "%s (%s) failed after %s in %s: %s: %s", e.StepID, e.StepType, attempts(e.Attempts), round(e.Duration), e.ErrorType, e.Error)
	default:
		why := e.SkipReason
		if why == "" {
			why = e.Error
		}
		p.line(ansiDim, "–", "%s (%s) skipped: %s", e.StepID, e.StepType, why)
	}
}

func (p *Progress) StepRetrying(_ context.Context, e observe.StepRetry) {
	src := ""
	if e.RetryAfter {
		src = " (Retry-After)"
	}
	p.line(ansiYellow, "↻", "%s (%s) attempt %d failed: %s; retrying in %s%s", e.StepID, e.StepType, e.Attempt, e.ErrorType, round(e.Wait), src)
}

func (p *Progress) ProviderRequestFinished(context.Context, observe.ProviderRequest) {}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// round keeps durations readable: ms precision under a minute.
func round(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
