package workflow

import (
	"fmt"
	"strings"
)

// Pos is a 1-based line and column in the source file.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Defaults applied by Decode.
const (
	DefaultTimeoutSeconds = 600
	DefaultMaxConcurrency = 8
)

// Workflow is a decoded workflow file.
type Workflow struct {
	File           string // the name used in problems
	Name           string
	Version        string
	Description    string
	TimeoutSeconds float64 // > 0; DefaultTimeoutSeconds when absent
	MaxConcurrency int     // > 0; DefaultMaxConcurrency when absent
	Metadata       map[string]any
	Inputs         map[string]*Input
	Steps          []*Step // top-level steps in file order
	Pos            Pos     // position of the document's root mapping
	NamePos        Pos
}

// Input declares one workflow input.
type Input struct {
	Name        string
	Required    bool
	Default     any // nil when absent
	HasDefault  bool
	Description string
	Pos         Pos
}

// Retry is a step's retry block, with defaults applied.
type Retry struct {
	MaxAttempts    int    // all attempts, including the first; >= 1
	Backoff        string // exponential | linear | constant
	InitialDelayMS int
	MaxDelayMS     int
}

// DefaultRetry is used for steps without a retry block.
var DefaultRetry = Retry{MaxAttempts: 3, Backoff: "exponential", InitialDelayMS: 100, MaxDelayMS: 30000}

// Step is one step, top-level or nested (in parallel tasks or branch lists).
type Step struct {
	ID             string
	Type           string
	DependsOn      []string
	Condition      string // "" when absent
	Output         []string
	TimeoutSeconds float64 // per attempt; 0 means none (the workflow timeout still applies)
	Retry          Retry   // DefaultRetry when the step has no retry block
	HasRetry       bool

	// Config is the type-specific configuration: the value returned by the
	// StepTypes' NewConfig for Type, filled from the step's remaining keys.
	// nil when the type is unknown.
	Config any

	Pos Pos // position of the step's mapping
	// FieldPos maps every key present in the step (common and type-specific)
	// to the position of its value, for problems raised after decoding.
	FieldPos map[string]Pos

	// Parent is the enclosing parallel/branch step for nested steps, nil at top level.
	Parent *Step
}

// PosOf returns the position of key's value, or the step's position.
func (s *Step) PosOf(key string) Pos {
	if p, ok := s.FieldPos[key]; ok {
		return p
	}
	return s.Pos
}

// StepTypes tells the decoder which step types exist and how to decode
// their type-specific keys. The engine's step registry implements it.
type StepTypes interface {
	// NewConfig returns a pointer to a fresh config struct for typ, or false
	// when typ is unknown. Exported fields with `yaml:"name"` tags are the
	// type's keys; a map[string]any field tagged `yaml:",inline"` receives
	// every other key (used by llm for extra provider parameters). Fields of
	// type []*Step and map[string][]*Step hold nested steps.
	NewConfig(typ string) (any, bool)
	// Types lists the known types, sorted, for "did you mean" messages.
	Types() []string
}

// Nested is implemented by configs that hold nested steps (parallel, branch),
// so that id uniqueness, dependency and cycle checks see every step.
type Nested interface {
	NestedSteps() [][]*Step
}

// Problem is one thing wrong with a workflow.
type Problem struct {
	File    string `json:"-"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Step    string `json:"step,omitempty"`
	Message string `json:"message"`
}

// String formats the problem as `FILE:LINE:COL: step "id": message`.
func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", p.File, p.Line, p.Column)
	if p.Step != "" {
		fmt.Fprintf(&b, "step %q: ", p.Step)
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in one workflow, sorted by position. It
// implements error; callers get it with errors.As.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
