#!/usr/bin/env bash
# Runs the API load test COUNT times (default 6) for the preloaded and the
# inline workflow, and summarises runs/s, p50, p99 and the server's peak RSS
# with benchstat (medians ± spread). Output: bench/load.txt, bench/load-benchstat.txt.
#   LOAD_FLAGS  extra cmd/loadtest flags (default: -concurrency 32 -duration 5s)
set -euo pipefail
count=${1:-6}
flags=${LOAD_FLAGS:--concurrency 32 -duration 5s}
BENCHSTAT_VERSION=${BENCHSTAT_VERSION:-v0.0.0-20260908200009-22c9c6c9d4da}
mkdir -p bench bin
CGO_ENABLED=0 go build -trimpath -o bin/orchestrator ./cmd/orchestrator
go build -o bin/loadtest ./cmd/loadtest
printf 'goos: linux\npkg: cmd/loadtest\n' >bench/load.txt
for _ in $(seq "$count"); do
	for mode in preloaded inline; do
		extra=""
		[ "$mode" = inline ] && extra=-inline
		# shellcheck disable=SC2086 # flags is a list
		bin/loadtest -bin bin/orchestrator $flags $extra | tee /dev/stderr | awk -v m="$mode" '
			function ms(s) { if (s ~ /ms$/) return s + 0; if (s ~ /µs$/) return s / 1000; return s * 1000 }
			/^runs\/s=/ { split($1, r, "="); split($2, a, "="); split($3, b, "="); runs = r[2]; p50 = ms(a[2]); p99 = ms(b[2]) }
			/peak RSS=/ { split($3, c, "="); rss = c[2] + 0 }
			END { printf "BenchmarkLoad/%s 1 %s runs/s %s p50-ms %s p99-ms %s RSS-MiB\n", m, runs, p50, p99, rss }' >>bench/load.txt
	done
done
go run "golang.org/x/perf/cmd/benchstat@${BENCHSTAT_VERSION}" bench/load.txt | tee bench/load-benchstat.txt
