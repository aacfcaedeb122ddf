package tmpl_test

import (
	"os"
	"testing"
)

// BenchmarkRender renders a typical retrieval-augmented prompt.
func BenchmarkRender(b *testing.B) {
	src, err := os.ReadFile("testdata/render/rag_prompt.tmpl")
	if err != nil {
		b.Fatal(err)
	}
	t := mustParse(b, string(src))
	data := testData(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.Render(data); err != nil {
			b.Fatal(err)
		}
	}
}
