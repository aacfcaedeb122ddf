package cli

import (
	"context"
	"fmt"
)

func validateCmd(_ context.Context, env Env, args []string) int {
	fs := newFlagSet(env, "validate", "FILE...")
	providers := fs.String("providers", "", "a providers `file` adding or overriding named providers")
	var hosts listFlag
	fs.Var(&hosts, "allow-http-host", "a `host` that action: http may call (repeatable)")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(files) == 0 {
		fmt.Fprintln(env.Stderr, "orchestrator validate: want at least one workflow FILE")
		fs.Usage()
		return ExitUsage
	}
	eng, err := newEngine(env, *providers, "", 0, hosts)
	if err != nil {
		fmt.Fprintf(env.Stderr, "orchestrator validate: %v\n", err)
		return ExitUsage
	}
	code = ExitOK
	for _, f := range files {
		if _, _, ok := load(env, eng, f); !ok {
			code = ExitUsage
			continue
		}
		fmt.Fprintf(env.Stdout, "%s: ok\n", f)
	}
	return code
}
