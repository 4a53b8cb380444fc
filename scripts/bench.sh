#!/usr/bin/env bash
# The body of `npm run bench`: the Docker engine and registry (scripts/ensure-docker.sh, in
# the machine's own namespace), build, then scripts/bench/run.ts inside a fresh network
# namespace (loopback with multicast), because the discovery benchmarks send mDNS. The
# dashboard benchmark's chromium comes from scripts/ensure-browser.sh.
# Arguments select benchmarks by name (see BENCHMARKS in run.ts); none runs them all.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-docker.sh
# The dashboard benchmark's browser (Debian's chromium), when it is among those run.
names=" $(printf '%s ' "$@" | sed 's/--quick //g')"
if [ "$names" = " " ] || [[ "$names" == *" dashboard "* ]]; then bash scripts/ensure-browser.sh; fi
if [ -f "${CLOUDAI_DOCKER_STATE:-/var/lib/cloudai-dev}/docker.env" ]; then
  set -a; . "${CLOUDAI_DOCKER_STATE:-/var/lib/cloudai-dev}/docker.env"; set +a
fi
npm run build --silent
if [ "$(id -u)" -ne 0 ] || ! unshare -n true 2>/dev/null; then
  echo "bench: needs root and unshare to isolate mDNS in a network namespace" >&2
  exit 1
fi
exec unshare -n bash -c '
  set -e
  ip link set lo up
  ip link set lo multicast on
  ip route add 224.0.0.0/4 dev lo
  exec node dist/scripts/bench/run.js "$@"' bench "$@"
