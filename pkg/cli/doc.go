// Package cli implements the orchestrator command line: Main dispatches a
// subcommand (run, validate, serve, demo, healthcheck, version), each with
// its own flag.FlagSet, and returns the process exit code. cmd/orchestrator
// only turns signals into ctx cancellation and calls Main.
//
// Exit codes: ExitOK (0) success; ExitFailed (1) the workflow ran and
// failed, the server failed, or a health check failed; ExitUsage (2) an
// invalid workflow, invalid inputs or bad usage.
//
// Start with Main; Progress is the live per-step display of `run`.
// Everything writes to the Env's writers, never to os.Stdout/os.Stderr
// directly, so tests run subcommands in-process.
package cli
