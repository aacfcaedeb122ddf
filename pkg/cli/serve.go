package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/orchestrator-dev/orchestrator/pkg/app"
)

func serveCmd(ctx context.Context, env Env, args []string) int {
	o := app.DefaultOptions()
	o.Getenv, o.Stdout, o.Stderr, o.Version = env.Getenv, env.Stdout, env.Stderr, env.Version
	fs := newFlagSet(env, "serve", "")
	fs.StringVar(&o.Addr, "addr", o.Addr, "listen `address` (host:port)")
	fs.StringVar(&o.WorkflowsDir, "workflows", "", "preload every *.yaml, *.yml and *.json workflow in `dir` (an invalid one aborts start-up)")
	fs.StringVar(&o.ProvidersFile, "providers", "", "a providers `file` adding or overriding named providers")
	fs.StringVar(&o.PricesFile, "prices", "", "a prices `file` overriding and extending the embedded price table")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", o.ShutdownTimeout, "on SIGTERM, how long in-flight runs may drain before they are cancelled")
	fs.IntVar(&o.MaxInflight, "max-inflight", o.MaxInflight, "runs executing at once; past it, sync runs get 429 with Retry-After and async runs queue")
	fs.IntVar(&o.MaxQueued, "max-queued", o.MaxQueued, "async runs waiting (first in, first out) for one of the --max-inflight slots; past it, 429 (0: no queue)")
	fs.IntVar(&o.MaxConcurrency, "max-concurrency", 0, "override every workflow's max_concurrency (0: keep it)")
	fs.IntVar(&o.HistorySize, "history-size", o.HistorySize, "finished runs kept for GET /v1/runs/{id}")
	fs.Func("max-heap", "readiness fails when heap in use exceeds this `size` (e.g. 512MiB; default GOMEMLIMIT, else no check)", func(v string) error {
		n, err := parseBytes(v)
		o.MaxHeap = n
		return err
	})
	fs.Func("allow-http-host", "a `host` that action: http may call (repeatable; none disables action: http)", func(v string) error {
		o.AllowHTTPHosts = append(o.AllowHTTPHosts, v)
		return nil
	})
	fs.StringVar(&o.AuthTokenFile, "auth-token-file", "", "require the bearer token in this `file` on /v1/* (Authorization: Bearer <token>)")
	fs.BoolVar(&o.ProtectOps, "protect-ops", false, "also require the token on /metrics and /health/*")
	fs.StringVar(&o.Semconv, "semconv", o.Semconv, "genai: also record the OpenTelemetry GenAI semantic-convention metrics; off: only orchestrator_*")
	fs.IntVar(&o.MaxWorkflowNames, "max-workflow-names", o.MaxWorkflowNames, "distinct workflow_name values of inline workflows before the label becomes _other (preloaded names always count)")
	fs.IntVar(&o.MaxModels, "max-models", o.MaxModels, "distinct model label values (requested and reported) before the label becomes _other")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "debug, info, warn or error")
	fs.StringVar(&o.LogFormat, "log-format", o.LogFormat, "json or text")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(env.Stderr, "orchestrator serve: unexpected arguments %q\n", pos)
		return ExitUsage
	}
	if err := o.Validate(); err != nil {
		fmt.Fprintf(env.Stderr, "orchestrator serve: invalid options:\n%v\n", err)
		return ExitUsage
	}
	if err := app.Run(ctx, o); err != nil {
		fmt.Fprintf(env.Stderr, "orchestrator serve: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}

// parseBytes reads a size such as 1073741824, 512MiB, 1GiB, 500MB or 64k.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40}, {"b", 1},
	}
	v := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("size %q: want bytes or a number with KiB, MiB, GiB, KB, MB or GB", s)
	}
	return int64(f * float64(mult)), nil
}
