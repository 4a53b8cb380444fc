#!/usr/bin/env bash
# Runs the image build.sh made, here with `docker run --rm`, and checks its report, before any
# worker gets it. Each run has cloudai's defaults (1 CPU, 512m memory, no network).
#
#   bash sample-tasks/task1/test_local.sh
#
# Checks: POINTS=$POINTS (default 120) gives exit 0 and a last line of JSON with that count and
# consistent figures; the same SEED gives the same output; without POINTS the count is from
# 50 to 150; POINTS=abc is refused with exit 2 and a message.
#
# Environment: REGISTRY as for build.sh (the image is $REGISTRY/cloudai-sample-task:1), POINTS.
set -euo pipefail

REGISTRY="${REGISTRY:-127.0.0.1:5000}"
REGISTRY="${REGISTRY%/}"
IMAGE="$REGISTRY/cloudai-sample-task:1"
POINTS="${POINTS:-120}"
RUN=(docker run --rm --network none --cpus 1 --memory 512m --memory-swap 512m --pids-limit 256)

FAILED=0
ERR=""
pass() { printf 'test_local: ok    %s\n' "$*"; }
fail() { printf 'test_local: FAIL  %s\n' "$*" >&2; FAILED=1; }
die() { printf 'test_local: ERROR: %s\n' "$*" >&2; exit 1; }

# check_json COUNT: reads the task's last line on stdin; checks it with the image's own python3,
# so this script needs nothing on the host but docker.
CHECK="$(cat <<'EOF'
import json, sys
want = int(sys.argv[1])
r = json.loads(sys.stdin.read())
problems = []
if r.get('count') != want:
    problems.append(f"count is {r.get('count')!r}, expected {want}")
for key in ('mean', 'median', 'stdev', 'min', 'max'):
    if not isinstance(r.get(key), (int, float)):
        problems.append(f'{key} is missing or not a number')
if not problems:
    if not (r['min'] <= r['median'] <= r['max'] and r['min'] <= r['mean'] <= r['max']):
        problems.append('mean or median outside min..max')
    if r['stdev'] < 0:
        problems.append('negative stdev')
    if sum(r.get('histogram', {}).get('counts', [])) != want:
        problems.append('histogram counts do not add up to count')
print('; '.join(problems) or ' '.join(f'{k}={r[k]}' for k in ('count', 'mean', 'median', 'stdev', 'min', 'max')))
sys.exit(1 if problems else 0)
EOF
)"
check_json() {
  "${RUN[@]}" -i "$IMAGE" python3 -c "$CHECK" "$1"
}

main() {
  command -v docker >/dev/null || die "no docker client"
  docker image inspect "$IMAGE" >/dev/null 2>&1 || die "$IMAGE is not in the engine: run build.sh first (with the same REGISTRY)"
  printf 'test_local: testing %s\n' "$IMAGE"

  local out code last summary
  ERR="$(mktemp)"
  trap 'rm -f "$ERR"' EXIT

  # 1. A fixed count and seed: exit 0, a report, and a last line of JSON with that count.
  code=0
  out="$("${RUN[@]}" -e "POINTS=$POINTS" -e SEED=42 "$IMAGE" 2>"$ERR")" || code=$?
  if [ "$code" -ne 0 ]; then
    fail "POINTS=$POINTS: exit code $code (expected 0): $(cat "$ERR")"
  else
    last="$(printf '%s\n' "$out" | tail -n 1)"
    if summary="$(printf '%s' "$last" | check_json "$POINTS" 2>&1)"; then
      pass "POINTS=$POINTS: exit 0, last line is JSON: $summary"
    else
      fail "POINTS=$POINTS: last line: $last ($summary)"
    fi
    if grep -q "^data points : $POINTS$" <<<"$out"; then
      pass "the report says $POINTS data points"
    else
      fail "no 'data points : $POINTS' line in the report:"$'\n'"$out"
    fi
  fi

  # 2. The same seed, the same output.
  local again
  again="$("${RUN[@]}" -e "POINTS=$POINTS" -e SEED=42 "$IMAGE" 2>/dev/null)" || true
  if [ -n "$out" ] && [ "$again" = "$out" ]; then
    pass "SEED=42 twice: identical output"
  else
    fail "SEED=42 twice: the outputs differ"
  fi

  # 3. No POINTS: a count from 50 to 150.
  code=0
  out="$("${RUN[@]}" "$IMAGE" 2>"$ERR")" || code=$?
  local count
  count="$(printf '%s\n' "$out" | sed -n 's/^data points : \([0-9]*\)$/\1/p')"
  if [ "$code" -eq 0 ] && [ -n "$count" ] && [ "$count" -ge 50 ] && [ "$count" -le 150 ] &&
    printf '%s\n' "$out" | tail -n 1 | check_json "$count" >/dev/null 2>&1; then
    pass "no POINTS: exit 0, $count points (50 to 150)"
  else
    fail "no POINTS: exit $code, count '${count}': $(cat "$ERR")"
  fi

  # 4. A bad POINTS: exit 2 and a message naming it.
  code=0
  "${RUN[@]}" -e POINTS=abc "$IMAGE" >/dev/null 2>"$ERR" || code=$?
  if [ "$code" -eq 2 ] && grep -q 'POINTS must be a whole number' "$ERR"; then
    pass "POINTS=abc: exit 2, \"$(head -n 1 "$ERR" | cut -c1-60)…\""
  else
    fail "POINTS=abc: exit $code (expected 2): $(cat "$ERR")"
  fi

  if [ "$FAILED" -ne 0 ]; then
    printf 'test_local: FAILED\n' >&2
    exit 1
  fi
  printf 'test_local: all checks passed. Once pushed (build.sh does), run it on a peer: cloudai task <peer> %s --env POINTS=%s\n' "$IMAGE" "$POINTS"
}

main "$@"
