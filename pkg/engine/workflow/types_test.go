package workflow

import (
	"slices"
	"sort"
)

// fakeTypes is a StepTypes with llm-, parallel- and branch-like configs and
// one config using every supported field kind.
type fakeTypes struct{}

type llmConfig struct {
	Provider    string         `yaml:"provider"`
	Model       string         `yaml:"model"`
	Prompt      string         `yaml:"prompt,required"`
	System      string         `yaml:"system"`
	Temperature *float64       `yaml:"temperature"`
	MaxTokens   *int           `yaml:"max_tokens"`
	Stream      bool           `yaml:"stream"`
	Extra       map[string]any `yaml:",inline"`
}

type parallelConfig struct {
	Tasks          []*Step `yaml:"tasks,required"`
	MaxConcurrency int     `yaml:"max_concurrency"`
}

func (c *parallelConfig) NestedSteps() [][]*Step { return [][]*Step{c.Tasks} }

type branchConfig struct {
	On       string             `yaml:"on,required"`
	Branches map[string][]*Step `yaml:"branches"`
	Default  []*Step            `yaml:"default"`
}

func (c *branchConfig) NestedSteps() [][]*Step {
	keys := make([]string, 0, len(c.Branches))
	for k := range c.Branches {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out [][]*Step
	for _, k := range keys {
		out = append(out, c.Branches[k])
	}
	return append(out, c.Default)
}

type kindsConfig struct {
	Str     string            `yaml:"str"`
	Flag    bool              `yaml:"flag"`
	Int     int               `yaml:"int"`
	Int64   int64             `yaml:"int64"`
	Float   float64           `yaml:"float"`
	StrPtr  *string           `yaml:"str_ptr"`
	BoolPtr *bool             `yaml:"bool_ptr"`
	IntPtr  *int              `yaml:"int_ptr"`
	Strings []string          `yaml:"strings"`
	List    []any             `yaml:"list"`
	Map     map[string]any    `yaml:"map"`
	Headers map[string]string `yaml:"headers"`
	Any     any               `yaml:"any"`
	Auth    *authConfig       `yaml:"auth"`
	Limits  limitsConfig      `yaml:"limits"`
	Ignored string
}

type authConfig struct {
	User  string `yaml:"user,required"`
	Token string `yaml:"token"`
}

type limitsConfig struct {
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
}

var fakeConfigs = map[string]func() any{
	"llm":      func() any { return &llmConfig{} },
	"parallel": func() any { return &parallelConfig{} },
	"branch":   func() any { return &branchConfig{} },
	"kinds":    func() any { return &kindsConfig{} },
	"embed": func() any {
		return &struct {
			Input any `yaml:"input,required"`
		}{}
	},
}

func (fakeTypes) NewConfig(typ string) (any, bool) {
	f, ok := fakeConfigs[typ]
	if !ok {
		return nil, false
	}
	return f(), true
}

func (fakeTypes) Types() []string {
	out := make([]string, 0, len(fakeConfigs))
	for t := range fakeConfigs {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}
