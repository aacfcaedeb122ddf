package stepkit

import "testing"

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
