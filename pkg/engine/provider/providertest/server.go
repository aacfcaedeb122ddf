package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Wire is a provider wire format spoken by a fake server.
type Wire int

// The wire formats.
const (
	OpenAI    Wire = iota + 1 // /v1/chat/completions, /v1/embeddings; SSE data frames ending in [DONE]
	Anthropic                 // /v1/messages; SSE event/data frames from message_start to message_stop
)

func (w Wire) String() string {
	switch w {
	case OpenAI:
		return "openai"
	case Anthropic:
		return "anthropic"
	}
	return "unknown"
}

// Fault is what goes wrong with one response of a fake server.
type Fault string

// The faults. Every fault answers streamed and plain requests in the wire
// format of the server.
const (
	// FaultNone answers normally.
	FaultNone Fault = ""
	// FaultStatus answers Reply.Status (default 500) with the API's JSON
	// error body (Reply.ErrorType, Reply.Message; defaults by status) and the
	// Retry-After / retry-after-ms headers of the Reply. The default message
	// of a 401 echoes the API key the request carried, to prove callers
	// redact it.
	FaultStatus Fault = "status"
	// FaultHTML answers Reply.Status (default 502) with an HTML page, as a
	// proxy in front of the API would.
	FaultHTML Fault = "html"
	// FaultGarbage answers 200 with malformed JSON (a malformed SSE event
	// for a streamed request).
	FaultGarbage Fault = "garbage"
	// FaultEmpty answers 200 with an empty choices list (OpenAI) or a
	// message with no content and no stop_reason (Anthropic); embeddings get
	// an empty data list. The usage is reported.
	FaultEmpty Fault = "empty"
	// FaultTruncated ends the response early but cleanly: a stream stops
	// after its content, before the usage event and [DONE] / message_stop
	// (Anthropic's message_start usage has been sent); a plain body is
	// shorter than its Content-Length.
	FaultTruncated Fault = "truncated"
	// FaultReset sends half the response, then resets the TCP connection.
	FaultReset Fault = "reset"
	// FaultSlowloris sends the response one byte every Reply.Trickle
	// (default 50ms).
	FaultSlowloris Fault = "slowloris"
	// FaultStreamError streams part of the content, then an in-band API
	// error event of Reply.ErrorType (default server_error / overloaded_error)
	// after the usage known so far. A plain request gets FaultStatus 500.
	FaultStreamError Fault = "stream_error"
)

// Defaults of a Reply.
const (
	DefaultText         = "Hello from the fake provider."
	DefaultInputTokens  = 11
	DefaultOutputTokens = 7
	DefaultDimensions   = 8 // embedding size when the request gives none
)

// Reply scripts one response of a fake server.
type Reply struct {
	Fault Fault
	// Status is the HTTP status of FaultStatus (default 500) and FaultHTML
	// (default 502).
	Status int
	// ErrorType and Message fill the API error body (FaultStatus) or error
	// event (FaultStreamError); empty means the API's usual words for Status.
	ErrorType string
	Message   string
	// RetryAfter and RetryAfterMS set the Retry-After and retry-after-ms
	// headers of an error response when non-empty.
	RetryAfter   string
	RetryAfterMS string
	// Text is the answer (default DefaultText). It streams as the chunks
	// strings.SplitAfter(Text, " ") unless Chunks is set, which then also
	// defines Text.
	Text   string
	Chunks []string
	// StopReason is the wire finish_reason / stop_reason (default "stop" /
	// "end_turn").
	StopReason string
	// InputTokens and OutputTokens are the reported usage (defaults
	// DefaultInputTokens, DefaultOutputTokens).
	InputTokens, OutputTokens int64
	// Delay holds the response back before its first byte (a slow first
	// byte). The wait ends early when the client goes away.
	Delay time.Duration
	// Trickle is the pause between bytes of FaultSlowloris.
	Trickle time.Duration
}

func (r Reply) chunks() []string {
	if r.Chunks != nil {
		return r.Chunks
	}
	text := r.Text
	if text == "" {
		text = DefaultText
	}
	return strings.SplitAfter(text, " ")
}

func (r Reply) usage() (in, out int64) {
	in, out = r.InputTokens, r.OutputTokens
	if in == 0 {
		in = DefaultInputTokens
	}
	if out == 0 {
		out = DefaultOutputTokens
	}
	return in, out
}

// Request is a request a fake server received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	// JSON is the decoded body, nil when the body is not a JSON object.
	JSON map[string]any
}

// Stream reports whether the request asked for a streamed answer.
func (r Request) Stream() bool { s, _ := r.JSON["stream"].(bool); return s }

// Model returns the request's model.
func (r Request) Model() string { m, _ := r.JSON["model"].(string); return m }

// Server is a fake provider API on 127.0.0.1 speaking one wire format, with
// scripted replies and faults. It counts the requests it received and the
// connections open to it. It is safe for concurrent use.
type Server struct {
	// URL is the server's root URL (http://127.0.0.1:port).
	URL string

	wire    Wire
	hs      *httptest.Server
	closing chan struct{}
	once    sync.Once

	mu        sync.Mutex
	script    []Reply
	replyFunc func(n int, req Request) Reply
	requests  []Request
	conns     map[net.Conn]http.ConnState
	changed   chan struct{} // closed and replaced whenever conns changes
}

// NewServer starts a fake server for wire answering the nth request (from 0)
// with script[n], repeating the last entry once the script runs out (an empty
// script answers every request normally). It is closed by t.Cleanup.
func NewServer(t testing.TB, wire Wire, script ...Reply) *Server {
	t.Helper()
	s := &Server{
		wire:    wire,
		closing: make(chan struct{}),
		script:  script,
		conns:   map[net.Conn]http.ConnState{},
		changed: make(chan struct{}),
	}
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.hs.Config.ConnState = s.connState
	s.hs.Start()
	s.URL = s.hs.URL
	t.Cleanup(s.Close)
	return s
}

// NewOpenAIServer starts a fake OpenAI API; see NewServer.
func NewOpenAIServer(t testing.TB, script ...Reply) *Server {
	t.Helper()
	return NewServer(t, OpenAI, script...)
}

// NewAnthropicServer starts a fake Anthropic API; see NewServer.
func NewAnthropicServer(t testing.TB, script ...Reply) *Server {
	t.Helper()
	return NewServer(t, Anthropic, script...)
}

// BaseURL is the base URL to configure a provider with: URL + "/v1" for
// OpenAI (whose SDK appends "chat/completions"), URL for Anthropic (whose SDK
// appends "v1/messages").
func (s *Server) BaseURL() string {
	if s.wire == OpenAI {
		return s.URL + "/v1"
	}
	return s.URL
}

// SetScript replaces the script; the request count is unchanged, and the
// next request gets script[Requests()] (or the last entry).
func (s *Server) SetScript(script ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script, s.replyFunc = script, nil
}

// SetReplyFunc makes f choose the reply of every later request; n counts
// requests from 0 since the server started.
func (s *Server) SetReplyFunc(f func(n int, req Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replyFunc = f
}

// Requests returns how many requests the server received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Received returns a copy of the requests received, in arrival order.
func (s *Server) Received() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// OpenConns returns how many client connections are open (new, active or
// idle) on the server.
func (s *Server) OpenConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// WaitNoOpenConns blocks until no connection is open or ctx is done. Close
// the client's idle connections first (http.Client.CloseIdleConnections): a
// connection still open afterwards is one whose response body nobody closed.
func (s *Server) WaitNoOpenConns(ctx context.Context) error {
	for {
		s.mu.Lock()
		n, ch := len(s.conns), s.changed
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-ch:
		}
	}
}

// Close stops the server: pending delays end at once and Close waits for
// every handler. It is safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.hs.Close()
	})
}

// ClosedURL returns a base URL on 127.0.0.1 where nothing listens, for
// connection-refused tests.
func ClosedURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	return "http://" + addr
}

func (s *Server) connState(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch state {
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c) // hijacked connections are closed by the fault that took them
	default:
		s.conns[c] = state
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	if err := json.Unmarshal(body, &req.JSON); err != nil {
		req.JSON = nil
	}
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, req)
	var reply Reply
	switch {
	case s.replyFunc != nil:
		reply = s.replyFunc(n, req)
	case n < len(s.script):
		reply = s.script[n]
	case len(s.script) > 0:
		reply = s.script[len(s.script)-1]
	}
	s.mu.Unlock()

	if !s.wait(r.Context(), reply.Delay) {
		return
	}
	var res response
	switch {
	case s.wire == OpenAI && r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions":
		res = openAIChat(req, reply)
	case s.wire == OpenAI && r.Method == http.MethodPost && r.URL.Path == "/v1/embeddings":
		res = openAIEmbeddings(req, reply)
	case s.wire == Anthropic && r.Method == http.MethodPost && r.URL.Path == "/v1/messages":
		res = anthropicChat(req, reply)
	default:
		res = s.errorResponse(req, Reply{Status: http.StatusNotFound, Message: "unknown path " + r.URL.Path})
	}
	if res.status == 0 { // the reply is an error: build it in the wire's error format
		res = s.errorResponse(req, reply)
	}
	s.write(w, r, res, reply)
}

// errorResponse builds a FaultStatus/FaultHTML response.
func (s *Server) errorResponse(req Request, reply Reply) response {
	if reply.Fault == FaultHTML {
		status := reply.Status
		if status == 0 {
			status = http.StatusBadGateway
		}
		page := "<html>\r\n<head><title>" + statusLine(status) + "</title></head>\r\n<body>\r\n<center><h1>" +
			statusLine(status) + "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
		return response{status: status, contentType: "text/html", parts: [][]byte{[]byte(page)}}
	}
	status := reply.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	msg := reply.Message
	if msg == "" && status == http.StatusUnauthorized {
		msg = "Incorrect API key provided: " + requestKey(req) + "."
	}
	var b []byte
	if s.wire == OpenAI {
		b = openAIError(status, reply.ErrorType, msg)
	} else {
		b = anthropicError(status, reply.ErrorType, msg)
	}
	res := response{status: status, contentType: "application/json", parts: [][]byte{b}, header: http.Header{}}
	if reply.RetryAfter != "" {
		res.header.Set("Retry-After", reply.RetryAfter)
	}
	if reply.RetryAfterMS != "" {
		res.header.Set("Retry-After-Ms", reply.RetryAfterMS)
	}
	return res
}

func statusLine(status int) string { return strconv.Itoa(status) + " " + http.StatusText(status) }

func requestKey(req Request) string {
	if k := req.Header.Get("X-Api-Key"); k != "" {
		return k
	}
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
}

// response is a wire response before faults that affect delivery (truncated
// plain bodies, resets, trickling) are applied. status 0 means "answer with
// the error response of the reply".
type response struct {
	status      int
	contentType string
	header      http.Header
	parts       [][]byte // flushed one by one (SSE frames), or one body
	stream      bool
}

// wait sleeps d unless the request or the server ends first; it reports
// whether to go on.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.closing:
	}
	return false
}

func (s *Server) write(w http.ResponseWriter, r *http.Request, res response, reply Reply) {
	for k, v := range res.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", res.contentType)
	if res.stream {
		w.Header().Set("Cache-Control", "no-cache")
	}
	body := bytes.Join(res.parts, nil)
	if !res.stream {
		declared := len(body)
		if reply.Fault == FaultTruncated {
			body = body[:len(body)/2]
		}
		w.Header().Set("Content-Length", strconv.Itoa(declared))
	}
	rc := http.NewResponseController(w)
	switch reply.Fault {
	case FaultReset:
		w.WriteHeader(res.status)
		_, _ = w.Write(body[:len(body)/2])
		_ = rc.Flush()
		conn, _, err := rc.Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST
		}
		_ = conn.Close()
	case FaultSlowloris:
		trickle := reply.Trickle
		if trickle <= 0 {
			trickle = 50 * time.Millisecond
		}
		w.WriteHeader(res.status)
		_ = rc.Flush()
		for i := range body {
			if !s.wait(r.Context(), trickle) {
				return
			}
			if _, err := w.Write(body[i : i+1]); err != nil {
				return
			}
			_ = rc.Flush()
		}
	default:
		w.WriteHeader(res.status)
		if !res.stream {
			_, _ = w.Write(body)
			return
		}
		for _, p := range res.parts {
			if _, err := w.Write(p); err != nil {
				return
			}
			_ = rc.Flush()
		}
	}
}
