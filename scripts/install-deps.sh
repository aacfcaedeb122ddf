#!/usr/bin/env bash
# Installs the system packages the tests need, only when they are missing:
# Debian's prometheus (prometheus + promtool) for the rule tests and the
# real-Prometheus dashboard test.
set -euo pipefail
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to apt-get install ${need[*]}; install them yourself" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# The Debian package may start a system service on :9090; our tests start
# their own on free ports and never use it.
