package vector

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// maxLineBytes bounds one corpus line (a document with a large vector).
const maxLineBytes = 64 << 20

// Doc is one corpus document.
type Doc struct {
	ID       string
	Text     string
	Metadata map[string]any // nil when the line had none
	Vector   []float64      // as written in the corpus; nil when absent
}

// Corpus is a parsed corpus file. It is immutable.
type Corpus struct {
	Name    string // the path or name used in errors
	Docs    []Doc
	Dim     int // dimensions of the vectors in the file; 0 when none has one
	Missing int // documents without a vector, to be embedded
}

// document is the strict shape of one line.
type document struct {
	ID       *string        `json:"id"`
	Text     *string        `json:"text"`
	Vector   []float64      `json:"vector"`
	Metadata map[string]any `json:"metadata"`
}

// ReadCorpus reads and parses the corpus file at path (see ParseCorpus).
func ReadCorpus(path string) (*Corpus, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseCorpus(f, path)
}

// ParseCorpus parses a JSONL corpus strictly: every non-blank line is one JSON
// object with a non-empty string "id" (unique), a string "text", an optional
// "vector" (finite numbers, the same length on every line) and an optional
// "metadata" object; unknown keys and trailing data are errors. A document
// without a vector needs a non-empty text. Errors read "NAME:LINE: ..." (or
// NAME:LINE:COL for JSON syntax errors).
func ParseCorpus(r io.Reader, name string) (*Corpus, error) {
	c := &Corpus{Name: name}
	seen := map[string]int{}
	dimLine := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	for line := 1; sc.Scan(); line++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		d, err := parseLine(raw)
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%s:%d:%d: %w", name, line, se.Offset, err)
			}
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if prev, dup := seen[d.ID]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate id %q (first on line %d)", name, line, d.ID, prev)
		}
		seen[d.ID] = line
		if d.Vector == nil {
			c.Missing++
		} else if c.Dim == 0 {
			c.Dim, dimLine = len(d.Vector), line
		} else if len(d.Vector) != c.Dim {
			return nil, fmt.Errorf("%s:%d: vector has %d dimensions, line %d has %d", name, line, len(d.Vector), dimLine, c.Dim)
		}
		c.Docs = append(c.Docs, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(c.Docs) == 0 {
		return nil, fmt.Errorf("%s: no documents", name)
	}
	return c, nil
}

func parseLine(raw []byte) (Doc, error) {
	var d document
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return Doc{}, fmt.Errorf("a line must be a JSON object, not %s", te.Value)
			}
			return Doc{}, fmt.Errorf("field %q: got %s, want %s", te.Field, te.Value, te.Type)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Doc{}, errors.New("the JSON object ends early (a document must fit on one line)")
		}
		return Doc{}, err
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return Doc{}, fmt.Errorf("unexpected data after the object at column %d", end+1)
	}
	switch {
	case d.ID == nil || *d.ID == "":
		return Doc{}, errors.New(`missing "id"`)
	case d.Text == nil:
		return Doc{}, errors.New(`missing "text"`)
	case d.Vector != nil && len(d.Vector) == 0:
		return Doc{}, errors.New(`"vector" is empty`)
	case d.Vector == nil && *d.Text == "":
		return Doc{}, errors.New(`"text" is empty and there is no "vector" to use instead`)
	}
	if err := checkFinite(d.Vector); err != nil {
		return Doc{}, err
	}
	return Doc{ID: *d.ID, Text: *d.Text, Metadata: d.Metadata, Vector: d.Vector}, nil
}

func checkFinite(v []float64) error {
	var sum float64
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("vector element %d is not a finite number", i)
		}
		sum += x * x
	}
	if len(v) > 0 && sum == 0 {
		return errors.New("vector has zero length")
	}
	return nil
}
