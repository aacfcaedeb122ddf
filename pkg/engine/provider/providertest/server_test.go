package providertest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/providertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func post(t *testing.T, client *http.Client, url, body string) (int, string) {
	t.Helper()
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestScript(t *testing.T) {
	srv := providertest.NewOpenAIServer(t,
		providertest.Reply{Fault: providertest.FaultStatus, Status: 503, RetryAfter: "1"},
		providertest.Reply{Text: "second"},
	)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	url := srv.BaseURL() + "/chat/completions"
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`

	status, got := post(t, client, url, body)
	if status != 503 || !strings.Contains(got, `"type":"server_error"`) {
		t.Errorf("first reply = %d %s", status, got)
	}
	for range 2 { // the last entry repeats
		status, got = post(t, client, url, body)
		var res struct {
			Model   string `json:"model"`
			Choices []struct {
				Message struct{ Content string } `json:"message"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(got), &res); err != nil || status != 200 || res.Choices[0].Message.Content != "second" || res.Model != "m" {
			t.Errorf("reply = %d %s", status, got)
		}
	}
	if n := srv.Requests(); n != 3 {
		t.Errorf("Requests = %d, want 3", n)
	}
	if r := srv.Received()[0]; r.Method != "POST" || r.Path != "/v1/chat/completions" || r.Model() != "m" || r.Stream() {
		t.Errorf("recorded %+v", r)
	}

	srv.SetReplyFunc(func(n int, req providertest.Request) providertest.Reply {
		return providertest.Reply{Text: req.Model() + " " + string(rune('0'+n))}
	})
	if _, got = post(t, client, url, body); !strings.Contains(got, `"content":"m 3"`) {
		t.Errorf("reply func answer = %s", got)
	}
	if status, _ = post(t, client, srv.URL+"/nope", body); status != 404 {
		t.Errorf("unknown path status = %d", status)
	}

	client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := srv.WaitNoOpenConns(ctx); err != nil {
		t.Errorf("open connections: %d", srv.OpenConns())
	}
}

func TestOpenConnsCountsUnclosedBodies(t *testing.T) {
	srv := providertest.NewAnthropicServer(t)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Post(srv.BaseURL()+"/v1/messages", "application/json", strings.NewReader(`{"model":"m","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	client.CloseIdleConnections()
	if n := srv.OpenConns(); n != 1 {
		t.Errorf("OpenConns with an unclosed body = %d, want 1", n)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(b), "event: message_start\ndata: ") || !strings.HasSuffix(string(b), "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n") {
		t.Errorf("stream = %q", b)
	}
	client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := srv.WaitNoOpenConns(ctx); err != nil {
		t.Errorf("open connections: %d", srv.OpenConns())
	}
}

func TestClosedURL(t *testing.T) {
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	if _, err := client.Get(providertest.ClosedURL(t)); err == nil {
		t.Error("request to ClosedURL succeeded")
	}
}
