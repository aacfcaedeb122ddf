package providertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
)

// Key is the API key RunChatSuite configures. Fake servers echo the key of a
// request in their default 401 message, so a provider that does not redact
// it fails the suite.
const Key = "sk-providertest-canary-7f3a9c1e"

// TestModel is the model RunChatSuite asks for; the fakes echo it.
const TestModel = "test-model"

type chatCase struct {
	name       string
	reply      Reply
	stream     bool
	refused    bool   // call a port where nothing listens
	maxBytes   int64  // provider.Config.MaxResponseBytes
	ctx        string // "", "deadline" or "cancel"
	wantType   errtype.Type
	wantStatus int
	wantAfter  time.Duration
	// wantPartial is the usage returned with the error, per wire; a wire
	// without an entry must return no response.
	wantPartial map[Wire]provider.Usage
}

func chatCases() []chatCase {
	both := func(in, out int64) map[Wire]provider.Usage {
		return map[Wire]provider.Usage{OpenAI: {InputTokens: in, OutputTokens: out}, Anthropic: {InputTokens: in, OutputTokens: out}}
	}
	anthropicStart := map[Wire]provider.Usage{Anthropic: {InputTokens: DefaultInputTokens, OutputTokens: 1}}
	var cases []chatCase
	for _, stream := range []bool{false, true} {
		mode := "plain"
		if stream {
			mode = "stream"
		}
		add := func(c chatCase) {
			c.name = mode + "/" + c.name
			c.stream = stream
			cases = append(cases, c)
		}
		add(chatCase{name: "success"})
		add(chatCase{name: "malformed JSON", reply: Reply{Fault: FaultGarbage}, wantType: errtype.ProviderError, wantStatus: 200,
			wantPartial: anthropicStreamOnly(stream, anthropicStart)})
		add(chatCase{name: "HTML error page", reply: Reply{Fault: FaultHTML}, wantType: errtype.ProviderError, wantStatus: 502})
		add(chatCase{name: "HTML page with 200", reply: Reply{Fault: FaultHTML, Status: 200}, wantType: errtype.ProviderError, wantStatus: 200})
		add(chatCase{name: "empty answer", reply: Reply{Fault: FaultEmpty}, wantType: errtype.ProviderError, wantStatus: 200,
			wantPartial: both(DefaultInputTokens, DefaultOutputTokens)})
		add(chatCase{name: "truncated", reply: Reply{Fault: FaultTruncated}, wantType: errtype.Network, wantStatus: 200,
			wantPartial: anthropicStreamOnly(stream, anthropicStart)})
		add(chatCase{name: "reset mid-body", reply: Reply{Fault: FaultReset}, wantType: errtype.Network, wantStatus: 200,
			wantPartial: anthropicStreamOnly(stream, anthropicStart)})
		add(chatCase{name: "401", reply: Reply{Fault: FaultStatus, Status: 401}, wantType: errtype.Auth, wantStatus: 401})
		add(chatCase{name: "403", reply: Reply{Fault: FaultStatus, Status: 403}, wantType: errtype.Auth, wantStatus: 403})
		add(chatCase{name: "400", reply: Reply{Fault: FaultStatus, Status: 400}, wantType: errtype.InvalidRequest, wantStatus: 400})
		add(chatCase{name: "404", reply: Reply{Fault: FaultStatus, Status: 404}, wantType: errtype.InvalidRequest, wantStatus: 404})
		add(chatCase{name: "408", reply: Reply{Fault: FaultStatus, Status: 408}, wantType: errtype.Timeout, wantStatus: 408})
		add(chatCase{name: "413", reply: Reply{Fault: FaultStatus, Status: 413}, wantType: errtype.InvalidRequest, wantStatus: 413})
		add(chatCase{name: "422", reply: Reply{Fault: FaultStatus, Status: 422}, wantType: errtype.InvalidRequest, wantStatus: 422})
		add(chatCase{name: "429 without Retry-After", reply: Reply{Fault: FaultStatus, Status: 429}, wantType: errtype.RateLimit, wantStatus: 429})
		add(chatCase{name: "429 Retry-After seconds", reply: Reply{Fault: FaultStatus, Status: 429, RetryAfter: "2"},
			wantType: errtype.RateLimit, wantStatus: 429, wantAfter: 2 * time.Second})
		add(chatCase{name: "429 retry-after-ms", reply: Reply{Fault: FaultStatus, Status: 429, RetryAfter: "2", RetryAfterMS: "1500"},
			wantType: errtype.RateLimit, wantStatus: 429, wantAfter: 1500 * time.Millisecond})
		add(chatCase{name: "500", reply: Reply{Fault: FaultStatus, Status: 500}, wantType: errtype.ProviderError, wantStatus: 500})
		add(chatCase{name: "502", reply: Reply{Fault: FaultStatus, Status: 502}, wantType: errtype.ProviderError, wantStatus: 502})
		add(chatCase{name: "503 Retry-After", reply: Reply{Fault: FaultStatus, Status: 503, RetryAfter: "3"},
			wantType: errtype.ProviderError, wantStatus: 503, wantAfter: 3 * time.Second})
		add(chatCase{name: "529 overloaded", reply: Reply{Fault: FaultStatus, Status: 529}, wantType: errtype.ProviderError, wantStatus: 529})
		add(chatCase{name: "connection refused", refused: true, wantType: errtype.Network})
		add(chatCase{name: "slow first byte past deadline", reply: Reply{Delay: time.Hour}, ctx: "deadline", wantType: errtype.Timeout})
		add(chatCase{name: "slowloris past deadline", reply: Reply{Fault: FaultSlowloris, Trickle: 20 * time.Millisecond},
			ctx: "deadline", wantType: errtype.Timeout})
		add(chatCase{name: "canceled while waiting", reply: Reply{Delay: time.Hour}, ctx: "cancel", wantType: errtype.Canceled})
		add(chatCase{name: "response too large", maxBytes: 64, wantType: errtype.ProviderError, wantStatus: 200})
	}
	cases = append(cases,
		chatCase{name: "stream/error event", stream: true, reply: Reply{Fault: FaultStreamError}, wantType: errtype.ProviderError,
			wantStatus: 200, wantPartial: anthropicStart},
		chatCase{name: "stream/rate limit error event", stream: true,
			reply:    Reply{Fault: FaultStreamError, ErrorType: "rate_limit_error", Message: "slow down"},
			wantType: errtype.RateLimit, wantStatus: 200, wantPartial: anthropicStart},
	)
	return cases
}

func anthropicStreamOnly(stream bool, m map[Wire]provider.Usage) map[Wire]provider.Usage {
	if stream {
		return m
	}
	return nil
}

// RunChatSuite runs the shared chat conformance cases against the provider
// kind that factory builds, talking to fake servers of wire: success (plain
// and streamed, exact usage and chunks, request JSON), every fault of the
// Fault list, every classified HTTP status, connection refused, deadlines
// and cancellation. For every case it checks the error type, status code and
// Retry-After, the partial usage, that exactly one request was sent (the
// SDK does not retry), that the API key never appears in the error chain,
// and that no connection is left open.
func RunChatSuite(t *testing.T, wire Wire, factory provider.Factory) {
	for _, tc := range chatCases() {
		t.Run(tc.name, func(t *testing.T) {
			runChatCase(t, wire, factory, tc)
		})
	}
}

func runChatCase(t *testing.T, wire Wire, factory provider.Factory, tc chatCase) {
	srv := NewServer(t, wire, tc.reply)
	base := srv.BaseURL()
	if tc.refused {
		base = ClosedURL(t)
	}
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	defer client.CloseIdleConnections()
	p, err := factory(provider.Config{Name: wire.String(), Kind: wire.String(), BaseURL: base, APIKey: Key,
		APIKeyEnv: "TEST_KEY", HTTPClient: client, MaxResponseBytes: tc.maxBytes})
	if err != nil {
		t.Fatalf("factory: %v", err)
	}

	ctx := t.Context()
	switch tc.ctx {
	case "deadline":
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 150*time.Millisecond)
		defer cancel()
	case "cancel":
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		srv.SetReplyFunc(func(int, Request) Reply { cancel(); return tc.reply })
	}

	temp, maxTokens := 0.2, int64(100)
	var chunks []string
	req := provider.ChatRequest{
		Model: TestModel, System: "be brief", Prompt: "say hello", Temperature: &temp, MaxTokens: &maxTokens,
		Stream: tc.stream, Extra: map[string]any{"top_p": 0.5, "top_k": 40.0},
		OnChunk: func(d string) { chunks = append(chunks, d) },
	}
	resp, err := p.Chat(ctx, req)

	if got := errtype.Of(err); got != tc.wantType {
		t.Fatalf("error type = %q, want %q (err: %v)", got, tc.wantType, err)
	}
	if err != nil {
		checkError(t, err, tc)
	}
	if tc.wantType == "" {
		checkSuccess(t, wire, srv, resp, chunks, tc.stream)
	} else if want, ok := tc.wantPartial[wire]; ok {
		if resp == nil || resp.Usage != want {
			t.Errorf("partial response = %+v, want usage %+v", resp, want)
		}
	} else if resp != nil {
		t.Errorf("response = %+v, want none with the error", resp)
	}

	wantRequests := 1
	if tc.refused {
		wantRequests = 0
	}
	if n := srv.Requests(); n != wantRequests {
		t.Errorf("server saw %d requests, want %d (SDK retries must be off)", n, wantRequests)
	}
	if n := len(srv.Received()); n > 0 {
		checkKeyHeader(t, wire, srv.Received()[0])
	}
	client.CloseIdleConnections()
	wctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := srv.WaitNoOpenConns(wctx); err != nil {
		t.Errorf("connections still open on the fake: %d (%v)", srv.OpenConns(), err)
	}
}

func checkError(t *testing.T, err error, tc chatCase) {
	t.Helper()
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), Key) || strings.Contains(fmt.Sprintf("%+v", e), Key) {
			t.Errorf("error chain contains the API key: %v", e)
		}
	}
	if tc.wantType == errtype.Canceled {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v does not wrap context.Canceled", err)
		}
		return
	}
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %T %v is not a *provider.Error", err, err)
	}
	if pe.StatusCode != tc.wantStatus {
		t.Errorf("status = %d, want %d", pe.StatusCode, tc.wantStatus)
	}
	if pe.RetryAfter != tc.wantAfter {
		t.Errorf("RetryAfter = %v, want %v", pe.RetryAfter, tc.wantAfter)
	}
	if pe.Message == "" {
		t.Error("empty error message")
	}
}

func checkSuccess(t *testing.T, wire Wire, srv *Server, resp *provider.ChatResponse, chunks []string, stream bool) {
	t.Helper()
	want := provider.ChatResponse{Text: DefaultText, Model: TestModel, FinishReason: "stop",
		Usage: provider.Usage{InputTokens: DefaultInputTokens, OutputTokens: DefaultOutputTokens}}
	if resp == nil || *resp != want {
		t.Fatalf("response = %+v, want %+v", resp, want)
	}
	wantChunks := []string(nil)
	if stream {
		wantChunks = Reply{}.chunks()
	}
	if !reflect.DeepEqual(chunks, wantChunks) {
		t.Errorf("OnChunk got %q, want %q", chunks, wantChunks)
	}
	got := srv.Received()[0].JSON
	checkJSON := func(key string, want any) {
		t.Helper()
		if !reflect.DeepEqual(got[key], want) {
			t.Errorf("request %s = %#v, want %#v", key, got[key], want)
		}
	}
	checkJSON("model", TestModel)
	checkJSON("temperature", 0.2)
	checkJSON("max_tokens", 100.0)
	checkJSON("top_p", 0.5)
	checkJSON("top_k", 40.0)
	if stream {
		checkJSON("stream", true)
	} else if s, ok := got["stream"]; ok && s != false {
		t.Errorf("plain request has stream = %v", s)
	}
	switch wire {
	case OpenAI:
		checkJSON("messages", []any{
			map[string]any{"role": "system", "content": "be brief"},
			map[string]any{"role": "user", "content": "say hello"},
		})
		if stream {
			checkJSON("stream_options", map[string]any{"include_usage": true})
		}
	case Anthropic:
		checkJSON("system", []any{map[string]any{"type": "text", "text": "be brief"}})
		checkJSON("messages", []any{map[string]any{"role": "user",
			"content": []any{map[string]any{"type": "text", "text": "say hello"}}}})
	}
}

func checkKeyHeader(t *testing.T, wire Wire, req Request) {
	t.Helper()
	switch wire {
	case OpenAI:
		if got := req.Header.Get("Authorization"); got != "Bearer "+Key {
			t.Errorf("Authorization header = %q, want the bearer key", got)
		}
	case Anthropic:
		if got := req.Header.Get("X-Api-Key"); got != Key {
			t.Errorf("X-Api-Key header = %q, want the key", got)
		}
	}
}
