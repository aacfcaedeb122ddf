package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/orchestrator-dev/orchestrator/pkg/app"
	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
	"github.com/orchestrator-dev/orchestrator/pkg/prices"
)

func runCmd(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet(env, "run", "FILE")
	var inputs, hosts listFlag
	fs.Var(&inputs, "input", "an input as `k=v` (repeatable); v is parsed as JSON when it parses (numbers, booleans, objects), else taken as a string")
	inputsFile := fs.String("inputs", "", "a JSON `file` holding an object of inputs (--input values win)")
	providers := fs.String("providers", "", "a providers `file` adding or overriding named providers")
	pricesFile := fs.String("prices", "", "a prices `file` overriding and extending the embedded price table (costs in --output json)")
	maxConc := fs.Int("max-concurrency", 0, "override the workflow's max_concurrency (0: keep it)")
	output := fs.String("output", "text", "stdout format: text (each final step's text or result) or json (the run document)")
	fs.Var(&hosts, "allow-http-host", "a `host` that action: http may call (repeatable; none disables action: http)")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	switch {
	case len(pos) != 1:
		fmt.Fprintln(env.Stderr, "orchestrator run: want exactly one workflow FILE")
		fs.Usage()
		return ExitUsage
	case *output != "text" && *output != "json":
		fmt.Fprintf(env.Stderr, "orchestrator run: --output %q: want text or json\n", *output)
		return ExitUsage
	case *maxConc < 0:
		fmt.Fprintf(env.Stderr, "orchestrator run: --max-concurrency %d: want >= 0\n", *maxConc)
		return ExitUsage
	}
	file := pos[0]
	vals, err := parseInputs(*inputsFile, inputs)
	if err != nil {
		fmt.Fprintf(env.Stderr, "orchestrator run: %v\n", err)
		return ExitUsage
	}
	eng, err := newEngine(env, *providers, *pricesFile, *maxConc, hosts)
	if err != nil {
		fmt.Fprintf(env.Stderr, "orchestrator run: %v\n", err)
		return ExitUsage
	}
	plan, code, ok := load(env, eng, file)
	if !ok {
		return code
	}
	res, err := eng.Run(ctx, plan, vals, engine.WithRunObserver(NewProgress(env.Stderr, env.Color)))
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", file, err)
		if errors.Is(err, engine.ErrInvalidInputs) {
			return ExitUsage
		}
		return ExitFailed
	}
	if *output == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(res); err != nil {
			fmt.Fprintf(env.Stderr, "orchestrator run: write output: %v\n", err)
			return ExitFailed
		}
	} else {
		printOutputs(env.Stdout, plan.Workflow, res)
	}
	if res.Status != observe.StatusSuccess {
		return ExitFailed
	}
	return ExitOK
}

// newEngine builds an engine for the CLI: the default providers plus the
// providers file, costs from the price table (unpriced models silently cost
// 0), no metrics, step logs as text on stderr.
func newEngine(env Env, providersFile, pricesFile string, maxConc int, hosts []string) (*engine.Engine, error) {
	set, err := app.Providers(env.Getenv, providersFile)
	if err != nil {
		return nil, err
	}
	table, err := prices.Load(pricesFile, prices.WithLogger(nil))
	if err != nil {
		return nil, err
	}
	return engine.New(
		engine.WithProviders(set),
		engine.WithMeterProvider(noop.NewMeterProvider()),
		engine.WithLogger(slog.New(stepLogs{slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}), false})),
		engine.WithMaxConcurrency(maxConc),
		engine.WithCost(table.Cost),
		engine.WithAllowHTTPHosts(hosts...),
	)
}

// load reads and loads one workflow file, printing its problems.
func load(env Env, eng *engine.Engine, file string) (*engine.Plan, int, bool) {
	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", file, errors.Unwrap(err))
		return nil, ExitUsage, false
	}
	plan, err := eng.Load(file, src)
	if err != nil {
		var problems workflow.Problems
		if errors.As(err, &problems) {
			for _, p := range problems {
				fmt.Fprintln(env.Stderr, p.String())
			}
		} else {
			fmt.Fprintf(env.Stderr, "%s: %v\n", file, err)
		}
		return nil, ExitUsage, false
	}
	return plan, ExitOK, true
}

// parseInputs merges the --inputs file and the --input k=v values.
func parseInputs(file string, kvs []string) (map[string]any, error) {
	vals := map[string]any{}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--inputs: %w", err)
		}
		if err := json.Unmarshal(data, &vals); err != nil {
			return nil, fmt.Errorf("--inputs %s: want a JSON object: %w", file, err)
		}
		if vals == nil {
			vals = map[string]any{}
		}
	}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--input %q: want k=v", kv)
		}
		var parsed any
		if err := json.Unmarshal([]byte(v), &parsed); err != nil {
			parsed = v
		}
		vals[k] = parsed
	}
	return vals, nil
}

// printOutputs prints each final step's text (llm) or result (other
// types), in workflow order, under a header when there are several.
func printOutputs(w io.Writer, wf *workflow.Workflow, res *engine.Result) {
	ids := make([]string, 0, len(res.Outputs))
	seen := map[string]bool{}
	for _, s := range wf.Steps {
		if _, ok := res.Outputs[s.ID]; ok {
			ids = append(ids, s.ID)
			seen[s.ID] = true
		}
	}
	var rest []string
	for id := range res.Outputs {
		if !seen[id] {
			rest = append(rest, id)
		}
	}
	sort.Strings(rest)
	ids = append(ids, rest...)
	for i, id := range ids {
		if len(ids) > 1 {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "== %s ==\n", id)
		}
		fmt.Fprintln(w, outputText(res.Outputs[id]))
	}
}

func outputText(out any) string {
	v := out
	if obj, ok := out.(map[string]any); ok {
		if t, ok := obj["text"].(string); ok {
			return t
		}
		if r, ok := obj["result"]; ok {
			v = r
		}
		// parallel and branch: the outputs of their nested steps.
		if rs, ok := obj["results"].(map[string]any); ok && len(rs) > 0 {
			ids := slices.Sorted(maps.Keys(rs))
			parts := make([]string, len(ids))
			for i, id := range ids {
				parts[i] = outputText(rs[id])
			}
			return strings.Join(parts, "\n")
		}
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// stepLogs passes only the records logged through a step's logger (for
// example action: log), which the engine derives with With(run_id, ...):
// the run's lifecycle is already on the progress lines.
type stepLogs struct {
	slog.Handler
	fromStep bool
}

func (h stepLogs) Enabled(ctx context.Context, l slog.Level) bool {
	return h.fromStep && h.Handler.Enabled(ctx, l)
}

func (h stepLogs) WithAttrs(as []slog.Attr) slog.Handler {
	return stepLogs{h.Handler.WithAttrs(as), true}
}

func (h stepLogs) WithGroup(name string) slog.Handler {
	return stepLogs{h.Handler.WithGroup(name), h.fromStep}
}
