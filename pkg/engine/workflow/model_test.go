package workflow

import (
	"maps"
	"reflect"
	"slices"
	"testing"
)

func mustDecode(t *testing.T, path string) *Workflow {
	t.Helper()
	w, problems := decodeFile(t, path)
	if len(problems) > 0 {
		t.Fatalf("unexpected problems:\n%v", problems)
	}
	return w
}

func ids(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

func TestDecodeFull(t *testing.T) {
	w := mustDecode(t, "testdata/valid/full.yaml")
	if w.Name != "support-triage_v1.2" || w.Version != "1.10" || w.Description != "Classify a ticket and answer it." ||
		w.TimeoutSeconds != 120.5 || w.MaxConcurrency != 4 || w.File != "full.yaml" {
		t.Errorf("workflow header = %q %q %q %v %v %q", w.Name, w.Version, w.Description, w.TimeoutSeconds, w.MaxConcurrency, w.File)
	}
	if w.Pos != (Pos{2, 1}) || w.NamePos != (Pos{2, 7}) {
		t.Errorf("Pos = %v, NamePos = %v", w.Pos, w.NamePos)
	}
	wantMeta := map[string]any{
		"owner":        "support",
		"retry_policy": map[string]any{"max_attempts": 5, "backoff": "linear"},
		"tags":         []any{"triage", "llm"},
		"since":        "2024-01-01",
		"nested":       map[string]any{"a": 1, "b": []any{true, nil, 2.5}},
	}
	if !reflect.DeepEqual(w.Metadata, wantMeta) {
		t.Errorf("Metadata = %#v", w.Metadata)
	}
	wantInputs := map[string]*Input{
		"ticket":   {Name: "ticket", Required: true, Description: "The ticket text.", Pos: Pos{17, 5}},
		"priority": {Name: "priority", Default: 2, HasDefault: true, Pos: Pos{20, 5}},
		"mode":     {Name: "mode", Pos: Pos{21, 8}},
	}
	if !reflect.DeepEqual(w.Inputs, wantInputs) {
		for k, v := range w.Inputs {
			t.Errorf("input %s = %+v", k, v)
		}
	}

	var order []string
	w.Walk(func(s *Step) { order = append(order, s.ID) })
	wantOrder := []string{"classify", "fan_out", "summary", "sentiment", "route", "numeric_branch", "apologise", "escalate", "thank", "done"}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("Walk order = %v, want %v", order, wantOrder)
	}

	classify := w.Step("classify")
	cfg, ok := classify.Config.(*llmConfig)
	if !ok {
		t.Fatalf("classify config = %T", classify.Config)
	}
	temp, maxTokens := 0.0, 64
	wantCfg := &llmConfig{
		Provider: "simulated", Model: "sim-fast", System: "You classify tickets.", Prompt: "Classify: {{ inputs.ticket }}",
		Temperature: &temp, MaxTokens: &maxTokens, Stream: true,
		Extra: map[string]any{"top_p": 0.9, "stop": []any{"\n"}},
	}
	if !reflect.DeepEqual(cfg, wantCfg) {
		t.Errorf("classify config = %+v", cfg)
	}
	if !slices.Equal(classify.Output, []string{"label", "model"}) || classify.TimeoutSeconds != 30 || !classify.HasRetry ||
		classify.Retry != (Retry{MaxAttempts: 5, Backoff: "linear", InitialDelayMS: 200, MaxDelayMS: 30000}) {
		t.Errorf("classify = %+v", classify)
	}
	for key, want := range map[string]Pos{
		"prompt": {29, 13}, "top_p": {33, 12}, "stop[0]": {34, 12}, "retry": {38, 7},
		"retry.initial_delay_ms": {39, 25}, "retry.max_attempts": {10, 19}, "output[1]": {35, 21},
	} {
		if got := classify.PosOf(key); got != want {
			t.Errorf("classify.PosOf(%q) = %v, want %v", key, got, want)
		}
	}
	if got := classify.PosOf("nothing"); got != classify.Pos || got != (Pos{24, 5}) {
		t.Errorf("PosOf(absent) = %v, step at %v", got, classify.Pos)
	}

	sentiment := w.Step("sentiment")
	if sentiment.Parent != w.Step("fan_out") || sentiment.Retry != (Retry{MaxAttempts: 1, Backoff: "exponential", InitialDelayMS: 100, MaxDelayMS: 30000}) {
		t.Errorf("sentiment = %+v", sentiment)
	}
	route := w.Step("route")
	br := route.Config.(*branchConfig)
	if br.On != "steps.classify.label" || len(br.Branches) != 2 || len(br.Branches["1"]) != 1 || len(br.Default) != 1 ||
		route.Condition != "steps.classify.label != ''" {
		t.Errorf("route = %+v, config %+v", route, br)
	}
	if len(Children(route)) != 3 || Children(w.Step("done")) != nil || Children(nil) != nil {
		t.Errorf("Children(route) = %v", Children(route))
	}
	if done := w.Step("done"); done.HasRetry || done.Retry != DefaultRetry || done.Parent != nil || done.TimeoutSeconds != 0 {
		t.Errorf("done = %+v", done)
	}
	if w.Step("missing") != nil {
		t.Error("Step(missing) != nil")
	}

	for id, want := range map[string][]string{
		"classify":       nil,
		"fan_out":        {"classify"},
		"summary":        {"classify"},
		"sentiment":      {"classify", "summary"},
		"numeric_branch": {"classify", "fan_out", "sentiment", "summary"},
		"escalate":       {"apologise", "classify", "fan_out", "sentiment", "summary"},
		"done":           {"apologise", "classify", "escalate", "fan_out", "numeric_branch", "route", "sentiment", "summary", "thank"},
	} {
		if got := ids(w.Ancestors(w.Step(id))); !slices.Equal(got, want) {
			t.Errorf("Ancestors(%s) = %v, want %v", id, got, want)
		}
	}
}

func TestDecodeDefaults(t *testing.T) {
	w := mustDecode(t, "testdata/valid/minimal.yaml")
	s := w.Steps[0]
	if w.TimeoutSeconds != DefaultTimeoutSeconds || w.MaxConcurrency != DefaultMaxConcurrency || w.Version != "" ||
		len(w.Inputs) != 0 || w.Metadata != nil || s.Retry != DefaultRetry || s.HasRetry || s.Condition != "" ||
		s.DependsOn != nil || s.Output != nil || s.TimeoutSeconds != 0 {
		t.Errorf("workflow = %+v, step = %+v", w, s)
	}
}

func TestDecodeJSON(t *testing.T) {
	w := mustDecode(t, "testdata/valid/json.json")
	if w.Version != "2" || !w.Inputs["q"].Required || len(w.Steps) != 2 {
		t.Fatalf("workflow = %+v", w)
	}
	a, b := w.Steps[0], w.Steps[1]
	if got := a.Config.(*llmConfig).Extra; !reflect.DeepEqual(got, map[string]any{"seed": 7}) {
		t.Errorf("extra = %#v", got)
	}
	if b.Retry != (Retry{MaxAttempts: 3, Backoff: "constant", InitialDelayMS: 100, MaxDelayMS: 100}) {
		t.Errorf("b.Retry = %+v", b.Retry)
	}
	if a.Pos != (Pos{6, 3}) || a.PosOf("temperature") != (Pos{6, 66}) {
		t.Errorf("a at %v, temperature at %v", a.Pos, a.PosOf("temperature"))
	}
}

func TestDecodeKinds(t *testing.T) {
	w := mustDecode(t, "testdata/valid/kinds.yaml")
	str, no, zero := "", false, 0
	want := &kindsConfig{
		Str: "hello", Int: -3, Int64: 9007199254740993, Float: 2,
		StrPtr: &str, BoolPtr: &no, IntPtr: &zero,
		Strings: []string{"a", "b"},
		List:    []any{1, "two", map[string]any{"three": 3}, []any{4}},
		Map:     map[string]any{"x": 1, "y": map[string]any{"z": nil}},
		Headers: map[string]string{"Authorization": "Bearer x", "X-Id": "1"},
		Any:     []any{1, 2},
		Auth:    &authConfig{User: "bob"},
		Limits:  limitsConfig{Rate: 1.5, Burst: 10},
	}
	if got := w.Steps[0].Config; !reflect.DeepEqual(got, want) {
		t.Errorf("config = %+v\nwant %+v", got, want)
	}
	if got := w.Steps[1].Config; !reflect.DeepEqual(got, &kindsConfig{}) {
		t.Errorf("null fields config = %+v", got)
	}
	if _, ok := w.Steps[1].FieldPos["auth"]; !ok {
		t.Error("FieldPos misses a key with a null value")
	}
}
