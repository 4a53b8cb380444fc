import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createSimulatedExecutor, type SimulatedExecutor } from '../../node/src/executor/simulated.ts'
import type { TaskRequest } from '../../node/src/master/master.ts'
import type { CloudaiNode } from '../../node/src/node.ts'
import { LogStream, TaskState, isTerminal, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import { TaskStreams } from '../../node/src/protocol/task-streams.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'
import { fullyConnected, makeClusterKey, simNode, simTaskRequest, taskEvents } from '../helpers/sim.ts'
import { workerOf } from '../helpers/internals.ts'

const NODES = 5
/** Generous: the mesh converges in about a second here, but CI machines are loaded. */
const CONVERGENCE_BOUND_MS = 20_000
/** All tasks of one test together, start to finish. */
const TASKS_BOUND_MS = 20_000
/** Peers refresh each other's status this often, so `running` counts are seen to fall back quickly. */
const REFRESH_MS = 300
/** Each task runs this long: several status refreshes, so peers see it running. */
const TASK_MS = 1_500

let dir: { path: string, remove: () => Promise<void> }
const nodes: CloudaiNode[] = []
const executors: SimulatedExecutor[] = []
let runs: number[] = []
const tag = mdnsTag()

before(async () => {
  requireTestNamespace()
  dir = await tempDir()
  const key = await makeClusterKey(dir.path)
  for (let i = 0; i < NODES; i++) {
    const inner = createSimulatedExecutor()
    const index = i
    const executor: SimulatedExecutor = { ...inner, run: async (task, observer, signal) => { runs[index]++; return inner.run(task, observer, signal) } }
    executors.push(executor)
    nodes.push(await simNode(dir.path, `node-${i}`, key, { mdnsTag: tag, mdnsIntervalMs: 2_000, refreshIntervalMs: REFRESH_MS, executor }))
  }
  runs = nodes.map(() => 0)
  await Promise.all(nodes.map(async node => node.start()))
  const converged = await waitFor(() => fullyConnected(nodes), CONVERGENCE_BOUND_MS)
  assert.ok(converged, `not every node lists the others: ${nodes.map(n => `${n.name}:${n.peers().length}`).join(' ')}`)
})

after(async () => {
  await Promise.all(nodes.map(async node => node.stop()))
  await dir?.remove()
})

/** Small enough that each node runs all four of its tasks at once. */
function request (command: string[]): TaskRequest {
  return simTaskRequest(command, { resources: { cpu: 0.1, memoryBytes: 32 * 2 ** 20, storageBytes: 2 ** 20, gpus: 0 } })
}

function stdout (events: TaskEvent[]): string {
  return Buffer.concat(events.flatMap(event => event.log?.stream === LogStream.STDOUT ? [event.log.data] : [])).toString()
}

test(`every node sends a task to every other (${NODES * (NODES - 1)} at once); all finish with the right output and exit code`, async () => {
  const pairs = nodes.flatMap((from, i) => nodes.flatMap((to, j) => i === j ? [] : [{ from, to, code: [0, 3, 0, 1, 42, 255, 7][(i * NODES + j) % 7] }]))
  // While the tasks run, the peers' status refreshes show them running (so "back to 0" below means something).
  let busiest = 0
  const watch = setInterval(() => {
    for (const node of nodes) for (const peer of node.peers()) busiest = Math.max(busiest, peer.running)
  }, 20)
  const results = await Promise.all(pairs.map(async ({ from, to, code }) => {
    const submitted = await from.tasks.submit(to.name, request([`out:${from.name}->${to.name}`, `sleep:${TASK_MS}`, `exit:${code}`]))
    return { submitted, events: await taskEvents(from, submitted.taskId, TASKS_BOUND_MS) }
  })).finally(() => { clearInterval(watch) })
  assert.ok(busiest >= 1, 'no peer was ever seen running a task')
  assert.ok(pairs.some(pair => pair.code === 0) && pairs.some(pair => pair.code !== 0))
  for (const [i, { from, to, code }] of pairs.entries()) {
    const { submitted, events } = results[i]
    const what = `${from.name} → ${to.name}`
    assert.equal(submitted.peerName, to.name, what)
    assert.equal(submitted.peerId, to.peerId.toString(), what)
    assert.deepEqual(events.map(event => event.seq), events.map((_, k) => k + 1), `${what}: seq is not 1..n`)
    assert.ok(events.every(event => event.taskId === submitted.taskId), `${what}: an event names another task`)
    const last = events.at(-1)!
    assert.ok(isTerminal(last.state), `${what}: no terminal event`)
    assert.equal(TaskState[last.state], code === 0 ? 'SUCCEEDED' : 'FAILED', what)
    assert.equal(last.exit?.code, code, what)
    assert.equal(stdout(events), `${from.name}->${to.name}\n`, what)
    // The task ran on the peer it was sent to, submitted by the node that sent it.
    const onWorker = workerOf(to).get(submitted.taskId)
    assert.equal(onWorker?.submitter, from.peerId.toString(), what)
    assert.equal(onWorker?.state, last.state, what)
    assert.equal(workerOf(from).get(submitted.taskId), undefined, `${what}: the sender ran it too`)
  }
  assert.equal(new Set(results.map(result => result.submitted.taskId)).size, pairs.length, 'task ids are not unique')
  assert.deepEqual(runs, nodes.map(() => NODES - 1), 'each node ran exactly one task from each other node')

  // Everything is finished: no container runs, nothing is allocated, and every peer sees that.
  assert.deepEqual(executors.map(executor => executor.running()), nodes.map(() => 0))
  for (const node of nodes) {
    assert.equal(node.status().running, 0, node.name)
    assert.deepEqual(node.status().allocated, { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 }, node.name)
  }
  const settled = await waitFor(() => nodes.every(node => {
    const peers = node.peers()
    return peers.length === NODES - 1 && peers.every(peer => peer.running === 0 && peer.allocated.cpu === 0)
  }), CONVERGENCE_BOUND_MS)
  assert.ok(settled, `peers still report running tasks: ${nodes.map(node => `${node.name}: ${node.peers().map(peer => `${peer.name}=${peer.running}`).join(',')}`).join('; ')}`)
})

test('a second Submit with the same task id, from the same master, starts nothing new and replays the same events', async () => {
  const [from, to] = [nodes[1], nodes[3]]
  const before = runs[3]
  const spec = { ...request(['out:only once', 'sleep:100', 'exit:5']), id: `sim-dup-${Date.now().toString(36)}`, attempt: 1 }
  const read = async (): Promise<TaskEvent[]> => {
    const session = await new TaskStreams(from.libp2p).submit(to.peerId.toString(), spec, AbortSignal.timeout(TASKS_BOUND_MS))
    const events: TaskEvent[] = []
    for await (const event of session.events) events.push(event)
    return events
  }
  // One while the task runs, one after it ended.
  const [first, second] = await Promise.all([read(), read()])
  const third = await read()
  assert.equal(runs[3] - before, 1, 'the task ran more than once')
  assert.equal(first.at(-1)?.exit?.code, 5)
  assert.equal(stdout(first), 'only once\n')
  assert.deepEqual(second, first)
  assert.deepEqual(third, first)
  assert.equal(executors[3].running(), 0)
})
