package app

import (
	"fmt"
	"net"
	"strings"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
)

// banner prints the URLs to try to o.Stdout (for people running
// `orchestrator serve` in a terminal; logs go to o.Stderr).
func banner(o Options, addr net.Addr, plans []*engine.Plan) {
	if o.Stdout == nil {
		return
	}
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	base := "http://" + net.JoinHostPort(host, port)
	var b strings.Builder
	fmt.Fprintf(&b, "orchestrator %s serving on %s\n", o.Version, base)
	names := make([]string, len(plans))
	for i, p := range plans {
		names[i] = p.Workflow.Name
	}
	auth := ""
	if o.AuthTokenFile != "" {
		auth = fmt.Sprintf(" -H \"Authorization: Bearer $(cat %s)\"", o.AuthTokenFile)
	}
	fmt.Fprintf(&b, "  workflows  %s/v1/workflows  (%d preloaded: %s)\n", base, len(names), strings.Join(names, ", "))
	if len(names) > 0 {
		try := names[0]
		for _, n := range names {
			if n == "triage" {
				try = n
			}
		}
		fmt.Fprintf(&b, "  try        curl -s%s -X POST %s/v1/workflows/%s/runs -d '{\"inputs\":{}}'\n", auth, base, try)
	}
	fmt.Fprintf(&b, "  inline     curl -s%s -X POST %s/v1/runs -d '{\"workflow\":\"name: hi\\nsteps:\\n- id: a\\n  type: llm\\n  provider: simulated\\n  model: sim-fast\\n  prompt: hello\"}'\n", auth, base)
	fmt.Fprintf(&b, "  metrics    %s/metrics\n", base)
	fmt.Fprintf(&b, "  health     %s/health/live  %s/health/ready\n", base, base)
	fmt.Fprint(o.Stdout, b.String())
}
