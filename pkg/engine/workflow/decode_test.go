package workflow

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the .golden files of testdata/invalid")

func fixtures(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yaml", "*.json"} {
		m, err := filepath.Glob(filepath.Join("testdata", dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no fixtures in testdata/%s", dir)
	}
	return files
}

func decodeFile(t *testing.T, path string, opts ...DecodeOption) (*Workflow, Problems) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Decode(filepath.Base(path), data, fakeTypes{}, opts...)
}

func TestDecodeValid(t *testing.T) {
	for _, path := range fixtures(t, "valid") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			w, problems := decodeFile(t, path)
			if len(problems) > 0 {
				t.Fatalf("unexpected problems:\n%v", problems)
			}
			if w == nil || len(w.Steps) == 0 {
				t.Fatalf("got workflow %+v, want steps", w)
			}
			w.Walk(func(s *Step) {
				if s.Config == nil {
					t.Errorf("step %q: nil config", s.ID)
				}
			})
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	for _, path := range fixtures(t, "invalid") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, problems := decodeFile(t, path)
			if len(problems) == 0 {
				t.Fatal("no problems reported")
			}
			got := problems.Error() + "\n"
			golden := strings.TrimSuffix(path, filepath.Ext(path)) + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("problems differ from %s\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}
