#!/usr/bin/env bash
# The body of `npm run bench`: build, then run scripts/bench/run.ts inside a fresh network
# namespace (loopback with multicast), because the discovery benchmarks send mDNS.
# Arguments select benchmarks by name (discovery, idle-rss); none runs them all.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
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
