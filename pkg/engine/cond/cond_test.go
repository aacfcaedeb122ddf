package cond_test

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/cond"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func readJSON(tb testing.TB, name string, v any) {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
}

func testData(tb testing.TB) map[string]any {
	var data map[string]any
	readJSON(tb, "testdata/data.json", &data)
	return data
}

// evalCase is one entry of testdata/eval.json. Want is the Value; Bool is
// expected to equal Want when Want is a bool, or the "bool" field when set.
type evalCase struct {
	Src     string
	Want    any
	Bool    *bool
	BoolErr string `json:"bool_err"`
	Err     string
	Type    errtype.Type
	Refs    []string
}

func evalCases(tb testing.TB) []evalCase {
	var cases []evalCase
	readJSON(tb, "testdata/eval.json", &cases)
	return cases
}

type compileCase struct{ Src, Err string }

func compileCases(tb testing.TB) []compileCase {
	var cases []compileCase
	readJSON(tb, "testdata/compile_errors.json", &cases)
	return cases
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

func TestEval(t *testing.T) {
	data := testData(t)
	for _, tt := range evalCases(t) {
		t.Run(tt.Src, func(t *testing.T) {
			e, err := cond.Compile(tt.Src)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if e.Source() != tt.Src {
				t.Errorf("Source() = %q", e.Source())
			}
			if tt.Refs != nil && !slices.Equal(e.Refs(), tt.Refs) {
				t.Errorf("Refs() = %q, want %q", e.Refs(), tt.Refs)
			}
			v, verr := e.Value(data)
			b, berr := e.Bool(data)
			if tt.Err != "" {
				want := tt.Type
				if want == "" {
					want = errtype.Validation
				}
				for _, err := range []error{verr, berr} {
					if err == nil || err.Error() != tt.Err || errtype.Of(err) != want {
						t.Errorf("error = %v (type %q), want %s (%s)", err, errtype.Of(err), tt.Err, want)
					}
				}
				return
			}
			if verr != nil || !jsonEqual(v, tt.Want) {
				t.Errorf("Value = %#v, %v; want %#v", v, verr, tt.Want)
			}
			switch want, isBool := tt.Want.(bool); {
			case tt.BoolErr != "":
				if berr == nil || berr.Error() != tt.BoolErr || errtype.Of(berr) != errtype.Validation {
					t.Errorf("Bool error = %v, want %s (validation)", berr, tt.BoolErr)
				}
			case tt.Bool != nil:
				if berr != nil || b != *tt.Bool {
					t.Errorf("Bool = %v, %v; want %v", b, berr, *tt.Bool)
				}
			case isBool:
				if berr != nil || b != want {
					t.Errorf("Bool = %v, %v; want %v", b, berr, want)
				}
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tt := range compileCases(t) {
		t.Run(tt.Src, func(t *testing.T) {
			_, err := cond.Compile(tt.Src)
			var se *tmpl.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) = %v, want a *tmpl.SyntaxError", tt.Src, err)
			}
			if err.Error() != tt.Err {
				t.Errorf("Compile(%q)\n got %s\nwant %s", tt.Src, err, tt.Err)
			}
		})
	}
}

func TestMaxLength(t *testing.T) {
	src := "inputs.a == '" + strings.Repeat("x", cond.MaxLength) + "'"
	if _, err := cond.Compile(src); err == nil || err.Error() != "1:1: expression longer than 4096 bytes" {
		t.Fatalf("Compile = %v", err)
	}
	// Templates are bounded by tmpl's limits instead.
	if _, err := cond.Compile("{{ eq inputs.a '" + strings.Repeat("x", cond.MaxLength) + "' }}"); err != nil {
		t.Fatalf("Compile(template) = %v", err)
	}
}

func TestMaxNodes(t *testing.T) {
	src := "inputs.a" + strings.Repeat("+inputs.a", cond.MaxNodes)
	_, err := cond.Compile(src)
	if err == nil {
		t.Fatal("Compile accepted an expression over MaxNodes")
	}
	if _, err := cond.Compile(strings.Repeat("(", cond.MaxLength-4) + "true"); err == nil {
		t.Fatal("Compile accepted deeply nested parentheses")
	}
}

func TestBoolTemplateWords(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"true", true}, {"TRUE", true}, {" yes\n", true}, {"Yes", true}, {"1", true},
		{"false", false}, {"No", false}, {"0", false}, {"\tFALSE ", false},
	}
	e, err := cond.Compile("{{ inputs.v }}")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		got, err := e.Bool(map[string]any{"inputs": map[string]any{"v": tt.text}})
		if err != nil || got != tt.want {
			t.Errorf("Bool(%q) = %v, %v; want %v", tt.text, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "2", "yess", "on", "true true"} {
		_, err := e.Bool(map[string]any{"inputs": map[string]any{"v": bad}})
		if errtype.Of(err) != errtype.Validation {
			t.Errorf("Bool(%q) = %v, want a validation error", bad, err)
		}
	}
}

func TestNilData(t *testing.T) {
	for _, src := range []string{"inputs.x == nil", "steps.a.b == nil", "{{ eq x null }}"} {
		e, err := cond.Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := e.Bool(nil); err != nil || !b {
			t.Errorf("Bool(%q, nil) = %v, %v", src, b, err)
		}
	}
}

// TestConcurrent evaluates one Expr from many goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	data := testData(t)
	e, err := cond.Compile("any(steps.search.hits, .score > 0.25) && steps.classify.label == 'complaint'")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for g := range errs {
		wg.Go(func() {
			for range 200 {
				if b, err := e.Bool(data); err != nil || !b {
					errs[g] = errors.Join(err, errors.New("got false"))
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}
