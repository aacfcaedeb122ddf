package engine_test

import (
	"slices"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sampler keeps per-iteration latencies in a ring allocated before the
// timed loop, so that taking samples costs no allocation, and reports their
// median.
type sampler struct {
	ring []time.Duration
	n    int
}

func newSampler() *sampler { return &sampler{ring: make([]time.Duration, 1<<16)} }

func (s *sampler) add(d time.Duration) {
	s.ring[s.n%len(s.ring)] = d
	s.n++
}

// p50 is the median of the last len(ring) samples.
func (s *sampler) p50() time.Duration {
	got := slices.Clone(s.ring[:min(s.n, len(s.ring))])
	if len(got) == 0 {
		return 0
	}
	slices.Sort(got)
	return got[len(got)/2]
}
