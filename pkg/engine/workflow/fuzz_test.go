package workflow

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that Decode never panics and that its results are
// consistent. Every file under testdata/ (valid and invalid fixtures) is a
// seed; crashers found by `go test -fuzz` land in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	err := filepath.WalkDir("testdata", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f.Add(data)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, problems := Decode("fuzz.yaml", data, fakeTypes{}, WithMaxDepth(3))
		for i, p := range problems {
			if p.File != "fuzz.yaml" || p.Line < 1 || p.Column < 1 || p.Message == "" {
				t.Fatalf("bad problem %#v", p)
			}
			if i > 0 && (p.Line < problems[i-1].Line || p.Line == problems[i-1].Line && p.Column < problems[i-1].Column) {
				t.Fatalf("problems not sorted:\n%v", problems)
			}
		}
		if w == nil {
			if len(problems) == 0 {
				t.Fatal("nil workflow without problems")
			}
			return
		}
		w.Walk(func(s *Step) {
			if anc := w.Ancestors(s); anc[s.ID] {
				t.Fatalf("step %q is its own ancestor", s.ID)
			}
			if s.ID != "" && w.Step(s.ID) == nil {
				t.Fatalf("Step(%q) = nil", s.ID)
			}
		})
	})
}
