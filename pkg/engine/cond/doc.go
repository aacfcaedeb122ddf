// Package cond compiles and evaluates the expressions of step conditions
// and branch `on`, over a run's inputs and step outputs only.
//
// Start with Compile, which runs once when a workflow loads. It accepts
// two forms:
//
//   - An expr-lang expression (github.com/expr-lang/expr), such as
//     inputs.mode == 'deep' or
//     steps.classify.label == 'complaint' && inputs.priority > 2.
//     The only names are inputs and steps; the bare form of an input
//     (mode == 'deep'), which templates accept, is a compile error here:
//     write inputs.mode.
//   - A template (any source containing "{{"), parsed by package tmpl,
//     such as {{ eq steps.classify.label "complaint" }}. Bool accepts its
//     rendering when it is, trimmed and in any case, true/yes/1 or
//     false/no/0.
//
// Compile errors are *tmpl.SyntaxError with the 1-based line and column
// expr or tmpl reports. Refs lists the normalised paths ("inputs.x",
// "steps.a.b") an expression reads, taken from the syntax tree, so the
// loader can check them against the DAG. Bool evaluates a condition (the
// result must be a bool) and Value a branch key.
//
// # Missing values
//
// Every member access is made nil-safe (as if written a?.b): a missing map
// key, a missing input and a skipped step (absent from the data) all read
// as nil, so steps.skipped.label == 'x' is false rather than an error. A
// list index out of range and an operation on nil (nil > 2) are
// evaluation errors.
//
// # Sandbox and limits
//
// Expressions see only the data passed to Bool or Value. expr itself has
// no access to the environment, files or network. Because expr evaluation
// has no timeout or context, Compile also enforces rules that bound the
// cost of every evaluation:
//
//   - Only a fixed set of builtins is enabled (the builtins list in
//     cond.go, plus the predicates all, any, none, one, filter, find,
//     findIndex, findLast, findLastIndex, count, sum, groupBy and sortBy).
//     now, date, timezone and duration (clock and time-zone files) are
//     not available, nor repeat, replace, join, split, toJSON, fromJSON,
//     map and reduce, whose results can grow far beyond their input or
//     turn a string into a list. let, method calls and unknown functions
//     are compile errors.
//   - A predicate may read only its element (# or .field), #index and
//     literals, and may not hold another predicate, so it costs at most
//     (size of the list) x (size of the predicate).
//   - The pattern of matches must be a string literal (compiled once).
//   - The source is at most MaxLength bytes and MaxNodes syntax nodes,
//     which also bounds parser recursion.
//   - Each evaluation gets a MemoryBudget (elements of ranges, arrays,
//     maps, concatenated and sorted lists), so 1..10000000 fails with
//     "memory budget exceeded" instead of allocating.
//
// Together these make an evaluation at most MaxNodes operations, each
// linear in its operands, whose sizes grow only additively from the inputs,
// step outputs and budgeted ranges they start from. Conditions are not a
// place for data processing: use a transform step.
//
// Evaluation errors are errtype.Validation (expressions, and a result of
// the wrong type) or errtype.Template (template rendering).
//
// # Concurrency
//
// An *Expr is immutable after Compile; Bool, Value, Refs and Source are
// safe for concurrent use.
package cond
