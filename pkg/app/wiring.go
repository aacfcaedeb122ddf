package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/builtin"
)

// Providers builds the named providers: the defaults (openai, anthropic,
// simulated, configured from getenv) plus those of file, which override
// defaults of the same name. file "" means none.
func Providers(getenv func(string) string, file string) (*provider.Set, error) {
	cfgs := builtin.DefaultConfigs(getenv)
	if file != "" {
		var err error
		if cfgs, err = builtin.LoadFile(file, getenv); err != nil {
			return nil, fmt.Errorf("providers file: %w", err)
		}
	}
	set, err := builtin.Registry().NewSet(cfgs)
	if err != nil {
		return nil, fmt.Errorf("providers: %w", err)
	}
	return set, nil
}

// ReadTokenFile reads a bearer token: the file's content without
// surrounding whitespace. path "" returns "". An empty token is an error.
func ReadTokenFile(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("auth token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("auth token file %s is empty", path)
	}
	return tok, nil
}

// Preload loads every *.yaml, *.yml and *.json file directly in dir, in
// name order. It reports the problems of every invalid file at once (each
// as FILE:LINE:COL: message) and rejects two files with the same workflow
// name.
func Preload(eng *engine.Engine, dir string) ([]*engine.Plan, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("workflows dir: %w", err)
	}
	var (
		plans  []*engine.Plan
		errs   []error
		byName = map[string]string{}
	)
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
		default:
			continue
		}
		if e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		src, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p, err := eng.Load(path, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		name := p.Workflow.Name
		if prev, dup := byName[name]; dup {
			errs = append(errs, fmt.Errorf("%s: workflow name %q is already used by %s", path, name, prev))
			continue
		}
		byName[name] = path
		plans = append(plans, p)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("preload %s:\n%w", dir, errors.Join(errs...))
	}
	return plans, nil
}
