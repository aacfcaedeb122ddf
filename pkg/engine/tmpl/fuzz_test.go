package tmpl_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/errtype"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/tmpl"
)

// FuzzParseRender checks that no template crashes the parser or the
// renderer, that errors are typed and positioned, and that limits hold.
// Seeds: testdata/render/*.tmpl and testdata/errors.json; crashers found
// by go test -fuzz land in testdata/fuzz/FuzzParseRender.
func FuzzParseRender(f *testing.F) {
	files, err := filepath.Glob("testdata/render/*.tmpl")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, c := range errorCases(f) {
		f.Add(c.Src)
	}
	data := testData(f)
	const limit = 4096
	f.Fuzz(func(t *testing.T, src string) {
		tp, err := tmpl.Parse(src)
		if err != nil {
			var se *tmpl.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error %T %v, want *SyntaxError", err, err)
			}
			lines := strings.Count(src, "\n") + 1
			if se.Line < 1 || se.Line > lines || se.Column < 1 || se.Column > utf8.RuneCountInString(src)+1 {
				t.Fatalf("bad position %d:%d for %d lines", se.Line, se.Column, lines)
			}
			return
		}
		out, err := tp.RenderLimit(data, limit)
		if err != nil && errtype.Of(err) != errtype.Template {
			t.Fatalf("Render error type %q: %v", errtype.Of(err), err)
		}
		if len(out) > limit {
			t.Fatalf("output of %d bytes exceeds the %d limit", len(out), limit)
		}
		tp.Value(data)
		for _, r := range tp.Refs() {
			if r != "inputs" && r != "steps" && !strings.HasPrefix(r, "inputs.") && !strings.HasPrefix(r, "steps.") {
				t.Fatalf("ref %q is not normalised", r)
			}
		}
	})
}
