package reliability_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/builtin"
	pt "github.com/orchestrator-dev/orchestrator/pkg/engine/provider/providertest"
)

// faultCase is one provider fault of the matrix.
type faultCase struct {
	name       string
	reply      pt.Reply
	refused    bool // a port where nothing listens (persistent only: it cannot turn transient)
	streamOnly bool
	slow       bool // cut off by the step timeout
	want       errtype.Type
	// partial is the usage a failed attempt reports, by wire and mode
	// (nil: none).
	partial func(w pt.Wire, stream bool) (in, out int64)
}

// anthropicStart is the usage of Anthropic's message_start event, which a
// streamed answer sends before it fails.
func anthropicStart(w pt.Wire, stream bool) (int64, int64) {
	if w == pt.Anthropic && stream {
		return pt.DefaultInputTokens, 1
	}
	return 0, 0
}

func faultCases() []faultCase {
	status := func(code int, retryAfter string) pt.Reply {
		return pt.Reply{Fault: pt.FaultStatus, Status: code, RetryAfter: retryAfter}
	}
	return []faultCase{
		{name: "connection refused", refused: true, want: errtype.Network},
		{name: "reset mid-body", reply: pt.Reply{Fault: pt.FaultReset}, want: errtype.Network, partial: anthropicStart},
		{name: "truncated", reply: pt.Reply{Fault: pt.FaultTruncated}, want: errtype.Network, partial: anthropicStart},
		{name: "garbage JSON", reply: pt.Reply{Fault: pt.FaultGarbage}, want: errtype.ProviderError, partial: anthropicStart},
		{name: "HTML error page", reply: pt.Reply{Fault: pt.FaultHTML}, want: errtype.ProviderError},
		{name: "HTML page with 200", reply: pt.Reply{Fault: pt.FaultHTML, Status: 200}, want: errtype.ProviderError},
		{name: "200 with empty choices", reply: pt.Reply{Fault: pt.FaultEmpty}, want: errtype.ProviderError,
			partial: func(pt.Wire, bool) (int64, int64) { return pt.DefaultInputTokens, pt.DefaultOutputTokens }},
		{name: "slow first byte", reply: pt.Reply{Delay: time.Hour}, slow: true, want: errtype.Timeout},
		{name: "slowloris", reply: pt.Reply{Fault: pt.FaultSlowloris, Trickle: 20 * time.Millisecond}, slow: true, want: errtype.Timeout},
		{name: "429 without Retry-After", reply: status(429, ""), want: errtype.RateLimit},
		{name: "429 with Retry-After", reply: status(429, "1"), want: errtype.RateLimit},
		{name: "500", reply: status(500, ""), want: errtype.ProviderError},
		{name: "502", reply: status(502, ""), want: errtype.ProviderError},
		{name: "503 with Retry-After", reply: status(503, "2"), want: errtype.ProviderError},
		{name: "529 overloaded", reply: status(529, ""), want: errtype.ProviderError},
		{name: "error event mid-stream", reply: pt.Reply{Fault: pt.FaultStreamError}, streamOnly: true,
			want: errtype.ProviderError, partial: anthropicStart},
		{name: "400", reply: status(400, ""), want: errtype.InvalidRequest},
		{name: "401 echoing the key", reply: status(401, ""), want: errtype.Auth},
	}
}

var faultWorkflows = template.Must(template.New("").Delims("[[", "]]").ParseFiles("testdata/fault.yaml", "testdata/fault-embed.yaml"))

// faultTarget is what the fault matrix calls: chat on either wire, or
// OpenAI embeddings.
type faultTarget struct {
	wire  pt.Wire
	embed bool
}

func (ft faultTarget) String() string {
	if ft.embed {
		return ft.wire.String() + "-embed"
	}
	return ft.wire.String()
}

// TestProviderFaults runs every fault through the real engine and the real
// openai and anthropic providers: chat streamed and plain, OpenAI
// embeddings, each persistent (every attempt fails) and transient (the
// first attempt fails, then the fake answers normally).
func TestProviderFaults(t *testing.T) {
	for _, target := range []faultTarget{{wire: pt.OpenAI}, {wire: pt.Anthropic}, {wire: pt.OpenAI, embed: true}} {
		for _, fc := range faultCases() {
			for _, stream := range []bool{false, true} {
				if (fc.streamOnly && !stream) || (target.embed && stream) {
					continue
				}
				for _, transient := range []bool{false, true} {
					if fc.refused && transient {
						continue
					}
					mode := map[bool]string{false: "plain", true: "stream"}[stream] + "/" +
						map[bool]string{false: "persistent", true: "transient"}[transient]
					t.Run(target.String()+"/"+fc.name+"/"+mode, func(t *testing.T) {
						t.Parallel()
						runFault(t, target, fc, stream, transient)
					})
				}
			}
		}
	}
}

func runFault(t *testing.T, target faultTarget, fc faultCase, stream, transient bool) {
	wire := target.wire
	srv := pt.NewServer(t, wire, fc.reply)
	if transient {
		srv.SetScript(fc.reply, pt.Reply{})
	}
	base := srv.BaseURL()
	if fc.refused {
		base = pt.ClosedURL(t)
	}
	client := newClient(t)
	name := wire.String()
	set, err := builtin.Registry().NewSet([]provider.Config{{
		Name: name, Kind: name, BaseURL: base, APIKey: canary, APIKeyEnv: "TEST_KEY", HTTPClient: client,
	}})
	if err != nil {
		t.Fatal(err)
	}
	reader, mp := newReader(t)
	logs := &syncBuffer{}
	e, err := engine.New(engine.WithProviders(set), engine.WithMeterProvider(mp), engine.WithLogger(jsonLogger(logs)))
	if err != nil {
		t.Fatal(err)
	}
	timeout := "30"
	if fc.slow {
		timeout = "0.5"
	}
	file, wf := "fault.yaml", "fault-"+name
	if target.embed {
		file, wf = "fault-embed.yaml", "fault-embed"
	}
	var src strings.Builder
	if err := faultWorkflows.ExecuteTemplate(&src, file, map[string]any{"Provider": name, "Stream": stream, "TimeoutSeconds": timeout}); err != nil {
		t.Fatal(err)
	}
	plan, err := e.Load(file, []byte(src.String()))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(t.Context(), plan, nil)
	if err != nil {
		t.Fatal(err)
	}

	// What must have happened.
	retryable := fc.want.Retryable()
	attempts, failed, succeeded := 1, 1, 0
	switch {
	case retryable && transient:
		attempts, succeeded = 2, 1
	case retryable:
		attempts, failed = 3, 3
	}
	status := "failure"
	if succeeded == 1 {
		status = "success"
	}

	st := res.Steps["ask"]
	if st == nil {
		t.Fatalf("no result for step ask: %+v", res)
	}
	gotType := ""
	if st.Error != nil {
		gotType = st.Error.Type
	}
	wantType := string(fc.want)
	if status == "success" {
		wantType = ""
	}
	if st.Status != status || st.Attempts != attempts || gotType != wantType || res.Status != status {
		t.Errorf("step %s after %d attempts (error %q: %+v), run %s; want step %s after %d attempts (error %q), run %s",
			st.Status, st.Attempts, gotType, st.Error, res.Status, status, attempts, wantType, status)
	}
	wantRequests := attempts
	if fc.refused {
		wantRequests = 0
	}
	if n := srv.Requests(); n != wantRequests {
		t.Errorf("the fake saw %d requests, want %d (one per attempt)", n, wantRequests)
	}
	for i, r := range srv.Received() {
		if r.Stream() != stream {
			t.Errorf("request %d stream = %v, want %v", i, r.Stream(), stream)
		}
	}

	var pin, pout int64
	if fc.partial != nil {
		pin, pout = fc.partial(wire, stream)
	}
	okOut := int64(pt.DefaultOutputTokens)
	if target.embed { // embeddings report input tokens only
		pout, okOut = 0, 0
	}
	llm := fmt.Sprintf("model=test-model,provider=%s", name)
	stepType := "llm"
	if target.embed {
		stepType = "embed"
	}
	want := map[string]int64{
		"orchestrator.active_workflows{}": 0,
		fmt.Sprintf("orchestrator.workflow.executions{status=%s,workflow_name=%s}", status, wf): 1,
		fmt.Sprintf("orchestrator.step.executions{status=%s,step_type=%s}", status, stepType):   1,
		fmt.Sprintf("orchestrator.llm.requests{%s,status=failure}", llm):                        int64(failed),
		fmt.Sprintf("orchestrator.errors{component=provider,error_type=%s}", fc.want):           int64(failed),
	}
	if succeeded > 0 {
		want[fmt.Sprintf("orchestrator.llm.requests{%s,status=success}", llm)] = int64(succeeded)
	}
	if in := int64(failed)*pin + int64(succeeded)*pt.DefaultInputTokens; in > 0 {
		want[fmt.Sprintf("orchestrator.llm.tokens{%s,type=input}", llm)] = in
	}
	if out := int64(failed)*pout + int64(succeeded)*okOut; out > 0 {
		want[fmt.Sprintf("orchestrator.llm.tokens{%s,type=output}", llm)] = out
	}
	if status == "failure" {
		want[fmt.Sprintf("orchestrator.errors{component=step_executor,error_type=%s}", fc.want)] = 1
		want["orchestrator.errors{component=executor,error_type=step_failed}"] = 1
	}
	if attempts > 1 {
		want[fmt.Sprintf("orchestrator.step.retries{error_type=%s,step_type=%s}", fc.want, stepType)] = int64(attempts - 1)
	}
	diffCounts(t, counts(t, reader, "orchestrator.active_workflows", "orchestrator.workflow.executions",
		"orchestrator.step.executions", "orchestrator.llm.requests", "orchestrator.llm.tokens",
		"orchestrator.errors", "orchestrator.step.retries"), want)

	noOpenConns(t, client, srv)
	doc, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	noCanary(t, map[string]string{"the run result": string(doc), "the engine's logs": logs.String()})
}
