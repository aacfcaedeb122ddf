// Package parallel is the `parallel` step type: it runs its nested `tasks`
// concurrently, at most `max_concurrency` at a time (default: the
// workflow's max_concurrency), with the engine's scheduling, retries,
// events and fail-fast rules, and fails when any task failed.
//
// Start with Spec. The engine does the scheduling: Execute calls
// step.Runtime.RunGroup. Tasks may depend on each other (depends_on inside
// the list). The step's output object is {"results": {task_id: object}}
// holding the objects of the tasks that succeeded; its single value is that
// map. A parallel step is never retried, since its tasks already were.
//
// Executors are safe for concurrent use.
package parallel
