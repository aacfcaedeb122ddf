package stepkit

import "testing"

func TestSuggest(t *testing.T) {
	known := []string{"concat", "json_parse", "memory", "POST", "template"}
	tests := []struct{ in, want string }{
		{"conact", "concat"},
		{"memroy", "memory"},
		{"PSOT", "POST"},
		{"jsonparse", "json_parse"},
		{"templte", "template"},
		{"x", ""},
		{"frobnicate", ""},
	}
	for _, tt := range tests {
		if got := Suggest(tt.in, known); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, "null"}, {"s", "text"}, {true, "a boolean"}, {3, "a number"}, {2.5, "a number"},
		{map[string]any{}, "an object"}, {[]any{1, 2}, "a list of 2"}, {struct{}{}, "a struct {}"},
	}
	for _, tt := range tests {
		if got := Describe(tt.in); got != tt.want {
			t.Errorf("Describe(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
