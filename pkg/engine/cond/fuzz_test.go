package cond_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/cond"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
)

// FuzzCond checks that no source crashes Compile, Bool or Value, that
// compile errors are positioned *tmpl.SyntaxError values and evaluation
// errors are typed. Seeds: testdata/eval.json and
// testdata/compile_errors.json; crashers land in testdata/fuzz/FuzzCond.
func FuzzCond(f *testing.F) {
	for _, c := range evalCases(f) {
		f.Add(c.Src)
	}
	for _, c := range compileCases(f) {
		f.Add(c.Src)
	}
	data := testData(f)
	f.Fuzz(func(t *testing.T, src string) {
		e, err := cond.Compile(src)
		if err != nil {
			var se *tmpl.SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Column < 1 || se.Line > strings.Count(src, "\n")+1 {
				t.Fatalf("Compile error %T %v, want a positioned *tmpl.SyntaxError", err, err)
			}
			return
		}
		for _, r := range e.Refs() {
			if r != "inputs" && r != "steps" && !strings.HasPrefix(r, "inputs.") && !strings.HasPrefix(r, "steps.") {
				t.Fatalf("ref %q is not normalised", r)
			}
		}
		_, verr := e.Value(data)
		_, berr := e.Bool(data)
		for _, err := range []error{verr, berr} {
			if typ := errtype.Of(err); err != nil && typ != errtype.Validation && typ != errtype.Template {
				t.Fatalf("error type %q: %v", typ, err)
			}
		}
	})
}
