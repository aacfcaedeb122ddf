package workflow

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Limits applied by Decode unless changed with a DecodeOption.
const (
	DefaultMaxSteps = 1000     // steps in a workflow, nested steps included
	DefaultMaxDepth = 8        // nesting levels of steps inside steps
	DefaultMaxBytes = 10 << 20 // size of the file
)

// DecodeOption configures Decode.
type DecodeOption func(*decodeConfig)

type decodeConfig struct {
	maxSteps, maxDepth, maxBytes int
}

// WithMaxSteps limits the number of steps, nested steps included. The
// default is DefaultMaxSteps; n <= 0 keeps the default. A larger workflow is
// reported as a problem and not decoded further.
func WithMaxSteps(n int) DecodeOption {
	return func(c *decodeConfig) {
		if n > 0 {
			c.maxSteps = n
		}
	}
}

// WithMaxDepth limits how deeply steps nest inside other steps (parallel
// tasks, branch lists): top-level steps are at depth 0, their nested steps
// at depth 1, and so on. The default is DefaultMaxDepth; n <= 0 keeps the
// default. Deeper nesting is reported as a problem and not decoded further.
func WithMaxDepth(n int) DecodeOption {
	return func(c *decodeConfig) {
		if n > 0 {
			c.maxDepth = n
		}
	}
}

// WithMaxBytes limits the size of the file. The default is DefaultMaxBytes;
// n <= 0 keeps the default. A larger file is reported as a problem without
// being parsed.
func WithMaxBytes(n int) DecodeOption {
	return func(c *decodeConfig) {
		if n > 0 {
			c.maxBytes = n
		}
	}
}

// workflowDoc, stepDoc, retryDoc and inputDoc are the file's keys; the
// decoder reads their tags, so the key lists are written only here.
type workflowDoc struct {
	Name           string               `yaml:"name,required"`
	Version        string               `yaml:"version,text"`
	Description    string               `yaml:"description"`
	TimeoutSeconds *float64             `yaml:"timeout_seconds"`
	MaxConcurrency *int                 `yaml:"max_concurrency"`
	Metadata       map[string]any       `yaml:"metadata"`
	Inputs         map[string]*inputDoc `yaml:"inputs"`
	Steps          []*Step              `yaml:"steps,required"`
}

type inputDoc struct {
	Required    bool   `yaml:"required"`
	Default     *any   `yaml:"default"`
	Description string `yaml:"description"`
}

type stepDoc struct {
	ID             string    `yaml:"id,required"`
	Type           string    `yaml:"type,required"`
	DependsOn      []string  `yaml:"depends_on"`
	Condition      string    `yaml:"condition"`
	Output         []string  `yaml:"output"`
	TimeoutSeconds *float64  `yaml:"timeout_seconds"`
	Retry          *retryDoc `yaml:"retry"`
}

type retryDoc struct {
	MaxAttempts    *int    `yaml:"max_attempts"`
	Backoff        *string `yaml:"backoff"`
	InitialDelayMS *int    `yaml:"initial_delay_ms"`
	MaxDelayMS     *int    `yaml:"max_delay_ms"`
}

// MaxRetryAttempts bounds retry.max_attempts.
const MaxRetryAttempts = 20

var (
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	identRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
	yamlErr  = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	backoffs = []string{"constant", "exponential", "linear"}
)

// Decode parses a workflow file (YAML or JSON) strictly and validates its
// structure: keys and their types (the workflow's, the steps' and each step
// type's config, which types supplies), required keys, names and ids, id
// uniqueness across the whole workflow, dependencies (existing, at the same
// level, acyclic), output names, timeouts and retry blocks. Defaults are
// applied (DefaultTimeoutSeconds, DefaultMaxConcurrency, DefaultRetry).
//
// Problems holds every problem found, sorted by position; file names them.
// The returned workflow is as complete as the file allows even when there
// are problems, so that callers can run further checks (templates,
// providers) and report everything at once: steps that could not be decoded
// are left out, and a step of an unknown type has a nil Config. The
// workflow is nil only when the file could not be decoded at all (too big,
// a YAML syntax error, no document, a root that is not a mapping, or a
// limit exceeded).
//
// Decode never panics, whatever data holds, provided types' configs use the
// supported field types (see the package documentation).
func Decode(file string, data []byte, types StepTypes, opts ...DecodeOption) (*Workflow, Problems) {
	cfg := decodeConfig{maxSteps: DefaultMaxSteps, maxDepth: DefaultMaxDepth, maxBytes: DefaultMaxBytes}
	for _, o := range opts {
		o(&cfg)
	}
	d := &decoder{
		file: file, types: types, cfg: cfg,
		maxNodes: 2*len(data) + 10000,
		active:   map[*yaml.Node]bool{},
		fields:   map[reflect.Type]*structInfo{},
	}
	d.budget = d.maxNodes
	w := d.decodeFile(data)
	if d.aborted {
		w = nil
	}
	return w, d.sorted()
}

func (d *decoder) decodeFile(data []byte) *Workflow {
	start := Pos{Line: 1, Column: 1}
	if len(data) > d.cfg.maxBytes {
		d.errorf(start, "file is %d bytes, more than the limit of %d", len(data), d.cfg.maxBytes)
		return nil
	}
	doc, next, err := parse(data)
	switch {
	case errors.Is(err, io.EOF):
		d.errorf(start, "file is empty: a workflow needs at least \"name\" and \"steps\"")
		return nil
	case err != nil:
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlErr.FindStringSubmatch(err.Error()); m != nil {
			start.Line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		d.errorf(start, "yaml syntax error: %s", msg)
		return nil
	}
	if next != nil {
		d.errorf(pos(next), "a workflow file holds one YAML document, found another here")
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		d.errorf(pos(doc), "file is empty: a workflow needs at least \"name\" and \"steps\"")
		return nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.AliasNode && root.Alias != nil {
		root = root.Alias
	}
	if root.Kind != yaml.MappingNode {
		d.errorf(pos(root), "a workflow must be a mapping, got %s", got(root))
		return nil
	}
	return d.workflow(root)
}

// parse returns the first document of data and the second one, if any.
func parse(data []byte) (doc, next *yaml.Node, err error) {
	defer func() {
		// yaml.v3 reports syntax errors by panicking internally; a panic
		// that escapes it is still a problem with the file, not a crash.
		if r := recover(); r != nil {
			doc, next, err = nil, nil, fmt.Errorf("yaml: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	doc = new(yaml.Node)
	if err := dec.Decode(doc); err != nil {
		return nil, nil, err
	}
	next = new(yaml.Node)
	switch err := dec.Decode(next); {
	case errors.Is(err, io.EOF):
		return doc, nil, nil
	case err != nil:
		return nil, nil, err
	}
	return doc, next, nil
}

func (d *decoder) workflow(root *yaml.Node) *Workflow {
	var doc workflowDoc
	d.fieldPos = map[string]Pos{}
	d.decodeStruct(root, "", reflect.ValueOf(&doc).Elem(), nil)
	if d.aborted {
		return nil
	}
	at := d.fieldPos
	w := &Workflow{
		File: d.file, Name: doc.Name, Version: doc.Version, Description: doc.Description,
		TimeoutSeconds: DefaultTimeoutSeconds, MaxConcurrency: DefaultMaxConcurrency,
		Metadata: doc.Metadata, Inputs: map[string]*Input{}, Steps: doc.Steps,
		Pos: pos(root), NamePos: at["name"],
	}
	if p, ok := at["name"]; ok && !nameRE.MatchString(doc.Name) {
		d.errorf(p, "\"name\" must be 1 to 64 letters, digits, '_', '-' or '.', got %q", doc.Name)
	}
	if t := doc.TimeoutSeconds; t != nil {
		d.checkTimeout(at["timeout_seconds"], *t)
		w.TimeoutSeconds = *t
	}
	if c := doc.MaxConcurrency; c != nil {
		if *c < 1 {
			d.errorf(at["max_concurrency"], "\"max_concurrency\" must be at least 1, got %d", *c)
		}
		w.MaxConcurrency = *c
	}
	for name, in := range doc.Inputs {
		p := at[join("inputs", name)]
		if !identRE.MatchString(name) {
			d.errorf(p, "invalid input name %q: %s", name, identRule)
		}
		i := &Input{Name: name, Pos: p}
		if in != nil {
			i.Required, i.Description = in.Required, in.Description
			if in.Default != nil {
				i.Default, i.HasDefault = *in.Default, true
			}
		}
		w.Inputs[name] = i
	}
	for _, p := range d.pairs(root, "") {
		if v := p.val; p.name == "steps" && v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
			d.errorf(pos(v), "\"steps\" must not be empty")
		}
	}
	d.fieldPos = nil
	d.validate(w)
	return w
}

const identRule = "use letters, digits, '_' and '-', starting with a letter or '_'"

// decodeStep decodes one step mapping into v (a *Step). The step's own keys
// (stepDoc) are split from its type's keys, which are decoded into the
// config struct that d.types returns for its type.
func (d *decoder) decodeStep(n *yaml.Node, path string, v reflect.Value) bool {
	if n.Kind != yaml.MappingNode {
		return d.mismatch(n, path, stepPtrType)
	}
	if d.depth > d.cfg.maxDepth {
		d.errorf(pos(n), "nesting depth %d exceeds the limit of %d", d.depth, d.cfg.maxDepth)
		d.aborted = true
		return false
	}
	if d.steps++; d.steps > d.cfg.maxSteps {
		d.errorf(pos(n), "workflow has more than %d steps", d.cfg.maxSteps)
		d.aborted = true
		return false
	}
	s := &Step{Pos: pos(n), FieldPos: map[string]Pos{}, Parent: d.parent, Retry: DefaultRetry}
	step, fieldPos, parent, depth := d.step, d.fieldPos, d.parent, d.depth
	defer func() { d.step, d.fieldPos, d.parent, d.depth = step, fieldPos, parent, depth }()
	d.step, d.fieldPos, d.parent, d.depth = "", s.FieldPos, s, depth+1

	common := d.structOf(reflect.TypeFor[stepDoc]())
	own := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	rest := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	stringID := false
	for i := 0; i+1 < len(n.Content) && !stringID; i += 2 {
		if k, id := n.Content[i], n.Content[i+1]; k.Value == "id" && id.Kind == yaml.ScalarNode && id.ShortTag() == "!!str" {
			d.step, stringID = id.Value, true // label every problem of the step
		}
	}
	for _, p := range d.pairs(n, "") {
		if _, ok := common.byName[p.name]; ok {
			own.Content = append(own.Content, p.key, p.val)
		} else {
			rest.Content = append(rest.Content, p.key, p.val)
		}
	}
	var doc stepDoc
	d.decodeStruct(own, "", reflect.ValueOf(&doc).Elem(), nil)
	s.ID, s.Type, s.DependsOn, s.Condition, s.Output = doc.ID, doc.Type, doc.DependsOn, doc.Condition, doc.Output

	if doc.Type != "" {
		s.Config = d.config(s, rest, common.names)
	}
	if _, ok := s.FieldPos["id"]; ok && (stringID || s.ID != "") && !identRE.MatchString(s.ID) {
		d.errorf(s.PosOf("id"), "invalid step id %q: %s", s.ID, identRule)
	}
	seen := map[string]bool{}
	for i, o := range s.Output {
		at := s.PosOf(index("output", i))
		switch {
		case !identRE.MatchString(o):
			d.errorf(at, "invalid output name %q: %s", o, identRule)
		case seen[o]:
			d.errorf(at, "duplicate output name %q", o)
		}
		seen[o] = true
	}
	if t := doc.TimeoutSeconds; t != nil {
		d.checkTimeout(s.PosOf("timeout_seconds"), *t)
		s.TimeoutSeconds = *t
	}
	if r := doc.Retry; r != nil {
		s.HasRetry = true
		d.retry(s, r)
	}
	v.Set(reflect.ValueOf(s))
	return true
}

// config decodes the step's type-specific keys into a fresh config.
func (d *decoder) config(s *Step, rest *yaml.Node, commonKeys []string) any {
	if d.types == nil {
		d.errorf(s.PosOf("type"), "unknown step type %q: no step types are registered", s.Type)
		return nil
	}
	cfg, ok := d.types.NewConfig(s.Type)
	if !ok {
		known := d.types.Types()
		hint := d.didYouMean(s.Type, known)
		if hint == "" {
			hint = fmt.Sprintf(" (known types: %s)", strings.Join(known, ", "))
		}
		d.errorf(s.PosOf("type"), "unknown step type %q%s", s.Type, hint)
		return nil
	}
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		d.errorf(s.PosOf("type"), "internal error: step type %q has config %T, not a pointer to a struct", s.Type, cfg)
		return nil
	}
	d.decodeStruct(rest, "", v.Elem(), commonKeys)
	return cfg
}

// Timeouts and delays must fit a time.Duration.
const (
	maxTimeoutSeconds = float64(math.MaxInt64 / int64(time.Second))
	maxDelayMS        = math.MaxInt64 / int(time.Millisecond)
)

func (d *decoder) checkTimeout(p Pos, t float64) {
	if t <= 0 || t > maxTimeoutSeconds {
		d.errorf(p, "\"timeout_seconds\" must be greater than 0 and at most %d, got %v", int64(maxTimeoutSeconds), t)
	}
}

func (d *decoder) retry(s *Step, r *retryDoc) {
	if r.MaxAttempts != nil {
		s.Retry.MaxAttempts = *r.MaxAttempts
		if n := *r.MaxAttempts; n < 1 || n > MaxRetryAttempts {
			d.errorf(s.PosOf("retry.max_attempts"), "\"retry.max_attempts\" must be between 1 and %d, got %d", MaxRetryAttempts, n)
		}
	}
	if r.Backoff != nil {
		s.Retry.Backoff = *r.Backoff
		if !slices.Contains(backoffs, *r.Backoff) {
			d.errorf(s.PosOf("retry.backoff"), "\"retry.backoff\" must be one of %s, got %q%s",
				strings.Join(backoffs, ", "), *r.Backoff, d.didYouMean(*r.Backoff, backoffs))
		}
	}
	if r.InitialDelayMS != nil {
		s.Retry.InitialDelayMS = *r.InitialDelayMS
		if *r.InitialDelayMS < 0 {
			d.errorf(s.PosOf("retry.initial_delay_ms"), "\"retry.initial_delay_ms\" must not be negative, got %d", *r.InitialDelayMS)
		}
	}
	if r.MaxDelayMS != nil {
		s.Retry.MaxDelayMS = *r.MaxDelayMS
		if *r.MaxDelayMS > maxDelayMS {
			d.errorf(s.PosOf("retry.max_delay_ms"), "\"retry.max_delay_ms\" must be at most %d, got %d", maxDelayMS, *r.MaxDelayMS)
		}
	}
	if rt := s.Retry; rt.InitialDelayMS >= 0 && rt.MaxDelayMS < rt.InitialDelayMS {
		at := "retry.max_delay_ms"
		if r.MaxDelayMS == nil {
			at = "retry.initial_delay_ms"
		}
		d.errorf(s.PosOf(at), "\"retry.max_delay_ms\" (%d) must not be less than \"retry.initial_delay_ms\" (%d)", rt.MaxDelayMS, rt.InitialDelayMS)
	}
}

// sorted returns the problems sorted by position, without duplicates (a
// value reached through several aliases is reported once).
func (d *decoder) sorted() Problems {
	if len(d.problems) == 0 {
		return nil
	}
	seen := map[Problem]bool{}
	var out Problems
	for _, p := range d.problems {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return out
}
