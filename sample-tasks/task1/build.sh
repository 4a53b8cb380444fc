#!/usr/bin/env bash
# Builds the sample task's image and pushes it to a registry that the mesh's workers can pull
# from (see README.md).
#
#   bash sample-tasks/task1/build.sh [--no-push]
#
# Environment:
#   REGISTRY  where to push (default 127.0.0.1:5000, the local registry of scripts/ensure-docker.sh);
#             e.g. registry.lan:5000, or docker.io/<user> for Docker Hub (after `docker login`).
#             The image is $REGISTRY/cloudai-sample-task:1. Never prompts.
#   BASE      the Python base image. Default: python:3-slim when the engine has it or can pull
#             it; otherwise cloudai/python-base:3, built once from this machine's Debian
#             packages by ../build-python-base.sh and reused by every later build.
#
# --no-push builds and tags only (test_local.sh runs the local image).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REGISTRY="${REGISTRY:-127.0.0.1:5000}"
REGISTRY="${REGISTRY%/}"
IMAGE="$REGISTRY/cloudai-sample-task:1"
PUBLIC_BASE=python:3-slim
LOCAL_BASE="${PYTHON_BASE:-cloudai/python-base:3}"
# A pull that cannot reach Docker Hub should fail, not hang.
PULL_TIMEOUT=120

log() { printf 'build: %s\n' "$*" >&2; }
die() { printf 'build: ERROR: %s\n' "$*" >&2; exit 1; }

has_image() { docker image inspect "$1" >/dev/null 2>&1; }

# The base: $BASE if set; else one the engine has (no network needed); else a pull of the public
# image; else the local one, built from Debian packages.
choose_base() {
  if [ -n "${BASE:-}" ]; then
    log "base: $BASE (from \$BASE)"
    printf '%s\n' "$BASE"
  elif has_image "$PUBLIC_BASE"; then
    log "base: $PUBLIC_BASE (in the engine already)"
    printf '%s\n' "$PUBLIC_BASE"
  elif has_image "$LOCAL_BASE"; then
    log "base: $LOCAL_BASE (built here earlier from Debian packages; reused)"
    printf '%s\n' "$LOCAL_BASE"
  else
    log "base: pulling $PUBLIC_BASE (up to ${PULL_TIMEOUT}s)"
    if timeout "$PULL_TIMEOUT" docker pull -q "$PUBLIC_BASE" >/dev/null 2>&1; then
      log "base: $PUBLIC_BASE pulled"
      printf '%s\n' "$PUBLIC_BASE"
    else
      log "base: cannot pull $PUBLIC_BASE (no access to Docker Hub?): building $LOCAL_BASE from Debian packages instead, once"
      PYTHON_BASE="$LOCAL_BASE" bash "$HERE/../build-python-base.sh" >&2 ||
        die "no Python base image: neither $PUBLIC_BASE nor $LOCAL_BASE could be had (messages above). Set BASE=<an image with python3> to use another."
      printf '%s\n' "$LOCAL_BASE"
    fi
  fi
}

main() {
  local push=1 arg
  for arg in "$@"; do
    case "$arg" in
      --no-push) push=0 ;;
      -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
      *) die "unknown argument: $arg (usage: build.sh [--no-push])" ;;
    esac
  done
  command -v docker >/dev/null || die "no docker client: install Docker (Debian: apt-get install docker.io)"
  timeout 20 docker version >/dev/null 2>&1 ||
    die "no Docker engine answers: start it (or, in this project, run scripts/ensure-docker.sh as root)"

  local t0=$SECONDS base out
  base="$(choose_base)"
  log "building $IMAGE (FROM $base)"
  # The legacy builder needs nothing but the engine and uses a local base as it is; BuildKit
  # needs the buildx plugin.
  local env=(DOCKER_BUILDKIT=0)
  docker buildx version >/dev/null 2>&1 && env=(DOCKER_BUILDKIT=1)
  # No network for the build: its only RUN step makes /out, and a test runs it in a namespace without one.
  out="$(env "${env[@]}" docker build --network none --build-arg "BASE=$base" -t "$IMAGE" "$HERE" 2>&1)" ||
    { printf '%s\n' "$out" >&2; die "docker build failed (output above)"; }
  log "built $IMAGE ($(docker image inspect -f '{{.Id}}' "$IMAGE" | cut -c8-19))"

  if [ "$push" = 1 ]; then
    log "pushing $IMAGE"
    if ! out="$(docker push "$IMAGE" 2>&1)"; then
      printf '%s\n' "$out" >&2
      case "$REGISTRY" in
        127.0.0.1:5000) die "push failed: is the local registry running? (scripts/ensure-docker.sh starts one on 127.0.0.1:5000)" ;;
        docker.io/* | index.docker.io/*) die "push failed: log in first (docker login), and check that REGISTRY=docker.io/<your user name>" ;;
        *) die "push failed: check that $REGISTRY answers, and that this engine trusts it (a plain-HTTP registry goes in \"insecure-registries\" in /etc/docker/daemon.json)" ;;
      esac
    fi
    log "pushed $IMAGE"
  else
    log "not pushed (--no-push)"
  fi
  log "done in $((SECONDS - t0))s. Next: bash $HERE/test_local.sh, then: cloudai task <peer> $IMAGE --env POINTS=120"
}

main "$@"
