package suggest

import "testing"

func TestClosest(t *testing.T) {
	known := []string{"prompt", "provider", "model", "system", "temperature", "max_tokens", "transform", "llm"}
	cases := []struct{ name, want string }{
		{"promt", "prompt"},           // deletion
		{"porvider", "provider"},      // transposition
		{"modle", "model"},            // transposition
		{"temprature", "temperature"}, // deletion
		{"max_token", "max_tokens"},
		{"transfom", "transform"},
		{"lm", "llm"},
		{"prompt", ""},     // exact: no hint
		{"completely", ""}, // nothing close
		{"xyz", ""},        // short names allow one edit only
		{string(make([]byte, 100)), ""},
	}
	for _, c := range cases {
		if got := Closest(c.name, known); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
	// Cases from the step-type and workflow-key parsers that use this package.
	for _, c := range []struct {
		name  string
		known []string
		want  string
	}{
		{"conact", []string{"concat", "json_parse", "template"}, "concat"},
		{"memroy", []string{"memory"}, "memory"},
		{"PSOT", []string{"POST", "GET"}, "POST"},
		{"jsonparse", []string{"concat", "json_parse"}, "json_parse"},
		{"templte", []string{"template"}, "template"},
		{"dependson", []string{"depends_on", "id"}, "depends_on"},
		{"ty", []string{"type", "id"}, ""},
	} {
		if got := Closest(c.name, c.known); got != c.want {
			t.Errorf("Closest(%q, %v) = %q, want %q", c.name, c.known, got, c.want)
		}
	}
	if got := DidYouMean("promt", known); got != ` (did you mean "prompt"?)` {
		t.Errorf("DidYouMean = %q", got)
	}
	if got := DidYouMean("zzzzzz", known); got != "" {
		t.Errorf("DidYouMean = %q, want empty", got)
	}
}

func TestTiesAreLexical(t *testing.T) {
	if got := Closest("cat", []string{"cbt", "cas"}); got != "cas" {
		t.Fatalf("got %q, want the lexically smaller of two equally close names", got)
	}
}
