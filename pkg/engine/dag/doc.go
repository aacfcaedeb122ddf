// Package dag holds the dependency graph of one list of steps (the
// top-level steps of a workflow, or the steps of one nested group) and the
// scheduler that runs it.
//
// Start with New, which checks the graph for cycles and names the steps in
// one, and Graph.Run, which calls a Handler for every node: Execute for
// nodes it starts, Skip for nodes it never starts. The rules are the
// workflow's execution semantics:
//
//   - a node starts as soon as all its dependencies finished; independent
//     nodes run concurrently, at most limit at a time (a semaphore), and no
//     node waits on an unrelated one;
//   - a skipped dependency counts as finished;
//   - fail fast: once a node failed, or ctx ended, no new node starts; the
//     running ones finish, and every node never started is skipped with the
//     reason `dependency "x" failed` (when a direct dependency failed),
//     "run stopped after a failure", or "run stopped: <cause of ctx>".
//
// A Graph is immutable and safe for concurrent Runs. Run owns every
// goroutine it starts and returns only after all of them returned; each
// writes only its own node's slot. Skip is always called on Run's
// goroutine.
package dag
