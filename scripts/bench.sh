#!/usr/bin/env bash
# Runs every Go benchmark COUNT times and summarises with benchstat.
# Output: bench/raw.txt (go test output) and bench/benchstat.txt (medians ± spread).
# Compare two runs with: go run golang.org/x/perf/cmd/benchstat@$BENCHSTAT_VERSION old.txt new.txt
set -euo pipefail
count=${1:-6}
pkgs=${BENCH_PKGS:-./...}
BENCHSTAT_VERSION=${BENCHSTAT_VERSION:-v0.0.0-20260908200009-22c9c6c9d4da}
mkdir -p bench
go test -run '^$' -bench "${BENCH:-.}" -benchmem -count "$count" $pkgs | tee bench/raw.txt
go run "golang.org/x/perf/cmd/benchstat@${BENCHSTAT_VERSION}" bench/raw.txt | tee bench/benchstat.txt
