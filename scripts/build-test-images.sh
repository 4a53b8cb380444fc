#!/usr/bin/env bash
# Builds the test images offline and pushes them to the local registry (docs/architecture.md, "Tests"), so that
# the tests' pulls are real pulls. Docker Hub is never asked: every image is `FROM scratch`
# plus files from this machine's Debian packages, or built on the Python base below.
#
# Also the sample task (sample-tasks/task1): its Python base, cloudai/python-base:3, is built
# from Debian packages with mmdebstrap (sample-tasks/build-python-base.sh; the only step here
# that fetches anything: ~40 MB from the apt mirror, once), so that the tests, which run where
# there is no route to the mirror, can build the sample with build.sh; then the sample image
# itself, pushed as 127.0.0.1:5000/cloudai-sample-task:1.
#
# Needs an engine and the registry on 127.0.0.1:5000 (scripts/ensure-docker.sh starts both and
# then runs this script). An image the registry already has is skipped, and the base is kept in
# the engine, so a second run is quick.
#
# To add an image: write `context_<name> DIR` that fills DIR with a Dockerfile and its files,
# and add "<repository>:<tag> context_<name>" to IMAGES. Change the tag when the recipe changes.
set -euo pipefail

REGISTRY="${CLOUDAI_REGISTRY:-127.0.0.1:5000}"
IMAGES=(
  "cloudai/busybox:1 context_busybox"
)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON_BASE=cloudai/python-base:3
SAMPLE=cloudai-sample-task:1
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

TMPDIRS=()
cleanup() { local d; for d in "${TMPDIRS[@]}"; do rm -rf "$d"; done; }
trap cleanup EXIT

log() { printf 'build-test-images: %s\n' "$*"; }
die() { printf 'build-test-images: ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- images

# cloudai/busybox: a static busybox at /bin/busybox, one symlink per applet, root and nobody.
context_busybox() {
  local dir=$1 bb applet n=0
  bb="$(static_busybox)"
  mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc" "$dir/rootfs/tmp" "$dir/rootfs/root"
  cp "$bb" "$dir/rootfs/bin/busybox"
  chmod 755 "$dir/rootfs/bin/busybox"
  for applet in $("$bb" --list); do
    case "$applet" in busybox | */*) continue ;; esac
    ln -s busybox "$dir/rootfs/bin/$applet"
    n=$((n + 1))
  done
  chmod 1777 "$dir/rootfs/tmp"
  chmod 700 "$dir/rootfs/root"
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
    >"$dir/rootfs/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' >"$dir/rootfs/etc/group"
  local version
  version="$("$bb" 2>&1 | head -n 1 | sed -n 's/^BusyBox \(v[^ ]*\).*/\1/p' || true)"
  cat >"$dir/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
LABEL org.opencontainers.image.title="cloudai test busybox" \\
      org.opencontainers.image.description="static busybox ${version:-?} from Debian's busybox-static, built offline" \\
      org.opencontainers.image.version="${version:-unknown}"
CMD ["sh"]
EOF
  log "busybox ${version:-?}: $n applets"
}

# The static busybox from Debian's busybox-static (installed here if missing, as root).
static_busybox() {
  local bb=""
  if command -v dpkg >/dev/null; then
    if [[ "$(dpkg-query -W -f '${Status}' busybox-static 2>/dev/null || true)" != *"ok installed"* ]]; then
      [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null ||
        die "busybox-static is not installed: apt-get install busybox-static (as root)"
      log "installing Debian's busybox-static" >&2
      DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=120 \
        install --no-install-recommends busybox-static >/dev/null 2>&1 || {
        DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=120 update >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=120 \
          install --no-install-recommends busybox-static >/dev/null
      }
    fi
    bb="$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n 1 || true)"
  fi
  [ -n "$bb" ] || bb="$(command -v busybox || true)"
  [ -n "$bb" ] && [ -x "$bb" ] || die "no busybox binary found: install busybox-static"
  # (ldd exits 1 on a static binary; its words are what matter)
  [[ "$(ldd "$bb" 2>&1 || true)" =~ (not a dynamic executable|statically linked) ]] ||
    die "$bb is not statically linked: install busybox-static"
  printf '%s\n' "$bb"
}

# ---------------------------------------------------------------- registry and build

# registry_has REPO TAG: 0 if the registry serves that manifest, 1 if not; dies if it is down.
registry_has() {
  local url="http://$REGISTRY/v2/$1/manifests/$2" code
  if command -v curl >/dev/null; then
    code="$(curl -sS --noproxy '*' -m 10 -o /dev/null -w '%{http_code}' -I \
      -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
      -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$url" 2>/dev/null)" || code=000
    case "$code" in
      200) return 0 ;;
      404) return 1 ;;
      *) die "registry $REGISTRY does not answer (HTTP $code for $url): run scripts/ensure-docker.sh" ;;
    esac
  fi
  timeout 30 docker manifest inspect --insecure "$REGISTRY/$1:$2" >/dev/null 2>&1
}

build_and_push() {
  local fn=$2 ref="$REGISTRY/$1" repo=${1%:*} tag=${1##*:} dir t0=$SECONDS
  if registry_has "$repo" "$tag"; then
    log "$ref: already in the registry, skipped"
    return 0
  fi
  dir="$(mktemp -d "${TMPDIR:-/tmp}/cloudai-image.XXXXXX")"
  TMPDIRS+=("$dir")
  log "$ref: building"
  "$fn" "$dir"
  # The legacy builder needs nothing but the engine; BuildKit needs the buildx plugin.
  # (Its deprecation notice is noise here: output is shown only when a step fails.)
  local builder=legacy out
  docker buildx version >/dev/null 2>&1 && builder=buildkit
  if [ "$builder" = buildkit ]; then
    out="$(docker build -q -t "$ref" "$dir" 2>&1)" || { printf '%s\n' "$out" >&2; die "$ref: docker build failed"; }
  else
    out="$(DOCKER_BUILDKIT=0 docker build -q -t "$ref" "$dir" 2>&1)" || { printf '%s\n' "$out" >&2; die "$ref: docker build failed"; }
  fi
  log "$ref: built with the $builder builder; pushing to $REGISTRY"
  out="$(docker push "$ref" 2>&1)" || { printf '%s\n' "$out" >&2; die "$ref: docker push failed"; }
  registry_has "$repo" "$tag" || die "$ref: pushed, but the registry does not serve it"
  log "$ref: done in $((SECONDS - t0))s"
}

# The sample task, built and pushed by its own build.sh on the local Python base (named
# explicitly, so that build.sh never tries Docker Hub from here).
sample_task() {
  local ref="$REGISTRY/$SAMPLE" t0=$SECONDS out
  PYTHON_BASE="$PYTHON_BASE" bash "$ROOT/sample-tasks/build-python-base.sh" ||
    die "$PYTHON_BASE: could not build the Python base (above); the sample-task tests need it"
  if registry_has "${SAMPLE%:*}" "${SAMPLE##*:}"; then
    log "$ref: already in the registry, skipped"
    return 0
  fi
  log "$ref: building with sample-tasks/task1/build.sh"
  out="$(REGISTRY="$REGISTRY" BASE="$PYTHON_BASE" bash "$ROOT/sample-tasks/task1/build.sh" 2>&1)" ||
    { printf '%s\n' "$out" >&2; die "$ref: sample-tasks/task1/build.sh failed"; }
  registry_has "${SAMPLE%:*}" "${SAMPLE##*:}" || die "$ref: pushed, but the registry does not serve it"
  log "$ref: done in $((SECONDS - t0))s"
}

main() {
  command -v docker >/dev/null || die "no docker client: run scripts/ensure-docker.sh"
  timeout 20 docker version >/dev/null 2>&1 || die "no Docker engine answers: run scripts/ensure-docker.sh"
  local entry
  for entry in "${IMAGES[@]}"; do
    # shellcheck disable=SC2086
    build_and_push $entry
  done
  sample_task
}

main "$@"
