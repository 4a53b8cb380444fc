#!/usr/bin/env bash
# Builds a Python base image from this machine's own Debian packages, for machines that cannot
# pull python:3-slim (no Docker Hub access): mmdebstrap makes a minimal Debian root file system
# (the Essential:yes packages plus python3; no apt, docs, man pages or translations) from the
# suite and mirrors apt already uses here, and `docker import` turns it into a local image.
#
#   bash sample-tasks/build-python-base.sh [--force]
#
# Idempotent: when the image is in the engine already it says so and returns at once (--force
# builds it again). It needs the Debian mirror (apt fetches only, ~40 MB; 20-60 s in all)
# and root, or a user for whom mmdebstrap's unshare mode works. mmdebstrap is installed with
# apt-get when missing (as root).
#
# Environment:
#   PYTHON_BASE    the image to make (default cloudai/python-base:3)
#   DEBIAN_SUITE   the suite (default: this machine's, from /etc/os-release)
#   DEBIAN_MIRROR  one mirror URL, or a sources file (default: the Debian entries apt uses here)
set -euo pipefail

PYTHON_BASE="${PYTHON_BASE:-cloudai/python-base:3}"
# The smallest set that runs a Python program with the full standard library.
PACKAGES=python3
HOOKS=/usr/share/mmdebstrap/hooks
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

log() { printf 'python-base: %s\n' "$*" >&2; }
die() { printf 'python-base: ERROR: %s\n' "$*" >&2; exit 1; }

WORK=""
cleanup() { if [ -n "$WORK" ]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

ensure_mmdebstrap() {
  command -v mmdebstrap >/dev/null && return 0
  { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; } ||
    die "mmdebstrap is not installed: apt-get install mmdebstrap (as root), then run this again"
  local apt=(apt-get -q -y -o DPkg::Lock::Timeout=120)
  log "installing Debian's mmdebstrap (apt-get install mmdebstrap)"
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends mmdebstrap >/dev/null 2>&1; then
    log "apt-get update, then one more try"
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >/dev/null
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends mmdebstrap >/dev/null ||
      die "could not install mmdebstrap (apt-get install mmdebstrap)"
  fi
}

# The suite: $DEBIAN_SUITE, else this machine's release code name.
host_suite() {
  if [ -n "${DEBIAN_SUITE:-}" ]; then printf '%s\n' "$DEBIAN_SUITE"; return 0; fi
  local codename=""
  # shellcheck disable=SC1091
  [ -r /etc/os-release ] && codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")"
  [ -n "$codename" ] || die "cannot tell this machine's Debian release (no VERSION_CODENAME in /etc/os-release): set DEBIAN_SUITE, e.g. DEBIAN_SUITE=bookworm"
  printf '%s\n' "$codename"
}

# One "deb URI SUITE COMPONENTS" line per repository apt here uses for SUITE, SUITE-updates and
# SUITE-security (from apt's own index targets, so both sources.list styles count and third
# party repositories are left out).
host_sources() {
  local suite=$1
  if [ -n "${DEBIAN_MIRROR:-}" ]; then printf '%s\n' "$DEBIAN_MIRROR"; return 0; fi
  # shellcheck disable=SC2016 # apt's own $(FIELD) placeholders
  apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Created-By: Packages' 2>/dev/null |
    awk -v s="$suite" '$2 == s || $2 == s "-updates" || $2 == s "-security" { c[$1 " " $2] = c[$1 " " $2] " " $3 }
      END { for (k in c) print "deb " k c[k] }' | sort -k3,3 -k2,2 | uniq
}

main() {
  local force=0 arg
  for arg in "$@"; do
    case "$arg" in
      --force) force=1 ;;
      -h | --help) usage; exit 0 ;;
      *) die "unknown argument: $arg (usage: build-python-base.sh [--force])" ;;
    esac
  done
  command -v docker >/dev/null || die "no docker client: install Docker first"
  timeout 20 docker version >/dev/null 2>&1 || die "no Docker engine answers: start it (scripts/ensure-docker.sh does, as root)"
  if [ "$force" = 0 ] && docker image inspect "$PYTHON_BASE" >/dev/null 2>&1; then
    log "$PYTHON_BASE is in the engine already (--force builds it again)"
    return 0
  fi

  local t0=$SECONDS suite sources=() line opts=()
  ensure_mmdebstrap
  suite="$(host_suite)"
  while IFS= read -r line; do [ -n "$line" ] && sources+=("$line"); done < <(host_sources "$suite")
  [ ${#sources[@]} -gt 0 ] ||
    die "apt here has no repository for '$suite' (apt-get update first?); set DEBIAN_MIRROR=http://deb.debian.org/debian, or DEBIAN_SUITE"
  # merged /usr without the usrmerge package (which would pull in perl: +50 MB)
  [ -d "$HOOKS/maybe-merged-usr" ] && opts+=("--hook-dir=$HOOKS/maybe-merged-usr")
  # An apt proxy configured on this machine applies to the build too.
  local proxy=""
  proxy="$(apt-config dump 2>/dev/null | sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p' | head -n 1 || true)"
  [ -n "$proxy" ] && opts+=("--aptopt=Acquire::http::Proxy \"$proxy\"")

  log "building $PYTHON_BASE from Debian $suite with mmdebstrap (essential packages + $PACKAGES); sources:"
  for line in "${sources[@]}"; do log "  $line"; done
  WORK="$(mktemp -d "${TMPDIR:-/var/tmp}/cloudai-python-base.XXXXXX")"
  # Docs, man pages and translations go in one customize hook: dpkg path-exclude options would
  # make mmdebstrap filter every package through a Python helper (twice as slow here).
  # force-unsafe-io: no fsync per file while unpacking, as in Docker's own Debian images.
  # shellcheck disable=SC2016 # the hook's $1 is expanded by mmdebstrap's shell
  if ! mmdebstrap --variant=essential --include="$PACKAGES" "${opts[@]}" \
    --dpkgopt=force-unsafe-io \
    --customize-hook='cd "$1" && rm -rf usr/share/man/* usr/share/info/* usr/share/locale/* &&
      { find usr/share/doc -mindepth 2 ! -name copyright -delete 2>/dev/null || true; }' \
    --skip=output/dev \
    --logfile="$WORK/mmdebstrap.log" \
    "$suite" "$WORK/rootfs.tar" "${sources[@]}"; then
    tail -n 30 "$WORK/mmdebstrap.log" >&2 || true
    die "mmdebstrap failed (log above). Root (or a working 'unshare' mode) and the Debian mirror are needed; or pull python:3-slim where Docker Hub is reachable."
  fi
  log "root file system ready ($(du -h "$WORK/rootfs.tar" | cut -f1)) in $((SECONDS - t0))s; importing it as $PYTHON_BASE"
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --message "cloudai python base: Debian $suite essential + $PACKAGES (sample-tasks/build-python-base.sh)" \
    "$WORK/rootfs.tar" "$PYTHON_BASE" >/dev/null || die "docker import failed"
  local version
  version="$(docker run --rm --network none "$PYTHON_BASE" python3 --version 2>&1)" ||
    die "$PYTHON_BASE was imported but python3 does not run in it: $version"
  log "$PYTHON_BASE ready ($version, $(docker image inspect -f '{{.Size}}' "$PYTHON_BASE" | awk '{printf "%d MB", $1 / 1e6}')) in $((SECONDS - t0))s"
}

main "$@"
