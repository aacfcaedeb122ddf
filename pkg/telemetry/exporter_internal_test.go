package telemetry

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestErrorLog: at most one failure line per interval, with the count of
// suppressed failures, and one line when export recovers.
func TestErrorLog(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &errorLog{
		log:   slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime})),
		every: 30 * time.Second,
		now:   func() time.Time { return now },
	}
	boom := errors.New("connection refused")
	for range 5 {
		l.failed(boom)
		now = now.Add(5 * time.Second)
	}
	now = now.Add(10 * time.Second) // 35 s after the first line
	l.failed(boom)
	l.succeeded()
	l.succeeded()
	want := strings.Join([]string{
		`level=WARN msg="otlp metric export failed" error="connection refused" suppressed=0 consecutive_failures=1`,
		`level=WARN msg="otlp metric export failed" error="connection refused" suppressed=4 consecutive_failures=6`,
		`level=INFO msg="otlp metric export recovered" failed_exports=6`,
	}, "\n") + "\n"
	if got := buf.String(); got != want {
		t.Errorf("log =\n%s\nwant\n%s", got, want)
	}
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
