package prices

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
)

//go:embed prices.yaml
var defaultYAML []byte

// Price is USD per million tokens.
type Price struct {
	Input  float64 `yaml:"input"`
	Output float64 `yaml:"output"`
}

type file struct {
	AsOf      string                      `yaml:"as_of"`
	Providers map[string]map[string]Price `yaml:"providers"`
}

// Table prices provider requests.
type Table struct {
	asOf   string
	byKey  map[string]map[string]Price // provider (name or kind) -> model -> price
	logger *slog.Logger
	warned sync.Map // "provider/model" -> struct{}
}

// Option configures a Table.
type Option func(*Table)

// WithLogger sets where the one-per-model "no price" warning goes.
// Default: slog.Default(). A nil logger disables the warning.
func WithLogger(l *slog.Logger) Option { return func(t *Table) { t.logger = l } }

// Default returns the embedded table.
func Default(opts ...Option) (*Table, error) { return Load("", opts...) }

// Load returns the embedded table overridden by the file at path (when path
// is not empty): its entries replace embedded ones with the same provider
// and model, and add new ones. Unknown keys and negative prices are errors.
func Load(path string, opts ...Option) (*Table, error) {
	t := &Table{byKey: map[string]map[string]Price{}, logger: slog.Default()}
	for _, o := range opts {
		o(t)
	}
	base, err := parse("prices.yaml (embedded)", defaultYAML)
	if err != nil {
		return nil, err
	}
	t.merge(base)
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("prices: %w", err)
		}
		user, err := parse(path, data)
		if err != nil {
			return nil, err
		}
		t.merge(user)
	}
	return t, nil
}

func parse(name string, data []byte) (*file, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("prices: %s: %w", name, err)
	}
	var errs []error
	for p, models := range f.Providers {
		for m, pr := range models {
			if pr.Input < 0 || pr.Output < 0 {
				errs = append(errs, fmt.Errorf("prices: %s: %s/%s: prices must not be negative", name, p, m))
			}
		}
	}
	return &f, errors.Join(errs...)
}

func (t *Table) merge(f *file) {
	if f.AsOf != "" {
		t.asOf = f.AsOf
	}
	for p, models := range f.Providers {
		if t.byKey[p] == nil {
			t.byKey[p] = map[string]Price{}
		}
		for m, pr := range models {
			t.byKey[p][m] = pr
		}
	}
}

// AsOf is the date the table's prices were recorded.
func (t *Table) AsOf() string { return t.asOf }

// Lookup finds the price of model under provider name, then under the
// provider's kind: an exact model match first, then the longest
// dash-separated prefix.
func (t *Table) Lookup(name, kind, model string) (Price, bool) {
	for _, key := range [...]string{name, kind} {
		models := t.byKey[key]
		if models == nil {
			continue
		}
		for m := model; m != ""; {
			if p, ok := models[m]; ok {
				return p, true
			}
			i := strings.LastIndexByte(m, '-')
			if i < 0 {
				break
			}
			m = m[:i]
		}
	}
	return Price{}, false
}

// Cost returns the USD cost of one provider request: reported input and
// output tokens times the model's price. An unpriced model costs 0 and is
// warned about once. Its signature matches engine.WithCost.
func (t *Table) Cost(r observe.ProviderRequest) float64 {
	if r.InputTokens == 0 && r.OutputTokens == 0 {
		return 0
	}
	p, ok := t.Lookup(r.Provider, r.ProviderKind, r.Model)
	if !ok {
		key := r.Provider + "/" + r.Model
		if _, seen := t.warned.LoadOrStore(key, struct{}{}); !seen && t.logger != nil {
			t.logger.Warn("no price for model; its cost counts as 0 (add it with --prices)",
				"provider", r.Provider, "model", r.Model)
		}
		return 0
	}
	return (float64(r.InputTokens)*p.Input + float64(r.OutputTokens)*p.Output) / 1e6
}
