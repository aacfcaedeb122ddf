// Package branch is the `branch` step type: it evaluates its `on`
// expression, runs the list of nested steps under the matching key of
// `branches` (the value formatted with fmt.Sprint: true, 3, "complaint"),
// or the `default` list when no key matches, and reports every step of the
// other lists as skipped with the reason "branch not taken".
//
// Start with Spec. The engine runs the chosen list (step.Runtime.RunGroup)
// with its scheduling, retries and events. The step's output object is
// {"branch": key, "results": {step_id: object}}, where key is the matched
// key, "default", or "" when nothing matched and there is no default; its
// values are the key and the results. A branch step fails when a step of
// the chosen list failed, and is never retried.
//
// Executors are safe for concurrent use.
package branch
