package prices

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
)

func TestCost(t *testing.T) {
	tab, err := Default(WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name               string
		provider, kind, mo string
		in, out            int64
		want               float64
	}{
		{"exact", "openai", "openai", "gpt-4o-mini", 1_000_000, 1_000_000, 0.75},
		{"dated model by prefix", "openai", "openai", "gpt-4o-2024-08-06", 2000, 1000, (2000*2.5 + 1000*10) / 1e6},
		{"named provider falls back to kind", "azure", "openai", "gpt-4o", 1000, 0, 0.0025},
		{"anthropic", "anthropic", "anthropic", "claude-sonnet-4-20250514", 100, 50, (100*3 + 50*15.0) / 1e6},
		{"unpriced", "ollama", "openai", "llama3", 1000, 1000, 0},
		{"no usage", "openai", "openai", "gpt-4o", 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tab.Cost(observe.ProviderRequest{Provider: c.provider, ProviderKind: c.kind, Model: c.mo, InputTokens: c.in, OutputTokens: c.out})
			if diff := got - c.want; diff > 1e-12 || diff < -1e-12 {
				t.Fatalf("cost = %v, want %v", got, c.want)
			}
		})
	}
}

func TestWarnOncePerModel(t *testing.T) {
	var buf bytes.Buffer
	tab, err := Default(WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	if err != nil {
		t.Fatal(err)
	}
	r := observe.ProviderRequest{Provider: "ollama", ProviderKind: "openai", Model: "llama3", InputTokens: 5}
	for range 3 {
		tab.Cost(r)
	}
	r.Model = "mistral"
	tab.Cost(r)
	if n := strings.Count(buf.String(), "no price for model"); n != 2 {
		t.Fatalf("warnings = %d, want 2 (one per model):\n%s", n, buf.String())
	}
}

func TestLoadOverride(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	os.WriteFile(path, []byte("as_of: \"2027-01-01\"\nproviders:\n  openai:\n    gpt-4o: {input: 1, output: 2}\n  ollama:\n    llama3: {input: 0.01, output: 0.02}\n"), 0o644)
	tab, err := Load(path, WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if tab.AsOf() != "2027-01-01" {
		t.Fatalf("as_of = %q", tab.AsOf())
	}
	if p, _ := tab.Lookup("openai", "openai", "gpt-4o"); p != (Price{1, 2}) {
		t.Fatalf("override not applied: %+v", p)
	}
	if p, _ := tab.Lookup("openai", "openai", "gpt-4o-mini"); p != (Price{0.15, 0.60}) {
		t.Fatalf("embedded entry lost: %+v", p)
	}
	if _, ok := tab.Lookup("ollama", "openai", "llama3"); !ok {
		t.Fatal("extension not applied")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown key": "providers:\n  openai:\n    gpt-4o: {input: 1, ouput: 2}\n",
		"negative":    "providers:\n  openai:\n    gpt-4o: {input: -1, output: 2}\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yaml")
			os.WriteFile(path, []byte(body), 0o644)
			if _, err := Load(path); err == nil {
				t.Fatal("want error")
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("want error for a missing file")
	}
}
