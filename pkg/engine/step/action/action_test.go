package action_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"

	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/action"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/steptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBuildProblems(t *testing.T) {
	tests := []struct {
		name  string
		allow []string
		src   string
		want  []string
	}{
		{"log", nil, "action: log\nmessage: 'hi {{ x }}'\nlevel: warn\nfields: {a: '{{ y }}'}", nil},
		{"http", []string{"127.0.0.1"}, "action: http\nurl: 'http://127.0.0.1:9/{{ x }}'\nmethod: put\nheaders: {X-Token: '{{ t }}'}\nbody: '{}'\nexpect_status: [200, 204]", nil},
		{"unknown action", nil, "action: htp", []string{`action: unknown action "htp" (did you mean "http"?); known: http, log`}},
		{"log problems", nil, "action: log\nlevel: loud\nurl: x", []string{
			`url: key "url" does not belong to action log (its keys: message, level, fields)`,
			`action: action log needs key "message"`,
			`level: unknown level "loud"; known: debug, error, info, warn`,
		}},
		{"http disabled", nil, "action: http\nurl: http://127.0.0.1/x", []string{"action: action http is disabled: start with --allow-http-host"}},
		{"http problems", []string{"127.0.0.1"}, "action: http\nmethod: PSOT\nheaders: {'bad header': x}\nexpect_status: [99]\nmessage: x", []string{
			`message: key "message" does not belong to action http (its keys: method, url, headers, body, expect_status)`,
			`method: unknown method "PSOT" (did you mean "POST"?); known: DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT`,
			`action: action http needs key "url"`,
			`headers: "bad header" is not a valid header name`,
			"expect_status: expect_status 99 is not an HTTP status (100..599)",
		}},
		{"static url off the allowlist", []string{"127.0.0.1"}, "action: http\nurl: https://hooks.example.com/x?token=secret", []string{
			`url: url host "hooks.example.com" is not in the allowlist (--allow-http-host)`}},
		{"static url scheme", []string{"127.0.0.1"}, "action: http\nurl: file:///etc/passwd", []string{
			`url: url "file:///etc/passwd": the scheme must be http or https`}},
		{"templated url is checked at run time", []string{"127.0.0.1"}, "action: http\nurl: '{{ inputs.url }}'", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := steptest.NewBuilder(nil)
			b.Settings.AllowHTTPHosts = tt.allow
			e := b.Build(t, action.Spec(), "id: a\n"+tt.src)
			steptest.CheckBuild(t, b, e, tt.want)
		})
	}
}

func TestLog(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want map[string]any // the JSON log line
	}{
		{"default level", "message: 'ticket {{ id }} triaged'",
			map[string]any{"level": "INFO", "msg": "ticket 7 triaged", "step_id": "a"}},
		{"fields and level", "message: done\nlevel: error\nfields: {label: '{{ steps.c.text }}', count: '{{ id }}'}",
			map[string]any{"level": "ERROR", "msg": "done", "step_id": "a", "label": "bug", "count": "7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := steptest.NewBuilder(nil)
			e := b.Build(t, action.Spec(), "id: a\naction: log\n"+tt.src)
			if e == nil {
				t.Fatal(b.Problems)
			}
			var buf bytes.Buffer
			rt := steptest.NewRuntime(map[string]any{"id": 7}, map[string]any{"c": map[string]any{"text": "bug"}})
			rt.Log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				},
			})).With("step_id", "a")
			res, err := e.Execute(context.Background(), rt)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("log %q: %v", buf.String(), err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("log line %v, want %v", got, tt.want)
			}
			msg := tt.want["msg"]
			if !reflect.DeepEqual(res.Object, map[string]any{"logged": true, "message": msg}) || !reflect.DeepEqual(res.Values, []any{msg}) {
				t.Errorf("result %v %v", res.Object, res.Values)
			}
		})
	}
}

func TestLogRenderError(t *testing.T) {
	b := steptest.NewBuilder(nil)
	b.Settings.MaxTemplateBytes = 2
	e := b.Build(t, action.Spec(), "id: a\naction: log\nmessage: too long")
	if _, err := e.Execute(context.Background(), steptest.NewRuntime(nil, nil)); errtype.Of(err) != errtype.Template {
		t.Errorf("got %v", err)
	}
}
