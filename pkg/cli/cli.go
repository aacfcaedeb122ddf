package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
)

// Exit codes returned by Main.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitUsage  = 2
)

// Env is the process environment a subcommand sees.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Color enables ANSI colours in progress output (stderr is a terminal).
	Color   bool
	Version string
}

type command struct {
	name, summary string
	run           func(ctx context.Context, env Env, args []string) int
}

func commands() []command {
	return []command{
		{"run", "run a workflow file and print its outputs", runCmd},
		{"validate", "check workflow files and print every problem", validateCmd},
		{"serve", "serve the HTTP API (/v1/runs, /metrics, /health/*)", serveCmd},
		{"demo", "send realistic demo traffic to a running server", demoCmd},
		{"healthcheck", "probe a health endpoint (for container HEALTHCHECKs)", healthcheckCmd},
		{"version", "print the version", versionCmd},
	}
}

// Main runs the subcommand named by args[0] and returns the exit code.
func Main(ctx context.Context, env Env, args []string) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 {
		usage(env.Stderr)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(env.Stdout)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(env.Stderr, "orchestrator: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: orchestrator <command> [flags] [args]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'orchestrator <command> -h' for a command's flags.")
}

// newFlagSet returns a FlagSet whose errors and help go to env.Stderr.
func newFlagSet(env Env, name, argsUsage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: orchestrator %s [flags] %s\n\nFlags:\n", name, argsUsage)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags that may come before, between or after positional
// arguments, and returns the positional ones. It returns the exit code to
// use when parsing failed (ExitOK for -h).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, ExitOK, false
			}
			return nil, ExitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		// flag stops at the first positional argument or after "--".
		if len(args)-len(rest) > 0 && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func versionCmd(_ context.Context, env Env, args []string) int {
	fs := newFlagSet(env, "version", "")
	if _, code, ok := parseArgs(fs, args); !ok {
		return code
	}
	fmt.Fprintf(env.Stdout, "orchestrator %s (%s, %s/%s)\n", env.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return ExitOK
}
