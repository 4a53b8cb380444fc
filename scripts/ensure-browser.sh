#!/usr/bin/env bash
# Makes what the browser tests need (docs/architecture.md, "Tests"), idempotently:
#   - Debian's chromium, driven by playwright-core through its executablePath (a browser
#     downloaded by playwright would be fetched from the internet: never);
#   - Debian's prometheus, for promtool (checks the /metrics text) and a real Prometheus server
#     the test starts on loopback.
# No service is started: the install runs under a policy-rc.d that forbids it (the package's
# init script would start a Prometheus listening on every address). A second run finds both
# installed and returns at once. scripts/test.sh runs it when browser tests are among its targets.
set -euo pipefail

STATE="${CLOUDAI_DOCKER_STATE:-/var/lib/cloudai-dev}"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

log() { printf 'ensure-browser: %s\n' "$*"; }
die() { printf 'ensure-browser: ERROR: %s\n' "$*" >&2; exit 1; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
{ command -v promtool >/dev/null && command -v prometheus >/dev/null; } || missing+=(prometheus)
[ ${#missing[@]} -eq 0 ] && exit 0

[ "$(id -u)" -eq 0 ] || die "packages missing: ${missing[*]}. Install them (sudo apt-get install ${missing[*]}) or run this script as root."
command -v apt-get >/dev/null || die "packages missing: ${missing[*]} and no apt-get here: install them by hand."
mkdir -p "$STATE"

POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_OURS=0
cleanup() { if [ "$POLICY_RC_OURS" = 1 ]; then rm -f "$POLICY_RC"; fi; }
trap cleanup EXIT
if [ ! -e "$POLICY_RC" ]; then
  printf '#!/bin/sh\n# written by cloudai scripts/ensure-browser.sh for the length of an install\nexit 101\n' >"$POLICY_RC"
  chmod 755 "$POLICY_RC"
  POLICY_RC_OURS=1
fi

apt=(apt-get -q -y -o DPkg::Lock::Timeout=300)
need_update=0
for p in "${missing[@]}"; do
  [[ "$(apt-cache policy "$p" 2>/dev/null || true)" =~ Candidate:\ [^\(] ]] || need_update=1
done
if [ "$need_update" = 1 ]; then
  log "apt-get update (no candidate for some of: ${missing[*]})"
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >/dev/null
fi
log "installing Debian packages: ${missing[*]} (once; this takes a minute)"
if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "${missing[@]}" >"$STATE/apt-browser.log" 2>&1; then
  log "install failed; apt-get update and one more try"
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >/dev/null
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "${missing[@]}" >"$STATE/apt-browser.log" 2>&1 \
    || { tail -n 20 "$STATE/apt-browser.log" >&2; die "could not install ${missing[*]} (log: $STATE/apt-browser.log)"; }
fi
[ -x /usr/bin/chromium ] || die "chromium is not at /usr/bin/chromium after the install"
command -v promtool >/dev/null || die "promtool is missing after installing prometheus"
log "ready: $(/usr/bin/chromium --version 2>/dev/null || echo chromium), $(promtool --version 2>&1 | head -n 1)"
