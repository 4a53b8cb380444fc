#!/usr/bin/env bash
# Makes the local Docker setup that the docker and lan tests need (docs/architecture.md, "Tests"), idempotently:
#   1. a Docker engine that answers: uses the one running, else installs Debian's docker.io
#      (as root) and starts dockerd in the background;
#   2. a registry on 127.0.0.1:5000 only (Debian's docker-registry), with its own config and
#      storage under the state directory;
#   3. the offline test images, built and pushed there by scripts/build-test-images.sh.
# Everything it starts is recorded under the state directory ($CLOUDAI_DOCKER_STATE, default
# /var/lib/cloudai-dev): <name>.pid, <name>.log, dockerd.mode. scripts/stop-docker.sh stops
# exactly that. A second run finds everything up and returns within a second.
#
# The engine it starts sends nothing off this machine: no IP masquerading, no IPv4 forwarding,
# and (where iptables works) a DROP rule in DOCKER-USER for anything routed out of a Docker
# bridge; published ports bind to 127.0.0.1 by default.
set -euo pipefail

STATE="${CLOUDAI_DOCKER_STATE:-/var/lib/cloudai-dev}"
REGISTRY_ADDR=127.0.0.1:5000
ENGINE_WAIT="${CLOUDAI_DOCKER_WAIT:-60}"   # seconds for dockerd to answer, per attempt
REGISTRY_WAIT=30                           # seconds for the registry to answer
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

log() { printf 'ensure-docker: %s\n' "$*"; }
die() { printf 'ensure-docker: ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# ---------------------------------------------------------------- helpers

# pid_of PIDFILE COMM: prints the pid recorded in PIDFILE if that process is alive and is COMM.
pid_of() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(tr -dc '0-9' <"$1")"
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
  printf '%s\n' "$pid"
}

# terminate PID: SIGTERM, up to 5 s, then SIGKILL.
terminate() {
  local n
  kill -TERM "$1" 2>/dev/null || return 0
  for ((n = 0; n < 20; n++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.25; done
  kill -KILL "$1" 2>/dev/null || true
}

# Debian package installs, never starting a service (no systemd here; a sysvinit script
# started by a postinst would listen on 0.0.0.0).
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_OURS=0
cleanup() { if [ "$POLICY_RC_OURS" = 1 ]; then rm -f "$POLICY_RC"; fi; }
trap cleanup EXIT

apt_install() {
  is_root || die "packages missing: $*. Install them (sudo apt-get install $*) or run this script as root."
  command -v apt-get >/dev/null || die "packages missing: $* and no apt-get here: install them by hand."
  local p need_update=0
  for p in "$@"; do
    [[ "$(apt-cache policy "$p" 2>/dev/null || true)" =~ Candidate:\ [^\(] ]] || need_update=1
  done
  if [ ! -e "$POLICY_RC" ]; then
    printf '#!/bin/sh\n# written by cloudai scripts/ensure-docker.sh for the length of an install\nexit 101\n' >"$POLICY_RC"
    chmod 755 "$POLICY_RC"
    POLICY_RC_OURS=1
  fi
  local apt=(apt-get -q -y -o DPkg::Lock::Timeout=120)
  if [ "$need_update" = 1 ]; then
    log "apt-get update (no candidate for some of: $*)"
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >/dev/null
  fi
  log "installing Debian packages: $*"
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "$@" >"$STATE/apt.log" 2>&1; then
    log "install failed; apt-get update and one more try"
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >/dev/null
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "$@" >"$STATE/apt.log" 2>&1 \
      || { tail -n 20 "$STATE/apt.log" >&2; die "could not install $* (log: $STATE/apt.log)"; }
  fi
  if [ "$POLICY_RC_OURS" = 1 ]; then rm -f "$POLICY_RC"; POLICY_RC_OURS=0; fi
}

# ---------------------------------------------------------------- engine

# engine_answers: true when the docker client reaches an engine. A client newer than the
# engine negotiates the API version down by itself; where one does not (an error naming the
# supported version), DOCKER_API_VERSION is pinned and written to $STATE/docker.env.
engine_answers() {
  local out v
  out="$(timeout 20 docker version --format '{{.Server.APIVersion}}' 2>&1)" && return 0
  v="$(printf '%s' "$out" | sed -n 's/.*\(Maximum\|Minimum\) supported API version is \([0-9][0-9.]*\).*/\2/p' | head -n 1 || true)"
  if [ -n "$v" ] && [ "${DOCKER_API_VERSION:-}" != "$v" ]; then
    export DOCKER_API_VERSION="$v"
    printf 'DOCKER_API_VERSION=%s\n' "$v" >"$STATE/docker.env"
    log "client and engine API differ: using DOCKER_API_VERSION=$v (export it too; see $STATE/docker.env)"
    timeout 20 docker version >/dev/null 2>&1 && return 0
  fi
  return 1
}

iptables_usable() {
  command -v iptables >/dev/null &&
    timeout 10 iptables -w 5 -t filter -S >/dev/null 2>&1 &&
    timeout 10 iptables -w 5 -t nat -S >/dev/null 2>&1
}

# Flags per network mode. All: no masquerading and no forwarding, so no container packet is
# routed off the machine; published ports default to 127.0.0.1.
mode_flags() {
  case "$1" in
    bridge)            echo "--ip-masq=false --ip-forward=false --ip=127.0.0.1" ;;
    bridge-noiptables) echo "--iptables=false --ip-masq=false --ip-forward=false --ip=127.0.0.1" ;;
    none)              echo "--iptables=false --ip-masq=false --ip-forward=false --bridge=none" ;;
  esac
}

# The engine does not forward, but if something else turns ip_forward on, nothing routed out
# of a Docker bridge may leave either.
EGRESS_RULES=("-i docker0 ! -o docker0 -j DROP" "-i br-+ ! -o br-+ -j DROP")
guard_egress() {
  local r
  : >"$STATE/iptables-rules"
  for r in "${EGRESS_RULES[@]}"; do
    # shellcheck disable=SC2086
    iptables -w 5 -C DOCKER-USER $r 2>/dev/null || iptables -w 5 -I DOCKER-USER $r ||
      die "could not add the iptables rule 'DOCKER-USER $r'; dockerd is running: scripts/stop-docker.sh stops it"
    printf '%s\n' "$r" >>"$STATE/iptables-rules"
  done
  log "iptables: DOCKER-USER drops anything routed out of docker0/br-* (recorded in $STATE/iptables-rules)"
}

# start_dockerd MODE STORAGE: starts dockerd in the background and waits for it. Returns 1 if
# dockerd exited (so the caller can try the next mode); dies if it hangs without answering.
start_dockerd() {
  local mode=$1 storage=$2 flags pid deadline t0=$SECONDS
  flags="$(mode_flags "$mode")"
  [ "$storage" = auto ] || flags="$flags --storage-driver=$storage"
  [ -f "$STATE/dockerd.log" ] && mv -f "$STATE/dockerd.log" "$STATE/dockerd.log.1"
  log "starting dockerd (network mode: $mode, storage: $storage): dockerd $flags"
  # setsid: a Ctrl-C in the caller's terminal must not reach the daemon. fd 9 is our lock.
  # shellcheck disable=SC2086
  setsid dockerd $flags </dev/null >"$STATE/dockerd.log" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$STATE/dockerd.pid"
  deadline=$((SECONDS + ENGINE_WAIT))
  while ! engine_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$STATE/dockerd.pid"
      log "dockerd exited in mode $mode/$storage:"
      grep -E 'level=(error|fatal)|failed to start' "$STATE/dockerd.log" | tail -n 3 | sed 's/^/ensure-docker:   /' || true
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 40 "$STATE/dockerd.log" >&2
      die "dockerd (pid $pid) did not answer within ${ENGINE_WAIT}s; log: $STATE/dockerd.log. It is still running: scripts/stop-docker.sh stops it."
    fi
    sleep 0.5
  done
  printf '%s\n' "$mode" >"$STATE/dockerd.mode"
  log "dockerd is up (pid $pid) in $((SECONDS - t0))s"
  return 0
}

ensure_engine() {
  local pid p
  if engine_answers; then
    if pid="$(pid_of "$STATE/dockerd.pid" dockerd)"; then
      log "engine answers (dockerd pid $pid, started by this script, mode $(cat "$STATE/dockerd.mode" 2>/dev/null || echo '?'))"
    else
      rm -f "$STATE/dockerd.pid"
      log "engine answers (not started by this script; left as it is)"
    fi
    return 0
  fi
  [ -z "${DOCKER_HOST:-}" ] || die "DOCKER_HOST=$DOCKER_HOST does not answer. Start that engine, or unset DOCKER_HOST so that this script starts a local one."

  # A dockerd of ours that is alive but silent: give it the same bounded time, then stop.
  if pid="$(pid_of "$STATE/dockerd.pid" dockerd)"; then
    log "dockerd (pid $pid) is running but not answering yet; waiting up to ${ENGINE_WAIT}s"
    local deadline=$((SECONDS + ENGINE_WAIT))
    while ! engine_answers; do
      [ "$SECONDS" -lt "$deadline" ] || die "dockerd (pid $pid) does not answer; log: $STATE/dockerd.log. Run scripts/stop-docker.sh, then this script again."
      sleep 1
    done
    return 0
  fi
  rm -f "$STATE/dockerd.pid"
  # Another dockerd (not ours) alive but silent: do not start a second one on its socket.
  if p="$(pid_of /var/run/docker.pid dockerd)"; then
    die "a dockerd (pid $p) not started by this script is running but does not answer. Fix or stop it, then run this script again."
  fi

  if ! command -v dockerd >/dev/null; then
    is_root || die "no Docker engine answers and dockerd is not installed. Install Docker (Debian: apt-get install docker.io) and start it, or run this script as root."
    apt_install docker.io
  fi
  command -v docker >/dev/null || apt_install docker.io
  is_root || die "no Docker engine answers and only root can start dockerd here. Start it (sudo dockerd &), or run this script as root."

  local attempts=() a
  if iptables_usable; then attempts+=("bridge auto"); else log "iptables is not usable here: the bridge runs without it"; fi
  attempts+=("bridge-noiptables auto" "none auto" "none vfs")
  for a in "${attempts[@]}"; do
    # shellcheck disable=SC2086
    if start_dockerd $a; then
      [ "${a%% *}" = bridge ] && guard_egress
      return 0
    fi
  done
  tail -n 40 "$STATE/dockerd.log" >&2
  die "dockerd would not start in any mode (tried: ${attempts[*]}); log above and in $STATE/dockerd.log"
}

# ---------------------------------------------------------------- registry

registry_answers() {
  curl -fsS --noproxy '*' -m 3 -o /dev/null "http://$REGISTRY_ADDR/v2/" 2>/dev/null
}

# Anything on port 5000 not bound to 127.0.0.1: the Debian package's own service (its config
# says :5000, all interfaces) is stopped; anything else is an error.
check_port_5000() {
  local line pid cmd
  command -v ss >/dev/null || return 0
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    case "$(printf '%s' "$line" | awk '{print $4}')" in 127.0.0.1:5000) continue ;; esac
    pid="$(printf '%s' "$line" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1 || true)"
    cmd="$( [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = docker-registry ] &&
      [[ "$cmd" == *" /etc/docker/registry/config.yml"* ]]; then
      log "stopping the packaged docker-registry service (pid $pid: $cmd) that listens beyond loopback"
      terminate "$pid"
    else
      die "port 5000 is taken by something else: $line ${cmd:+($cmd)}. Stop it, then run this script again."
    fi
  done < <(ss -Hltnp 'sport = :5000' 2>/dev/null || true)
}

write_registry_config() {
  local dir="$STATE/registry" tmp
  mkdir -p "$dir/data"
  tmp="$(mktemp "$dir/config.yml.XXXXXX")"
  cat >"$tmp" <<EOF
# written by cloudai scripts/ensure-docker.sh: a test registry, loopback only, no auth
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
EOF
  mv -f "$tmp" "$dir/config.yml"
}

ensure_registry() {
  local pid deadline
  check_port_5000
  if registry_answers; then
    if pid="$(pid_of "$STATE/registry.pid" docker-registry)"; then
      log "registry answers on $REGISTRY_ADDR (pid $pid, started by this script)"
    else
      rm -f "$STATE/registry.pid"
      log "registry answers on $REGISTRY_ADDR (not started by this script; left as it is)"
    fi
    return 0
  fi
  if pid="$(pid_of "$STATE/registry.pid" docker-registry)"; then
    log "registry (pid $pid) is running but silent: restarting it"
    terminate "$pid"
  fi
  rm -f "$STATE/registry.pid"
  command -v docker-registry >/dev/null || apt_install docker-registry
  check_port_5000   # in case the package's scripts started its service after all
  write_registry_config
  [ -f "$STATE/registry.log" ] && mv -f "$STATE/registry.log" "$STATE/registry.log.1"
  log "starting docker-registry on $REGISTRY_ADDR (config $STATE/registry/config.yml, storage $STATE/registry/data)"
  setsid docker-registry serve "$STATE/registry/config.yml" </dev/null >"$STATE/registry.log" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$STATE/registry.pid"
  deadline=$((SECONDS + REGISTRY_WAIT))
  while ! registry_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$STATE/registry.pid"
      tail -n 20 "$STATE/registry.log" >&2
      die "docker-registry exited; log: $STATE/registry.log"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$STATE/registry.log" >&2
      die "docker-registry (pid $pid) did not answer on $REGISTRY_ADDR within ${REGISTRY_WAIT}s; log: $STATE/registry.log. scripts/stop-docker.sh stops it."
    fi
    sleep 0.25
  done
  log "registry is up (pid $pid)"
}

# ---------------------------------------------------------------- main

main() {
  local t0=$SECONDS
  mkdir -p "$STATE" 2>/dev/null && [ -w "$STATE" ] ||
    die "cannot write the state directory $STATE: run as root or set CLOUDAI_DOCKER_STATE to a writable directory"
  # One run at a time (tests started in parallel may all call this script).
  exec 9>"$STATE/lock"
  flock -w 300 9 || die "another ensure-docker.sh holds $STATE/lock for over 300s"
  [ -s "$STATE/docker.env" ] && { set -a; . "$STATE/docker.env"; set +a; }

  command -v curl >/dev/null || apt_install curl
  ensure_engine
  ensure_registry
  bash "$HERE/build-test-images.sh"

  local info
  info="$(timeout 20 docker info --format 'engine {{.ServerVersion}}, storage {{.Driver}}, cgroup v{{.CgroupVersion}} ({{.CgroupDriver}})' 2>/dev/null || echo 'engine ?')"
  log "ready in $((SECONDS - t0))s: $info, network mode $(cat "$STATE/dockerd.mode" 2>/dev/null || echo 'not ours'), registry http://$REGISTRY_ADDR, state $STATE"
}

main "$@"
