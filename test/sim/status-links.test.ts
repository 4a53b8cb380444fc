/**
 * Status links between real nodes (docs/architecture.md, "Discovery and membership"): with
 * the refresh an hour away, a member's changes still reach the others as they happen, and a
 * member that stops is seen as unreachable when its connection closes.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CloudaiNode } from '../../node/src/node.ts'
import { isTerminal } from '../../node/src/protocol/task-messages.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'
import { fullyConnected, makeClusterKey, simNode, simTaskRequest, taskEvents } from '../helpers/sim.ts'

/** No refresh probe runs during this file: what the members learn, they learn by their links. */
const REFRESH_MS = 3_600_000
const BOUND_MS = 20_000

let dir: { path: string, remove: () => Promise<void> }
let nodes: CloudaiNode[] = []

before(async () => {
  requireTestNamespace()
  dir = await tempDir()
  const key = await makeClusterKey(dir.path)
  const tag = mdnsTag()
  for (let i = 0; i < 3; i++) nodes.push(await simNode(dir.path, `link-${i}`, key, { mdnsTag: tag, mdnsIntervalMs: 2_000, refreshIntervalMs: REFRESH_MS }))
  await Promise.all(nodes.map(async node => node.start()))
  assert.ok(await waitFor(() => fullyConnected(nodes), BOUND_MS), 'the three nodes list each other')
})

after(async () => {
  await Promise.all(nodes.map(async node => node.stop()))
  await dir?.remove()
})

function runningOn (observer: CloudaiNode, target: CloudaiNode): number | undefined {
  return observer.peers().find(peer => peer.peerId === target.peerId.toString())?.running
}

test('a member\'s status changes reach the others without any refresh: a task starts and ends on it', async () => {
  const [master, worker, observer] = nodes
  assert.equal(runningOn(observer, worker), 0)
  const submitted = await master.tasks.submit(worker.name, simTaskRequest(['sleep:2000', 'exit:0']))
  assert.ok(await waitFor(() => runningOn(observer, worker) === 1 && runningOn(master, worker) === 1, BOUND_MS, 20),
    `the observer sees ${runningOn(observer, worker)} and the master ${runningOn(master, worker)} tasks running on the worker`)
  const events = await taskEvents(master, submitted.taskId, BOUND_MS)
  assert.ok(isTerminal(events.at(-1)!.state))
  assert.ok(await waitFor(() => runningOn(observer, worker) === 0, BOUND_MS, 20), 'the observer sees the task end')
})

test('a member that stops is unreachable to the others once its connection closes, with no probe', async () => {
  const [first, second, leaving] = nodes
  await leaving.stop()
  const gone = (node: CloudaiNode): boolean => node.peers().find(peer => peer.peerId === leaving.peerId.toString())?.reachable === false
  assert.ok(await waitFor(() => gone(first) && gone(second), BOUND_MS, 20), 'the others still list the stopped node as reachable')
  nodes = nodes.filter(node => node !== leaving)
})
