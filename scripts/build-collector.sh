#!/usr/bin/env bash
# Builds the bundled OpenTelemetry Collector distribution (otel-collector/dist,
# its own Go module) into $1 (default bin/otelcol-orchestrator). Skips the
# build when the binary is newer than every file of the module: a cold build
# takes minutes, so tests and `make check-stack` build it once.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/bin/otelcol-orchestrator}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
src="$root/otel-collector/dist"

if [ -x "$out" ] && [ -z "$(find "$src" -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -newer "$out" -print -quit)" ]; then
  echo "collector: $out is up to date"
  exit 0
fi
mkdir -p "$(dirname "$out")"
echo "collector: building $out (a cold build takes a few minutes)"
cd "$src"
GOWORK=off CGO_ENABLED=0 go build -trimpath -o "$out.tmp" .
mv "$out.tmp" "$out"
"$out" --version
