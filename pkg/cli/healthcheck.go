package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/orchestrator-dev/orchestrator/pkg/app"
)

func healthcheckCmd(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet(env, "healthcheck", "")
	url := fs.String("url", "http://127.0.0.1:8080/health/ready", "health endpoint `URL` to probe")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	tokenFile := fs.String("auth-token-file", "", "send the bearer token in this `file` (for --protect-ops servers)")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(env.Stderr, "orchestrator healthcheck: unexpected arguments %q\n", pos)
		return ExitUsage
	}
	token, err := app.ReadTokenFile(*tokenFile)
	if err != nil {
		fmt.Fprintf(env.Stderr, "orchestrator healthcheck: %v\n", err)
		return ExitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintf(env.Stderr, "orchestrator healthcheck: %v\n", err)
		return ExitUsage
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(env.Stderr, "unhealthy: %v\n", err)
		return ExitFailed
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(env.Stderr, "unhealthy: %s: %s\n", resp.Status, body)
		return ExitFailed
	}
	return ExitOK
}
