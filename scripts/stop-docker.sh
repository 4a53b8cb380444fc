#!/usr/bin/env bash
# Stops what scripts/ensure-docker.sh started, and nothing else: the processes whose pids it
# recorded under $CLOUDAI_DOCKER_STATE (default /var/lib/cloudai-dev), each only if that pid is
# still the program it was (SIGTERM, a bounded wait, then SIGKILL), and the iptables rules it
# added. An engine or registry that was already running before is left alone. Safe to call when
# nothing was started, and more than once (.ci/run calls it from an EXIT trap).
set -uo pipefail

STATE="${CLOUDAI_DOCKER_STATE:-/var/lib/cloudai-dev}"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

log() { printf 'stop-docker: %s\n' "$*"; }

# pid_of PIDFILE COMM: the recorded pid if that process is alive and is COMM.
pid_of() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(tr -dc '0-9' <"$1")"
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
  printf '%s\n' "$pid"
}

# stop_pid PID NAME SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL and wait up to 5 s.
stop_pid() {
  local pid=$1 name=$2 wait=$3 i
  if ! kill -TERM "$pid" 2>/dev/null; then
    kill -0 "$pid" 2>/dev/null || return 0
    log "WARNING: cannot signal $name (pid $pid): not allowed (run as the user who started it)"
    return 1
  fi
  for ((i = 0; i < wait * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || { log "$name (pid $pid) stopped"; return 0; }
    sleep 0.25
  done
  log "$name (pid $pid) still running after ${wait}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  log "WARNING: $name (pid $pid) survived SIGKILL"
  return 1
}

# stop_recorded NAME COMM SECONDS: stops the process recorded in $STATE/NAME.pid.
stop_recorded() {
  local name=$1 comm=$2 wait=$3 pid
  if pid="$(pid_of "$STATE/$name.pid" "$comm")"; then
    log "stopping $name (pid $pid)"
    stop_pid "$pid" "$name" "$wait"
  elif [ -e "$STATE/$name.pid" ]; then
    log "$name: recorded pid is not running any more"
  fi
  rm -f "$STATE/$name.pid"
}

main() {
  if [ ! -d "$STATE" ]; then
    log "nothing to stop ($STATE does not exist)"
    return 0
  fi
  { exec 9>>"$STATE/lock"; } 2>/dev/null && flock -w 60 9 2>/dev/null ||
    log "could not take $STATE/lock within 60s; stopping anyway"

  stop_recorded registry docker-registry 10

  # dockerd stops its containers (up to its 15 s shutdown timeout) and its own containerd;
  # a containerd left behind by a dockerd that had to be killed goes too.
  local pid children=""
  if pid="$(pid_of "$STATE/dockerd.pid" dockerd)"; then
    children="$(pgrep -P "$pid" -x containerd 2>/dev/null | tr '\n' ' ')"
  fi
  stop_recorded dockerd dockerd 30
  for pid in $children; do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = containerd ] || continue
    log "stopping containerd (pid $pid) left by dockerd"
    stop_pid "$pid" containerd 10
  done

  if [ -s "$STATE/iptables-rules" ] && command -v iptables >/dev/null; then
    local rule n
    while IFS= read -r rule; do
      [ -n "$rule" ] || continue
      # shellcheck disable=SC2086
      for ((n = 0; n < 10; n++)); do iptables -w 5 -D DOCKER-USER $rule 2>/dev/null || break; done
    done <"$STATE/iptables-rules"
    log "removed the DOCKER-USER rules this setup added"
  fi
  rm -f "$STATE/iptables-rules" "$STATE/dockerd.mode"
  log "done"
}

main "$@"
