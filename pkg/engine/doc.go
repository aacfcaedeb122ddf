// Package engine loads and runs orchestrator workflows.
//
// # Where to start
//
// New builds an Engine from options (providers, step types, observers, a
// MeterProvider for the orchestrator metrics, a TracerProvider, a logger).
// Engine.Load decodes a workflow file (package workflow), builds every
// step with its type's Spec through a step.Builder that parses templates
// and expressions once and checks that they only reference declared inputs
// and ancestor steps, and resolves providers; it returns every problem at
// once, as workflow.Problems. The result is a Plan, immutable and runnable
// any number of times at once. Engine.Run validates the inputs and runs
// the plan to completion, returning a Result (api.go holds the contract,
// docs/workflow-format.md the user-facing semantics).
//
// # How a run works
//
// compile.go turns the workflow into a compiled plan: one cstep per step
// (top-level and nested, parents first), one dag.Graph per list of steps,
// and for every step the set of steps that always finished before it
// starts (the only outputs its templates may read). run.go drives it: the
// dag scheduler calls execStep for each step it starts and skip for each
// it never starts; execStep evaluates the condition, runs attempts through
// retry.Do (per-attempt timeout, panic recovery, output binding), and
// records the outcome. Nested groups (parallel, branch) run through
// Runtime.RunGroup with the same scheduler. observed.go wraps each
// provider a step resolves, so that every request emits one
// observe.ProviderRequest; the run and step reach the wrapper through the
// step's ctx.
//
// # Events
//
// The engine is the only emitter of observe events, and emits each exactly
// once on every path: RunStart and RunEnd per run, StepStart per started
// step, StepEnd per step (skipped and nested ones included, nested steps
// before their parent), StepRetry before each retry wait, ProviderRequest
// per provider request attempt. Invalid inputs emit nothing.
//
// # Concurrency
//
// An Engine and a Plan are safe for concurrent use. Run owns every
// goroutine it starts and returns only after all of them returned; no
// goroutine outlives a run. Each step's state is written only by the
// goroutine that runs or skips it, and read by later steps after the
// scheduler's join. The template data a step sees (Runtime.Data) holds the
// run's inputs and its ancestors' output objects: executors must treat it
// as read-only.
package engine
