#!/usr/bin/env bash
# Runs the test files given as arguments (dist/test/**/*.test.js) with node:test, called by
# scripts/test.sh once the network namespace is set up. Each node:test process runs one file
# at a time (the sim and lan layers start many nodes and are sensitive to a 2-core machine's
# load); the files go in two phases:
#   1. two lanes at once: sim/heavy (tests that keep a core busy: hundreds of tasks, twenty
#      nodes, many encrypted connections) and the busiest unit files in one, everything else that runs no container
#      (unit, the rest of sim, cli) in the other, which mostly waits or takes little. Both at
#      the same priority: niced, the second lane starved on a machine shared with other work;
#   2. the layers with real processes and the engine, again in two lanes: docker in one, lan,
#      browser and the longest docker files in the other. Each file mostly waits (for containers, for daemons to
#      notice a kill, for deadlines), so two at once share the machine well; files in one lane
#      still run one at a time, and every container, image and daemon a test makes is its own
#      (labels per node, per-test data dirs), so the lanes do not see each other's work.
# In each phase the first lane prints as it goes; the second's output follows once both have
# ended. With CLOUDAI_TEST_ONE_LANE=1 every file runs one at a time instead (slower; for a
# machine too busy with other work to give each lane a core).
# test-preload.mjs keeps node:test's own async hook from tracking promises, which more than
# doubles the cost of the sim layer's promise-heavy nodes (see the file).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

heavy=()
light=()
docker=()
hosts=()
for file in "$@"; do
  case "$file" in
    */sim/heavy/*) heavy+=("$file") ;;
    # Unit files that keep a core busy (fuzzed protocols, a flooding worker) balance the lanes.
    */unit/fuzz-protocols.*|*/unit/master-output-limit.*) heavy+=("$file") ;;
    # The longest docker files, which mostly wait (protocol deadlines, killed daemons, a second
    # engine starting), go beside the lan layer so that both lanes take about as long.
    */docker/floods.*|*/docker/durable.*|*/docker/image-transfer.*) hosts+=("$file") ;;
    */docker/*) docker+=("$file") ;;
    */lan/*|*/browser/*) hosts+=("$file") ;;
    *) light+=("$file") ;;
  esac
done

node_test=(node --test --test-concurrency=1 --test-timeout=300000 --import ./scripts/test-preload.mjs)

status=0

# run_lanes NAME_A NAME_B: the files in arrays NAME_A and NAME_B, as two lanes at once (one
# after the other with CLOUDAI_TEST_ONE_LANE=1, or when either is empty).
run_lanes() {
  local -n first="$1" second="$2"
  if [ ${#first[@]} -gt 0 ] && [ ${#second[@]} -gt 0 ] && [ "${CLOUDAI_TEST_ONE_LANE:-}" != 1 ]; then
    local log second_pid
    log="$(mktemp)"
    echo "test: ${#first[@]} files here, ${#second[@]} files beside them (their output follows)"
    "${node_test[@]}" "${second[@]}" > "$log" 2>&1 &
    second_pid=$!
    "${node_test[@]}" "${first[@]}" || status=1
    wait "$second_pid" || status=1
    echo "test: the ${#second[@]} files that ran beside them:"
    cat "$log"
    rm -f "$log"
  else
    if [ ${#first[@]} -gt 0 ]; then "${node_test[@]}" "${first[@]}" || status=1; fi
    if [ ${#second[@]} -gt 0 ]; then "${node_test[@]}" "${second[@]}" || status=1; fi
  fi
}

run_lanes heavy light
run_lanes docker hosts
exit "$status"
