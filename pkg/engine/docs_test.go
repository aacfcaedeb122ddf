package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/builtin"
)

// TestDocumentedWorkflowsLoad loads every workflow the user can read: the
// files in examples/ and every ```yaml block with a `steps:` key in README.md
// and docs/*.md, so that the documentation cannot drift from the format.
// Providers files in the docs must parse. Examples also run to success
// on the simulated provider.
func TestDocumentedWorkflowsLoad(t *testing.T) {
	root := filepath.Join("..", "..")
	set, err := builtin.Registry().NewSet(builtin.DefaultConfigs(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string][]byte{}
	providerBlocks := map[string][]byte{}
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	docs = append(docs, filepath.Join(root, "README.md"))
	fence := regexp.MustCompile("(?s)```ya?ml\n(.*?)```")
	for _, d := range docs {
		src, err := os.ReadFile(d)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			t.Fatal(err)
		}
		for i, m := range fence.FindAllSubmatch(src, -1) {
			body := m[1]
			if regexp.MustCompile(`(?m)^providers:`).Match(body) {
				providerBlocks[filepath.Base(d)+"#"+strconv.Itoa(i)] = body
				continue
			}
			// Only whole workflows: a name and a top-level steps key.
			if !regexp.MustCompile(`(?m)^name:`).Match(body) || !regexp.MustCompile(`(?m)^steps:`).Match(body) {
				continue
			}
			blocks[filepath.Base(d)+"#"+strconv.Itoa(i)] = body
		}
	}
	if len(blocks) == 0 {
		t.Fatal("found no workflow blocks in the docs")
	}
	for name, body := range blocks {
		t.Run(name, func(t *testing.T) {
			e, err := engine.New(engine.WithProviders(set), engine.WithMeterProvider(nil))
			if err != nil {
				t.Fatal(err)
			}
			// Relative paths in documented workflows (corpora) are relative
			// to examples/, where the docs tell readers to save them.
			if _, err := e.Load(filepath.Join(root, "examples", name), body); err != nil {
				t.Fatalf("documented workflow does not load:\n%v", err)
			}
		})
	}

	for name, body := range providerBlocks {
		t.Run(name, func(t *testing.T) {
			if _, err := builtin.Parse(name, body, func(string) string { return "" }); err != nil {
				t.Fatalf("documented providers file does not parse:\n%v", err)
			}
		})
	}

	examples, _ := filepath.Glob(filepath.Join(root, "examples", "*.yaml"))
	if len(examples) < 3 {
		t.Fatalf("want at least 3 examples, found %d", len(examples))
	}
	for _, path := range examples {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			e, err := engine.New(engine.WithProviders(set), engine.WithMeterProvider(nil))
			if err != nil {
				t.Fatal(err)
			}
			plan, err := e.Load(path, src)
			if err != nil {
				t.Fatalf("example does not load:\n%v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := e.Run(ctx, plan, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != "success" {
				t.Fatalf("example %s ended %s: %+v", path, res.Status, res.Error)
			}
		})
	}
}
