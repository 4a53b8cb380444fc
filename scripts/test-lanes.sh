#!/usr/bin/env bash
# Runs the test files given as arguments (dist/test/**/*.test.js) with node:test, called by
# scripts/test.sh once the network namespace is set up. Each node:test process runs one file
# at a time (the sim and lan layers start many nodes and are sensitive to a 2-core machine's
# load); the files go in two phases:
#   1. two lanes at once: sim/heavy (tests that keep a core busy: hundreds of tasks, twenty
#      nodes, many encrypted connections) in one, everything else that runs no container
#      (unit, the rest of sim, cli) in the other, which mostly waits or takes little. Both at
#      the same priority: niced, the second lane starved on a machine shared with other work;
#   2. the docker and lan layers, alone, one file at a time: they share the engine and time
#      real processes.
# The first lane prints as it goes; the second's output follows once both have ended. With
# CLOUDAI_TEST_ONE_LANE=1 the first phase runs its files one at a time instead (slower; for a
# machine too busy with other work to give the busy lane a core of its own).
# test-preload.mjs keeps node:test's own async hook from tracking promises, which more than
# doubles the cost of the sim layer's promise-heavy nodes (see the file).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

heavy=()
light=()
engine=()
for file in "$@"; do
  case "$file" in
    */sim/heavy/*) heavy+=("$file") ;;
    */docker/*|*/lan/*) engine+=("$file") ;;
    *) light+=("$file") ;;
  esac
done

node_test=(node --test --test-concurrency=1 --test-timeout=300000 --import ./scripts/test-preload.mjs)

status=0
if [ ${#heavy[@]} -gt 0 ] && [ ${#light[@]} -gt 0 ] && [ "${CLOUDAI_TEST_ONE_LANE:-}" != 1 ]; then
  log="$(mktemp)"
  echo "test: ${#heavy[@]} busy sim files here, ${#light[@]} other files beside them (their output follows)"
  "${node_test[@]}" "${light[@]}" > "$log" 2>&1 &
  light_pid=$!
  "${node_test[@]}" "${heavy[@]}" || status=1
  wait "$light_pid" || status=1
  echo "test: the ${#light[@]} files that ran beside them:"
  cat "$log"
  rm -f "$log"
else
  # One lane: it prints as it goes.
  if [ ${#heavy[@]} -gt 0 ]; then "${node_test[@]}" "${heavy[@]}" || status=1; fi
  if [ ${#light[@]} -gt 0 ]; then "${node_test[@]}" "${light[@]}" || status=1; fi
fi

if [ ${#engine[@]} -gt 0 ]; then "${node_test[@]}" "${engine[@]}" || status=1; fi
exit "$status"
