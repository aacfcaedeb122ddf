// Package apptest starts the orchestrator service (app.Run, what
// `orchestrator serve` runs) in-process on 127.0.0.1:0 for tests, talks to
// it, and keeps every answer so that tests can search them (for example
// for a leaked secret). Start registers cleanup with t: the service is
// stopped and the client's idle connections closed when the test ends.
//
// An Instance is safe for concurrent Do calls.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/app"
)

// Buffer is a bytes.Buffer safe for concurrent writes and reads (logs).
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Instance is one running app.Run.
type Instance struct {
	Base   string       // http://127.0.0.1:PORT
	Client *http.Client // its own transport, closed at cleanup
	Stdout *Buffer      // the banner
	Stderr *Buffer      // the logs

	t      testing.TB
	cancel context.CancelFunc
	done   chan error

	mu   sync.Mutex
	seen []string
}

// StopTimeout bounds how long Stop waits for app.Run to return.
const StopTimeout = 2 * time.Minute

// Start runs app.Run with o, after setting Addr to 127.0.0.1:0, Stdout,
// Stderr and OnListen. It returns once the listener is up and fails the
// test when Run returns first.
func Start(t testing.TB, o app.Options) *Instance {
	t.Helper()
	in := &Instance{
		t: t, done: make(chan error, 1), Stdout: &Buffer{}, Stderr: &Buffer{},
		Client: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
	}
	o.Addr = "127.0.0.1:0"
	o.Stdout, o.Stderr = in.Stdout, in.Stderr
	addr := make(chan net.Addr, 1)
	o.OnListen = func(a net.Addr) { addr <- a }
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() { in.done <- app.Run(ctx, o) }()
	select {
	case a := <-addr:
		in.Base = "http://" + a.String()
	case err := <-in.done:
		cancel()
		t.Fatalf("app.Run: %v\nlogs:\n%s", err, in.Stderr.String())
	}
	t.Cleanup(func() {
		_ = in.Stop()
		in.Client.CloseIdleConnections()
	})
	return in
}

// Terminate cancels the app's context, as SIGTERM does, without waiting:
// the service starts draining. Stop then waits for it.
func (in *Instance) Terminate() { in.cancel() }

// Stop cancels the app (as SIGTERM does) and returns Run's error. Calling
// it again returns nil.
func (in *Instance) Stop() error {
	in.cancel()
	select {
	case err, ok := <-in.done:
		if ok {
			close(in.done)
			return err
		}
		return nil
	case <-time.After(StopTimeout):
		in.t.Fatalf("app.Run did not return within %s", StopTimeout)
		return nil
	}
}

// Answer is one HTTP answer; Doc is the body parsed as a JSON object, if it is one.
type Answer struct {
	Code   int
	Header http.Header
	Raw    string
	Doc    map[string]any
}

// Do sends a request (header is name, value pairs) and reads the whole answer.
func (in *Instance) Do(method, path, body string, header ...string) Answer {
	in.t.Helper()
	req, err := http.NewRequest(method, in.Base+path, strings.NewReader(body))
	if err != nil {
		in.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := in.Client.Do(req)
	if err != nil {
		in.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		in.t.Fatal(err)
	}
	a := Answer{Code: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &a.Doc)
	var h bytes.Buffer
	_ = resp.Header.Write(&h)
	in.mu.Lock()
	in.seen = append(in.seen, fmt.Sprintf("%s %s -> %d\n%s\n%s", method, path, resp.StatusCode, h.String(), raw))
	in.mu.Unlock()
	return a
}

// Seen returns every answer so far (request line, status, headers, body).
func (in *Instance) Seen() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.seen...)
}
