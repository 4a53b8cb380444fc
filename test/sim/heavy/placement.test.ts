import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CloudaiNode, NodeOptions } from '../../../node/src/node.ts'
import { TaskState, type TaskEvent } from '../../../node/src/protocol/task-messages.ts'
import type { ResourceAmounts } from '../../../node/src/resources.ts'
import { requireTestNamespace, waitFor } from '../../helpers/env.ts'
import { cluster, fullyConnected, simNode, simTaskRequest, stopAll, taskEvents, watchedExecutor, type Cluster, type WatchedExecutor } from '../../helpers/sim.ts'
import { storeOf, workerOf } from '../../helpers/internals.ts'

/**
 * Automatic placement across a mesh (docs/architecture.md): masters that place hundreds
 * of tasks at once with `auto`. Retries after a worker dies are in durable.test.ts.
 */

const GiB = 2 ** 30
const MiB = 2 ** 20
/** Generous: twenty nodes in one process on a 2-core machine usually meet in 6–17 s, once in 26 s here. */
const CONVERGENCE_BOUND_MS = 45_000
const MDNS_INTERVAL_MS = 2_000

function options (c: Cluster, extra: Partial<NodeOptions>): Partial<NodeOptions> {
  return { mdnsTag: c.tag, mdnsIntervalMs: MDNS_INTERVAL_MS, ...extra }
}

async function converge (nodes: CloudaiNode[]): Promise<number> {
  const started = Date.now()
  const converged = await waitFor(() => fullyConnected(nodes), CONVERGENCE_BOUND_MS, 100)
  assert.ok(converged, `not every node lists the others: ${nodes.map(n => `${n.name}:${n.peers().filter(p => p.reachable).length}`).join(' ')}`)
  return Date.now() - started
}

function states (events: TaskEvent[]): string {
  return events.map(e => e.state + (e.error != null ? `(${e.error.code})` : '')).join(' ')
}

// ---------------------------------------------------------------------------------------------
// One mesh for both tests (twenty nodes take seconds to meet): the burst runs first, on idle
// nodes, from a master too small to take its tasks; that master then leaves, and the 600 tasks
// run on the twenty alone.

const NODES = 20
const NODE_CAPACITY: ResourceAmounts = { cpu: 2, memoryBytes: 4 * GiB, storageBytes: 10 * GiB, gpus: 0 }

let c: Cluster | undefined
/** The twenty nodes of 2 CPU, each with an executor that checks its capacity at every run. */
const nodes: CloudaiNode[] = []
const watched: WatchedExecutor[] = []
/** The burst's master: it offers too little for a task of 1 CPU, so every task goes to one of the twenty. */
let burstMaster: CloudaiNode | undefined
let convergedMs = 0

before(async () => {
  requireTestNamespace()
  c = await cluster()
  burstMaster = await simNode(c.root, 'master', c.key, options(c, { capacity: { cpu: 0.5, memoryBytes: GiB, storageBytes: GiB, gpus: 0 } }))
  for (let i = 0; i < NODES; i++) {
    const watch = watchedExecutor(NODE_CAPACITY)
    const node = await simNode(c.root, `node-${String(i).padStart(2, '0')}`, c.key, options(c, { capacity: NODE_CAPACITY, executor: watch.executor }))
    watch.bind(node)
    watched.push(watch)
    nodes.push(node)
  }
  const all = [burstMaster, ...nodes]
  await Promise.all(all.map(async node => node.start()))
  convergedMs = await converge(all)
})

after(async () => {
  await stopAll([...nodes, ...(burstMaster != null ? [burstMaster] : [])])
  await c?.remove()
})

// ---------------------------------------------------------------------------------------------

const BURST = 200
const BURST_WORKERS = NODES
/**
 * With the power of two choices, 200 tasks on 20 nodes give the busiest at most 13 (1.3 × the
 * mean) in all but a vanishing share of bursts; placed uniformly at random, 98% of bursts put
 * more than 13 on some node (both measured by Monte Carlo over 20,000 bursts).
 */
const BURST_LIMIT = 13

test(`one master places a burst of ${BURST} auto tasks on ${BURST_WORKERS} idle nodes as the power of two choices would: no node gets more than ${BURST_LIMIT}`, { timeout: 120_000 }, async t => {
  const master = burstMaster!
  const workers = nodes
  try {
    const request = simTaskRequest(['sleep:1000'], { resources: { cpu: 1, memoryBytes: 64 * MiB, storageBytes: MiB, gpus: 0 } })
    const started = Date.now()
    const submitted = await Promise.all(Array.from({ length: BURST }, async () => await master.tasks.submit('auto', request, { policy: 'spread' })))
    const placedMs = Date.now() - started
    const perWorker = workers.map(w => submitted.filter(s => s.peerId === w.peerId.toString()).length)
    t.diagnostic(`${BURST} tasks placed in ${placedMs} ms; per node (mean ${BURST / BURST_WORKERS}): ${perWorker.join(' ')}`)
    assert.equal(perWorker.reduce((a, b) => a + b, 0), BURST, 'every task went to a worker')
    assert.ok(Math.max(...perWorker) <= BURST_LIMIT,
      `the busiest node was given ${Math.max(...perWorker)} of ${BURST} tasks (limit ${BURST_LIMIT}; mean ${BURST / BURST_WORKERS}): ${perWorker.join(' ')}. ` +
      'A burst placed like this looks uniformly random: each placement probes idle-looking nodes before any task of the burst has reached one, so the master must count the tasks it has just placed')

    const ended = await Promise.all(submitted.map(async s => (await taskEvents(master, s.taskId, 60_000)).at(-1)!))
    assert.deepEqual(ended.filter(e => e.state !== TaskState.SUCCEEDED).map(e => `${e.taskId}: ${e.state} ${e.error?.message ?? ''}`), [])
  } finally {
    // It leaves, so that the next test has the twenty to itself.
    await master.stop()
    burstMaster = undefined
  }
})

// ---------------------------------------------------------------------------------------------

const MASTERS = 3
const TASKS_PER_MASTER = 200
/** One task, from submission to its terminal event, however long it waits in a queue. */
const TASK_BOUND_MS = 45_000
/** Spread's promise: no worker runs more than this many times the mean. */
const MAX_OVER_MEAN = 1.5

test(`${MASTERS} masters place ${MASTERS * TASKS_PER_MASTER} auto tasks at once on ${NODES} nodes of ${NODE_CAPACITY.cpu} CPU: all succeed, no node is ever over capacity, and spread keeps the busiest within ${MAX_OVER_MEAN} × the mean`, { timeout: 120_000 }, async t => {
  // The burst's master has left: no node counts it as a candidate any more, and what ran before is forgotten by the watchers.
  const gone = await waitFor(() => nodes.every(node => !node.peers().some(peer => peer.name === 'master' && peer.reachable)), 10_000)
  assert.ok(gone, 'a node still lists the burst\'s master as reachable')
  assert.ok(fullyConnected(nodes), 'the twenty no longer all list each other')
  for (const watch of watched) watch.reset()
  const masters = nodes.slice(0, MASTERS)

  // 0.5 or 1 CPU, 20 to 300 ms: about 70 CPU-seconds of work for 40 CPU, so queues form.
  const plan = (m: number, i: number): { cpu: number, sleepMs: number } => ({
    cpu: (i * 7 + m) % 2 === 0 ? 1 : 0.5,
    sleepMs: 20 + ((i * 37 + m * 11) % 29) * 10
  })
  const started = Date.now()
  const outcomes = await Promise.all(masters.flatMap((master, m) => Array.from({ length: TASKS_PER_MASTER }, async (_, i) => {
    const { cpu, sleepMs } = plan(m, i)
    const request = simTaskRequest([`out:${m}-${i}`, `sleep:${sleepMs}`], { resources: { cpu, memoryBytes: 64 * MiB, storageBytes: MiB, gpus: 0 } })
    const submitted = await master.tasks.submit('auto', request, { policy: 'spread' })
    const events = await taskEvents(master, submitted.taskId, TASK_BOUND_MS)
    return { master, m, i, taskId: submitted.taskId, events }
  })))
  const elapsedMs = Date.now() - started

  // Every task ended SUCCEEDED, through its master's eyes. With spread and queues of at most
  // a few dozen (the limit is 1000), no worker has a reason to refuse one.
  const ended = outcomes.map(o => o.events.at(-1)!)
  const notSucceeded = outcomes.filter((_, k) => ended[k].state !== TaskState.SUCCEEDED).map(o => `${o.master.name} #${o.i}: ${states(o.events)} ${o.events.at(-1)?.error?.message ?? ''}`)
  assert.deepEqual(notSucceeded, [], 'every auto task succeeds')
  assert.equal(new Set(outcomes.map(o => o.taskId)).size, MASTERS * TASKS_PER_MASTER, 'task ids are unique')
  for (const o of outcomes) {
    const record = o.master.tasks.record(o.taskId, 'submitted')!
    assert.equal(record.state, TaskState.SUCCEEDED, o.taskId)
    assert.equal(record.placement?.target, 'auto')
    assert.equal(record.placement?.policy, 'spread')
  }

  // No node's ledger, and nothing that ran on it at once, ever went past its capacity.
  for (const [w, watch] of watched.entries()) assert.deepEqual(watch.violations, [], nodes[w].name)

  // Where they ran, from the workers' own records (the burst's tasks left out): each task once, SUCCEEDED, on the node its master recorded.
  const ours = new Set(outcomes.map(o => o.taskId))
  const ranOn = new Map<string, string>()
  const perNode = nodes.map(node => {
    const executed = node.tasks.records({ role: 'executed' }).filter(r => ours.has(r.taskId) && r.state === TaskState.SUCCEEDED)
    for (const record of executed) {
      assert.ok(!ranOn.has(record.taskId), `${record.taskId} succeeded on ${ranOn.get(record.taskId)} and on ${node.name}`)
      ranOn.set(record.taskId, node.peerId.toString())
    }
    return executed.length
  })
  assert.equal(ranOn.size, MASTERS * TASKS_PER_MASTER, 'every task ran to success exactly once')
  for (const o of outcomes) assert.equal(ranOn.get(o.taskId), o.master.tasks.record(o.taskId, 'submitted')!.peerId, `${o.taskId}: the worker that ran it is the one its master recorded`)
  const attempts = outcomes.map(o => storeOf(o.master).attempts(o.taskId).length)
  const refused = attempts.filter(n => n > 1).length

  const mean = (MASTERS * TASKS_PER_MASTER) / NODES
  const busiest = Math.max(...perNode)
  t.diagnostic(`the mesh converged in ${convergedMs} ms; ${MASTERS * TASKS_PER_MASTER} tasks ended in ${elapsedMs} ms; ${refused} placed more than once; tasks per node (mean ${mean}): ${perNode.join(' ')}; peak CPU held: ${watched.map(w => w.maxAllocatedCpu).join(' ')}`)
  assert.ok(busiest <= MAX_OVER_MEAN * mean, `the busiest node ran ${busiest} tasks, more than ${MAX_OVER_MEAN} × the mean of ${mean}: ${perNode.join(' ')}`)
  assert.ok(perNode.every(n => n > 0), `a node ran nothing: ${perNode.join(' ')}`)
  assert.ok(watched.some(w => w.maxAllocatedCpu === NODE_CAPACITY.cpu), 'no node was ever full: the test did not load the mesh')

  // Nothing is held once all have ended.
  const idle = await waitFor(() => nodes.every(node => workerOf(node).active().length === 0 && workerOf(node).queued() === 0), 5_000)
  assert.ok(idle, 'a node still runs or queues a task')
  for (const node of nodes) assert.deepEqual(workerOf(node).allocated(), { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 }, `${node.name} gave every reservation back`)
})
