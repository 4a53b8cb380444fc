#!/usr/bin/env bash
# The body of `npm test` (docs/architecture.md, "Tests"):
#   1. scripts/ensure-docker.sh, in the machine's own network namespace, so that dockerd and
#      the registry on 127.0.0.1:5000 live where the engine can pull from the registry; skipped
#      when every target is in the unit or sim layer, which run no container;
#   2. scripts/ensure-browser.sh (Debian's chromium and prometheus) when the browser layer is
#      among the targets; build (tsc, incremental);
#   3. every node:test file, inside a fresh network namespace (loopback up, multicast on, a
#      route for 224.0.0.0/4 on lo) so that mDNS never leaves the machine, in the order and
#      lanes scripts/test-lanes.sh gives them. The Docker socket is a file, so tests inside the
#      namespace still reach the engine. Where no namespace can be made (not root, no unshare),
#      the tests run here with a random mDNS tag each.
# Arguments, if any, are test files or directories under dist/ (e.g. dist/test/unit); `npm run
# test:quick` passes the unit and sim layers, which need no Docker.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(dist/test)

needs_docker=false
needs_browser=false
for target in "${targets[@]}"; do
  case "$target" in
    */unit|*/unit/|*/unit/*|*/sim|*/sim/|*/sim/*) ;;
    *) needs_docker=true ;;
  esac
  case "$target" in
    dist/test|dist/test/|*/browser|*/browser/|*/browser/*) needs_browser=true ;;
  esac
done

if $needs_docker; then
  bash scripts/ensure-docker.sh
  # ensure-docker.sh records an API version pin when the docker client and engine disagree.
  if [ -f "${CLOUDAI_DOCKER_STATE:-/var/lib/cloudai-dev}/docker.env" ]; then
    set -a; . "${CLOUDAI_DOCKER_STATE:-/var/lib/cloudai-dev}/docker.env"; set +a
  fi
fi
# The browser layer's Chromium and Prometheus (Debian packages, installed once).
if $needs_browser; then bash scripts/ensure-browser.sh; fi

echo "test: building"
# tsc never deletes output: the compiled copy of a test file since removed would still run.
# (A fresh clone has no dist/ yet: nothing to remove.)
if [ -d dist/test ]; then
  find dist/test -name '*.js' | while read -r compiled; do
    source="${compiled#dist/}"
    [ -f "${source%.js}.ts" ] || rm -f "$compiled" "$compiled.map"
  done
fi
# Incremental: a build after a small change takes seconds, not the ten of a full one.
npx tsc -p tsconfig.json --incremental --tsBuildInfoFile dist/.tsbuildinfo

mapfile -t files < <(find "${targets[@]}" -name '*.test.js' | sort)
[ ${#files[@]} -gt 0 ] || { echo "test: no test files under ${targets[*]}" >&2; exit 1; }

lanes=(bash scripts/test-lanes.sh "${files[@]}")

if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
  echo "test: running ${#files[@]} test files in an isolated network namespace"
  export CLOUDAI_TEST_NETNS=1
  exec unshare -n bash -c '
    set -e
    ip link set lo up
    ip link set lo multicast on
    ip route add 224.0.0.0/4 dev lo
    exec "$@"' netns "${lanes[@]}"
fi

echo "test: WARNING: cannot create a network namespace (needs root and unshare); running here with random mDNS tags"
exec "${lanes[@]}"
