// Package tmpl implements the Handlebars-style templates used in prompts,
// system messages, embed inputs, queries, transform templates and action
// bodies.
//
// Start with Parse, which runs once when a workflow loads and reports every
// mistake it can find without data as a *SyntaxError (1-based line and
// column within the template): unclosed or mismatched blocks, unknown
// helpers (with a suggestion), wrong argument counts, bad paths and nesting
// deeper than MaxDepth. Refs lists the inputs and step outputs a template
// reads, so the loader can check them against the DAG. Render, RenderLimit
// and Value evaluate a parsed template against the run's data,
// {"inputs": {...}, "steps": {stepID: object}}.
//
// # Why not raymond
//
// Output is never escaped: templates build LLM prompts and JSON bodies, not
// HTML. {{ x }} and {{{ x }}} are the same. Handlebars libraries for Go
// (aymerick/raymond) always HTML-escape {{ }}, which corrupts prompts, and
// resolve paths by reflection on every render; this package parses once
// into a tree of precompiled paths and renders without re-parsing.
//
// # Language
//
//   - Text, {{ path }}, {{{ path }}}, {{& path }}, comments {{! ... }} and
//     {{!-- ... --}} (which may contain "}}"), and \{{ for a literal "{{".
//   - Whitespace control: {{~ trims all whitespace before the tag, ~}} all
//     whitespace after it. As in Handlebars, a block tag, {{else}} or a
//     comment alone on its line removes that whole line.
//   - Paths: inputs.x, steps.id.name, a.b.c, items.0 and items.[0] (any
//     name in brackets), this, this.name, ../x, @index, @key, @first,
//     @last. inputs and steps always name the data roots. At the top level
//     a bare name is an input ({{ ticket }} is {{ inputs.ticket }}); inside
//     #each and #with it is a field of the current item, and ../ climbs to
//     the enclosing context. Missing values are nil and render empty, so a
//     reference to a skipped step renders as "".
//   - Blocks: {{#each x}}...{{else}}...{{/each}} over lists and maps (in
//     key order), {{#if x}}...{{else if y}}...{{else}}...{{/if}},
//     {{#unless x}}, {{#with x}}. A block argument may be a helper call,
//     with or without parentheses: {{#if (eq a 1)}} or {{#if eq a 1}}.
//   - Helpers (a fixed set; an unknown helper is a parse error): eq, ne,
//     gt, lt, and, or, not, json, len, upper, lower, trim, default, join,
//     truncate. They are called as {{helper arg...}} or, nested, as
//     (helper arg...). Arguments are paths, sub-expressions, or string
//     ('...' or "..."), number, true, false and null literals. eq compares
//     numbers by value (1 == 1.0), and lists and maps by identity as in
//     JavaScript; gt and lt order two numbers or two
//     strings and are false for any other pair; len counts runes, list
//     elements or map entries; default a b is b when a is nil or an empty
//     string, list or map; join list sep; truncate s n keeps n runes.
//   - Rendering: strings as they are, numbers in their shortest form
//     (3, not 3.0), booleans, nil as nothing, lists and maps as compact JSON
//     (no HTML escaping). Truthiness follows Handlebars: nil, false, 0, ""
//     and empty lists and maps are false.
//
// # Safety
//
// Templates see only the data passed to Render: no environment, files,
// clock or network, and no user-defined helpers. Every render is bounded:
// the output by the byte limit (ErrOutputLimit, also checked by json and
// join before they return a large string), the work by MaxSteps
// (ErrWorkLimit; helpers are charged for the bytes they read and build,
// so a loop cannot repeat expensive work unnoticed), and recursion by
// MaxDepth, enforced at parse time.
// Render errors are errtype.Template.
//
// # Concurrency
//
// A *Template is immutable after Parse. Render, RenderLimit, Value, Refs
// and Source are safe for concurrent use; per-render state comes from a
// pool.
package tmpl
