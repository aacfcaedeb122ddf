#!/usr/bin/env bash
# Runs the Go benchmarks COUNT times (default 6) and summarises them with
# benchstat (medians ± spread).
#   BENCH_PKGS  packages to benchmark (default ./...: every benchmark, about 10 min on 2 cores)
#   BENCH       -bench regexp (default .)
# Output: bench/machine.txt (the conditions), bench/raw.txt (go test output)
# and bench/benchstat.txt. Compare two runs with:
#   go run golang.org/x/perf/cmd/benchstat@$BENCHSTAT_VERSION old.txt new.txt
set -euo pipefail
count=${1:-6}
pkgs=${BENCH_PKGS:-./...}
BENCHSTAT_VERSION=${BENCHSTAT_VERSION:-v0.0.0-20260908200009-22c9c6c9d4da}
mkdir -p bench
{
	echo "date: $(date -u +%FT%TZ)"
	echo "nproc: $(nproc)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "go: $(go version)"
	echo "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >bench/machine.txt
# shellcheck disable=SC2086 # pkgs is a list
go test -run '^$' -bench "${BENCH:-.}" -benchmem -count "$count" -timeout 60m $pkgs | tee bench/raw.txt
echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)" >>bench/machine.txt
go run "golang.org/x/perf/cmd/benchstat@${BENCHSTAT_VERSION}" bench/raw.txt | tee bench/benchstat.txt
cat bench/machine.txt
