// Package workflow owns the workflow file format: the model (model.go), the
// strict YAML/JSON decoder with structural validation (Decode), and graph
// helpers the engine uses (Walk, Step, Ancestors, Children).
//
// # Where to start
//
// Decode turns a file into a *Workflow and every Problem found, each
// formatted as `FILE:LINE:COL: step "id": message`. It checks what can be
// checked without running anything: keys and value types, required keys,
// names and ids, id uniqueness across the whole workflow (nested steps
// included), dependencies, dependency cycles, output names, timeouts, retry
// blocks and the size limits (WithMaxSteps, WithMaxDepth, WithMaxBytes).
// Templates, expressions and providers are checked later, by the engine,
// with positions taken from Step.FieldPos.
//
// Dependencies are per list: a top-level step depends on top-level steps, a
// nested step on its siblings in the same list. A cycle is reported once,
// on the step of the cycle that comes first in the file, following
// depends_on: `dependency cycle: a -> b -> c -> a` means a depends on b.
//
// # Step type configs
//
// The decoder knows the workflow's and the steps' own keys; StepTypes
// supplies a config struct per step type for the rest of a step's keys.
// NewConfig must return a pointer to a struct. Its exported fields with a
// `yaml` tag are the type's keys:
//
//   - `yaml:"name"`: the key. An absent key leaves the field's zero value;
//     use a pointer field to tell absent from zero. A null value (`key:` or
//     `key: ~`) counts as absent.
//   - `yaml:"name,required"`: the key must be present and not null.
//   - `yaml:"name,text"` on a string field: an unquoted number is accepted
//     too, keeping its source text (`version: 1.10` is "1.10").
//   - `yaml:",inline"` on a map[string]T field: receives every key the
//     struct does not declare, decoded as T (llm's extra provider
//     parameters). Without it, an undeclared key is a problem, with a
//     "did you mean" suggestion.
//
// Supported field types: string, bool, int, int64, float64, pointers to
// those, []string, []any, map[string]any, map[string]string, any (mappings
// become map[string]any, lists []any), nested structs and pointers to
// structs (decoded by the same rules), []*Step and map[string][]*Step
// (nested steps, decoded recursively with Parent set; implement Nested so
// that validation and Walk see them). Types are strict: a string field
// rejects numbers and booleans, an int field rejects 1.5, a float64 field
// accepts integers. Config keys must not reuse a step's own keys (id, type,
// depends_on, condition, output, timeout_seconds, retry): those never reach
// the config.
//
// Anchors, aliases and merge keys (`<<: *defaults`) work everywhere;
// explicit keys win over merged ones. Problems inside an aliased value
// point at the anchored node. An alias to a value that contains it is a
// problem, and alias expansion is bounded (about twice the file's size in
// values), so a small file cannot expand into a huge one.
//
// Limits keep hostile input cheap: besides the options, at most 1000 "did
// you mean" searches and 100 dependency cycles are reported per file.
//
// # Concurrency
//
// Decode is safe for concurrent use and never panics on any input. A
// decoded Workflow is not modified by this package afterwards; its methods
// only read it and are safe for concurrent use.
package workflow
