#!/usr/bin/env bash
# A LAN in a box (docs/architecture.md, "Tests"): one bridge and N hosts, each its own network
# namespace, joined by veth pairs. Addresses 10.77.0.<i>/24 exist only inside these
# namespaces; nothing is routed anywhere (no default route, no NAT, no forwarding), and the
# bridge namespace has no address at all.
#
#   lan.sh up N                 creates the bridge and hosts 1..N; prints CLOUDAI_LAN_ID=<id>
#   lan.sh down                 removes every namespace (and so every veth) and kills every
#                               process inside them; idempotent
#   lan.sh exec <i> <cmd…>      runs a command inside host i (replaces this shell: same pid)
#   lan.sh cut <i>              host i's link down at the bridge (the host sees no carrier)
#   lan.sh restore <i>          link of host i up again
#   lan.sh ns <i>|br            prints a namespace's name
#
# Every name carries a per-run id, $CLOUDAI_LAN_ID (default: 4 random hex digits, printed by
# `up`), so parallel or leftover runs never collide: namespaces are cloudai-lan-<id>-br and
# cloudai-lan-<id>-h<i>. What was created is recorded under $CLOUDAI_LAN_STATE/<id>
# (default /tmp/cloudai-lan) and `down` removes exactly that.
#
# Works inside `unshare -n` (as scripts/test.sh runs the tests): `ip netns add` makes NEW
# namespaces and bind-mounts them under /run/netns, which the unshared mount table shares.
set -euo pipefail

STATE_ROOT=${CLOUDAI_LAN_STATE:-/tmp/cloudai-lan}
SUBNET_PREFIX=10.77.0

die () { echo "lan.sh: $*" >&2; exit 1; }

need_id () {
  [ -n "${CLOUDAI_LAN_ID:-}" ] || die "set CLOUDAI_LAN_ID (printed by 'lan.sh up')"
  [[ "$CLOUDAI_LAN_ID" =~ ^[a-z0-9]{1,8}$ ]] || die "CLOUDAI_LAN_ID must be 1-8 lowercase letters/digits"
  ID=$CLOUDAI_LAN_ID
  STATE="$STATE_ROOT/$ID"
  BR="cloudai-lan-$ID-br"
}

host_ns () {
  [[ "$1" =~ ^[0-9]+$ ]] || die "host must be a number, got '$1'"
  [ -f "$STATE/hosts" ] || die "no LAN with id $ID (no $STATE/hosts)"
  local n; n=$(cat "$STATE/hosts")
  [ "$1" -ge 1 ] && [ "$1" -le "$n" ] || die "host $1 is not in 1..$n"
  echo "cloudai-lan-$ID-h$1"
}

ns_exists () { [ -e "/run/netns/$1" ]; }

# Kill every process inside a namespace, bounded: SIGKILL, then wait up to 5 s for them to go.
kill_ns_procs () {
  local ns=$1 pids i
  ns_exists "$ns" || return 0
  for i in $(seq 1 50); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -z "$pids" ] && return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
  echo "lan.sh: processes still in $ns after 5 s: $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')" >&2
}

cmd_down () {
  need_id
  [ -d "$STATE" ] || return 0
  local ns
  if [ -f "$STATE/namespaces" ]; then
    # hosts first (their processes), then the bridge
    while read -r ns; do kill_ns_procs "$ns"; done < <(tac "$STATE/namespaces")
    while read -r ns; do
      if ns_exists "$ns"; then ip netns del "$ns" 2>/dev/null || echo "lan.sh: could not delete $ns" >&2; fi
    done < <(tac "$STATE/namespaces")
  fi
  # Deleting a namespace destroys the veth ends inside it. Any end still left (an `up`
  # interrupted between creating a pair and moving it) lives in the namespace that ran `up`.
  if [ -f "$STATE/veths" ]; then
    while read -r v; do ip link del "$v" 2>/dev/null || true; done < "$STATE/veths"
  fi
  local left=""
  if [ -f "$STATE/namespaces" ]; then
    while read -r ns; do ns_exists "$ns" && left="$left $ns"; done < "$STATE/namespaces"
  fi
  [ -z "$left" ] || die "namespaces left behind:$left"
  rm -rf "$STATE"
}

cmd_up () {
  local n=${1:-}
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 200 ] || die "usage: lan.sh up N (1..200)"
  [ "$(id -u)" -eq 0 ] || die "needs root to create network namespaces"
  if [ -z "${CLOUDAI_LAN_ID:-}" ]; then CLOUDAI_LAN_ID=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n'); fi
  need_id
  [ ! -e "$STATE" ] || die "a LAN with id $ID already exists ($STATE); run 'CLOUDAI_LAN_ID=$ID lan.sh down' first"
  mkdir -p "$STATE"
  echo "$n" > "$STATE/hosts"
  : > "$STATE/namespaces"
  : > "$STATE/veths"
  # Anything failing half-way: undo what was made.
  trap 'rc=$?; if [ $rc -ne 0 ]; then echo "lan.sh: up failed, tearing down" >&2; cmd_down || true; fi' EXIT
  trap 'exit 130' INT TERM

  echo "$BR" >> "$STATE/namespaces"
  ip netns add "$BR"
  ip -n "$BR" link set lo up
  ip -n "$BR" link add br0 type bridge
  # Flood multicast regardless of IGMP state (mDNS is link-local anyway).
  ip -n "$BR" link set br0 type bridge mcast_snooping 0 2>/dev/null || true
  ip -n "$BR" link set br0 up
  # No forwarding out of the bridge namespace (it has no other interfaces, but be explicit).
  ip netns exec "$BR" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 2>/dev/null || true

  local i ns hv
  for i in $(seq 1 "$n"); do
    ns="cloudai-lan-$ID-h$i"
    hv="l${ID}h$i"          # bridge-side end, at most 15 characters
    echo "$ns" >> "$STATE/namespaces"
    ip netns add "$ns"
    echo "$hv" >> "$STATE/veths"
    # Created inside the bridge namespace, the peer moved straight into the host as eth0:
    # neither end ever exists in the namespace that runs this script.
    ip -n "$BR" link add "$hv" type veth peer name eth0 netns "$ns"
    ip -n "$BR" link set "$hv" master br0
    ip -n "$BR" link set "$hv" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$SUBNET_PREFIX.$i/24" dev eth0
    ip -n "$ns" link set eth0 multicast on
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add 224.0.0.0/4 dev eth0
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0 2>/dev/null || true
  done

  # Bounded wait for every host's link to be up (veth carrier comes with both ends up).
  local deadline=$((SECONDS + 10)) ok
  while :; do
    ok=1
    for i in $(seq 1 "$n"); do
      ip -n "cloudai-lan-$ID-h$i" -o link show eth0 | grep -q 'state UP' || ok=0
    done
    [ $ok -eq 1 ] && break
    [ $SECONDS -lt $deadline ] || die "links did not come up within 10 s"
    sleep 0.1
  done
  trap - EXIT INT TERM
  echo "CLOUDAI_LAN_ID=$ID"
}

cmd_link () {
  need_id
  local ns state=$2; ns=$(host_ns "$1")
  # Only the bridge-side end changes, like a cable pulled at the switch: the host keeps its
  # interface, address and routes and sees the carrier go (NO-CARRIER), then come back.
  ip -n "$BR" link set "l${ID}h$1" "$state"
  if [ "$state" = up ]; then
    # Should eth0 have lost the hand-added multicast route anyway, put it back.
    ip -n "$ns" route replace 224.0.0.0/4 dev eth0
  fi
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  exec)
    shift; [ $# -ge 2 ] || die "usage: lan.sh exec <host> <cmd…>"
    need_id; ns=$(host_ns "$1"); shift
    exec ip netns exec "$ns" "$@" ;;
  cut) [ $# -eq 2 ] || die "usage: lan.sh cut <host>"; cmd_link "$2" down ;;
  restore) [ $# -eq 2 ] || die "usage: lan.sh restore <host>"; cmd_link "$2" up ;;
  ns)
    need_id
    if [ "${2:-}" = br ]; then echo "$BR"; else host_ns "${2:-}"; fi ;;
  *) die "usage: lan.sh up N | down | exec <host> <cmd…> | cut <host> | restore <host> | ns <host|br>" ;;
esac
