package vector

import (
	"strings"
	"testing"
)

func TestReadCorpus(t *testing.T) {
	c, err := ReadCorpus("testdata/vectors.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Docs) != 4 || c.Dim != 3 || c.Missing != 0 {
		t.Fatalf("got %d docs, dim %d, missing %d", len(c.Docs), c.Dim, c.Missing)
	}
	if d := c.Docs[2]; d.ID != "c" || d.Text != "cherry" || d.Metadata["lang"] != "en" {
		t.Errorf("doc 2 = %+v", d)
	}
	m, err := ReadCorpus("testdata/mixed.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if m.Dim != 3 || m.Missing != 2 {
		t.Errorf("mixed: dim %d, missing %d", m.Dim, m.Missing)
	}
	if _, err := ReadCorpus("testdata/absent.jsonl"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("absent file: %v", err)
	}
}

func TestParseCorpusErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"empty", "\n  \n", "kb.jsonl: no documents"},
		{"syntax", `{"id":"a","text":"x"` + "\n", "kb.jsonl:1: the JSON object ends early (a document must fit on one line)"},
		{"syntax col", `{"id":"a" "text":"x"}`, `kb.jsonl:1:11: invalid character '"' after object key:value pair`},
		{"not object", `[1,2]`, "kb.jsonl:1: a line must be a JSON object, not array"},
		{"unknown key", `{"id":"a","text":"x","vec":[1]}`, `kb.jsonl:1: json: unknown field "vec"`},
		{"id type", `{"id":1,"text":"x"}`, `kb.jsonl:1: field "id": got number, want string`},
		{"vector type", `{"id":"a","text":"x","vector":["1"]}`, `kb.jsonl:1: field "vector": got string, want float64`},
		{"trailing", `{"id":"a","text":"x"} {}`, "kb.jsonl:1: unexpected data after the object at column 22"},
		{"missing id", `{"text":"x"}`, `kb.jsonl:1: missing "id"`},
		{"empty id", `{"id":"","text":"x"}`, `kb.jsonl:1: missing "id"`},
		{"missing text", `{"id":"a","vector":[1]}`, `kb.jsonl:1: missing "text"`},
		{"empty text", `{"id":"a","text":""}`, `kb.jsonl:1: "text" is empty and there is no "vector" to use instead`},
		{"empty vector", `{"id":"a","text":"x","vector":[]}`, `kb.jsonl:1: "vector" is empty`},
		{"zero vector", `{"id":"a","text":"x","vector":[0,0]}`, `kb.jsonl:1: vector has zero length`},
		{"duplicate", "{\"id\":\"a\",\"text\":\"x\"}\n\n{\"id\":\"a\",\"text\":\"y\"}", `kb.jsonl:3: duplicate id "a" (first on line 1)`},
		{"dims", "{\"id\":\"a\",\"text\":\"x\",\"vector\":[1,2]}\n{\"id\":\"b\",\"text\":\"x\",\"vector\":[1,2,3]}", "kb.jsonl:2: vector has 3 dimensions, line 1 has 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCorpus(strings.NewReader(tt.src), "kb.jsonl")
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}

func FuzzParseCorpus(f *testing.F) {
	f.Add(`{"id":"a","text":"x","vector":[1,2],"metadata":{"k":"v"}}`)
	f.Add("{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\",\"text\":\"y\",\"vector\":[1]}")
	f.Add(`{"id":"a","text":"x"} trailing`)
	f.Fuzz(func(t *testing.T, src string) {
		c, err := ParseCorpus(strings.NewReader(src), "f")
		if err == nil && len(c.Docs) == 0 {
			t.Fatal("no error and no documents")
		}
	})
}

// The corpus shipped with the examples stays valid.
func TestExampleCorpus(t *testing.T) {
	c, err := ReadCorpus("../../../examples/corpus/kb.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Docs) < 40 || c.Missing != len(c.Docs) {
		t.Errorf("%d docs, %d without vectors", len(c.Docs), c.Missing)
	}
	for _, d := range c.Docs {
		if d.Metadata["topic"] == nil || d.Metadata["lang"] == nil {
			t.Errorf("%s: metadata %v lacks topic or lang", d.ID, d.Metadata)
		}
	}
}
