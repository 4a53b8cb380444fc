import assert from 'node:assert/strict'
import { test } from 'node:test'
import { REATTACH_RETRY_MS } from '../../node/src/master/follower.ts'
import { DIAL_TIMEOUT_MS } from '../../node/src/mesh/limits.ts'
import type { CloudaiNode, NodeOptions } from '../../node/src/node.ts'
import { isTerminal, TaskState, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import type { ResourceAmounts } from '../../node/src/resources.ts'
import { taskFeed, type FeedItem } from '../../node/src/store/feed.ts'
import { mdnsTag, requireTestNamespace, waitFor } from '../helpers/env.ts'
import { cluster, crash, fullyConnected, killableExecutor, simNode, simTaskRequest, stopAll, taskEvents, watchedExecutor, within, type Cluster, type WatchedExecutor } from '../helpers/sim.ts'
import { storeOf, workerOf } from '../helpers/internals.ts'

/**
 * Automatic placement and retries across a mesh (docs/architecture.md, issue 5): masters that place
 * hundreds of tasks at once with `auto`, and a worker that dies under tasks with `--retries`.
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

const NODES = 20
const MASTERS = 3
const TASKS_PER_MASTER = 200
const NODE_CAPACITY: ResourceAmounts = { cpu: 2, memoryBytes: 4 * GiB, storageBytes: 10 * GiB, gpus: 0 }
/** One task, from submission to its terminal event, however long it waits in a queue. */
const TASK_BOUND_MS = 45_000
/** Spread's promise (issue 5): no worker runs more than this many times the mean. */
const MAX_OVER_MEAN = 1.5

test(`${MASTERS} masters place ${MASTERS * TASKS_PER_MASTER} auto tasks at once on ${NODES} nodes of ${NODE_CAPACITY.cpu} CPU: all succeed, no node is ever over capacity, and spread keeps the busiest within ${MAX_OVER_MEAN} × the mean`, { timeout: 120_000 }, async t => {
  requireTestNamespace()
  const c = await cluster()
  const nodes: CloudaiNode[] = []
  const watched: WatchedExecutor[] = []
  try {
    for (let i = 0; i < NODES; i++) {
      const watch = watchedExecutor(NODE_CAPACITY)
      const node = await simNode(c.root, `node-${String(i).padStart(2, '0')}`, c.key, options(c, { capacity: NODE_CAPACITY, executor: watch.executor }))
      watch.bind(node)
      watched.push(watch)
      nodes.push(node)
    }
    await Promise.all(nodes.map(async node => node.start()))
    const convergedMs = await converge(nodes)
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

    // Where they ran, from the workers' own records: each task once, SUCCEEDED, on the node its master recorded.
    const ranOn = new Map<string, string>()
    const perNode = nodes.map(node => {
      const executed = node.tasks.records({ role: 'executed' }).filter(r => r.state === TaskState.SUCCEEDED)
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
    t.diagnostic(`converged in ${convergedMs} ms; ${MASTERS * TASKS_PER_MASTER} tasks ended in ${elapsedMs} ms; ${refused} placed more than once; tasks per node (mean ${mean}): ${perNode.join(' ')}; peak CPU held: ${watched.map(w => w.maxAllocatedCpu).join(' ')}`)
    assert.ok(busiest <= MAX_OVER_MEAN * mean, `the busiest node ran ${busiest} tasks, more than ${MAX_OVER_MEAN} × the mean of ${mean}: ${perNode.join(' ')}`)
    assert.ok(perNode.every(n => n > 0), `a node ran nothing: ${perNode.join(' ')}`)
    assert.ok(watched.some(w => w.maxAllocatedCpu === NODE_CAPACITY.cpu), 'no node was ever full: the test did not load the mesh')

    // Nothing is held once all have ended.
    const idle = await waitFor(() => nodes.every(node => workerOf(node).active().length === 0 && workerOf(node).queued() === 0), 5_000)
    assert.ok(idle, 'a node still runs or queues a task')
    for (const node of nodes) assert.deepEqual(workerOf(node).allocated(), { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 }, `${node.name} gave every reservation back`)
  } finally {
    await stopAll(nodes)
    await c.remove()
  }
})

// ---------------------------------------------------------------------------------------------

const BURST = 200
const BURST_WORKERS = 20
/**
 * With the power of two choices, 200 tasks on 20 nodes give the busiest at most 13 (1.3 × the
 * mean) in all but a vanishing share of bursts; placed uniformly at random, 98% of bursts put
 * more than 13 on some node (both measured by Monte Carlo over 20,000 bursts).
 */
const BURST_LIMIT = 13

test(`one master places a burst of ${BURST} auto tasks on ${BURST_WORKERS} idle nodes as the power of two choices would: no node gets more than ${BURST_LIMIT}`, { timeout: 120_000 }, async t => {
  requireTestNamespace()
  const c = await cluster()
  const nodes: CloudaiNode[] = []
  try {
    // The master offers too little for a task of 1 CPU, so every task goes to one of the workers.
    const master = await simNode(c.root, 'master', c.key, options(c, { capacity: { cpu: 0.5, memoryBytes: GiB, storageBytes: GiB, gpus: 0 } }))
    nodes.push(master)
    for (let i = 0; i < BURST_WORKERS; i++) {
      nodes.push(await simNode(c.root, `worker-${String(i).padStart(2, '0')}`, c.key, options(c, { capacity: NODE_CAPACITY })))
    }
    await Promise.all(nodes.map(async node => node.start()))
    await converge(nodes)
    const workers = nodes.slice(1)

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
    await stopAll(nodes)
    await c.remove()
  }
})

// ---------------------------------------------------------------------------------------------

const LOST_AFTER_MS = 3_000
const PROBE_INTERVAL_MS = 500
/** From the crash to LOST: the deadline, then at most one re-attach pause, a failing dial and scheduling. */
const LOST_SLACK_MS = REATTACH_RETRY_MS + DIAL_TIMEOUT_MS + 2_000
const RETRIED = 5
const NOT_RETRIED = 3
/** Long enough that every first attempt still runs when its worker dies; short enough for the second to finish soon. */
const TASK_MS = 6_000

/** Everything a feed of the task yields, from attempt 1 until the end of its last attempt. */
async function feedItems (node: CloudaiNode, taskId: string, boundMs: number): Promise<FeedItem[]> {
  const items: FeedItem[] = []
  const signal = AbortSignal.timeout(boundMs)
  for await (const item of taskFeed(storeOf(node), taskId, 1, { follow: true, signal })) items.push(item)
  return items
}

test(`a worker dies running ${RETRIED} tasks sent with --retries 1 and ${NOT_RETRIED} without: all become LOST past the deadline, the first ${RETRIED} then succeed elsewhere as attempt 2, the others stay LOST with the reason`, { timeout: 90_000 }, async t => {
  requireTestNamespace()
  const c = await cluster()
  const alive: CloudaiNode[] = []
  let dead: CloudaiNode | undefined
  try {
    const master = await simNode(c.root, 'master', c.key, options(c, { capacity: { cpu: 1, memoryBytes: GiB, storageBytes: GiB, gpus: 0 }, lostAfterMs: LOST_AFTER_MS, probeIntervalMs: PROBE_INTERVAL_MS }))
    alive.push(master)
    const doomed = killableExecutor()
    const worker = await simNode(c.root, 'doomed', c.key, options(c, { capacity: { cpu: 8, memoryBytes: 8 * GiB, storageBytes: 10 * GiB, gpus: 0 }, executor: doomed.executor }))
    alive.push(worker)
    for (const name of ['spare-a', 'spare-b']) {
      alive.push(await simNode(c.root, name, c.key, options(c, { capacity: { cpu: 4, memoryBytes: 4 * GiB, storageBytes: 10 * GiB, gpus: 0 } })))
    }
    await Promise.all(alive.map(async node => node.start()))
    await converge(alive)
    const workerId = worker.peerId.toString()

    const request = simTaskRequest(['out:hello', `sleep:${TASK_MS}`], { resources: { cpu: 1, memoryBytes: 64 * MiB, storageBytes: MiB, gpus: 0 } })
    const retried: string[] = []
    for (let i = 0; i < RETRIED; i++) retried.push((await master.tasks.submit('doomed', request, { retries: 1 })).taskId)
    const plain: string[] = []
    for (let i = 0; i < NOT_RETRIED; i++) plain.push((await master.tasks.submit('doomed', request)).taskId)
    const ids = [...retried, ...plain]
    // Followed from the start, as `logs -f` would: the feed must carry the task across its attempts.
    const feeds = retried.map(id => feedItems(master, id, 60_000))
    feeds.forEach(feed => { feed.catch(() => {}) })

    const running = await waitFor(() => ids.every(id => master.tasks.record(id, 'submitted')?.state === TaskState.RUNNING), 10_000)
    assert.ok(running, `not all ${ids.length} run on the worker: ${ids.map(id => master.tasks.record(id, 'submitted')?.state).join(', ')}`)
    for (const id of ids) {
      assert.deepEqual(storeOf(master).attempts(id).map(a => [a.attempt, a.peerId, a.state]), [[1, workerId, TaskState.RUNNING]], `${id}: one attempt, on the named worker`)
    }

    const crashedAt = Date.now()
    await crash(worker, doomed.kill)
    alive.splice(alive.indexOf(worker), 1)
    dead = worker
    for (const id of ids) assert.equal(worker.tasks.record(id, 'executed')?.state, TaskState.RUNNING, `${id} was still running when its worker died`)

    // Every first attempt is LOST within the detection bound.
    const lost = await waitFor(() => ids.every(id => storeOf(master).attempts(id)[0]?.state === TaskState.LOST), LOST_AFTER_MS + LOST_SLACK_MS + 2_000)
    assert.ok(lost, `not every first attempt became LOST: ${ids.map(id => storeOf(master).attempts(id)[0]?.state).join(', ')}`)
    const lostAfter = ids.map(id => storeOf(master).attempts(id)[0].finishedMs! - crashedAt)
    for (const [k, ms] of lostAfter.entries()) {
      assert.ok(ms >= LOST_AFTER_MS && ms <= LOST_AFTER_MS + LOST_SLACK_MS, `${ids[k]}: attempt 1 LOST ${ms} ms after the crash (deadline ${LOST_AFTER_MS} ms, slack ${LOST_SLACK_MS} ms)`)
    }

    // With --retries 1: attempt 2 on another node, to SUCCEEDED.
    const results = await Promise.all(retried.map(async id => await taskEvents(master, id, TASK_MS + 20_000)))
    const doneAt = Date.now()
    for (const [k, id] of retried.entries()) {
      const last = results[k].at(-1)!
      assert.equal(last.state, TaskState.SUCCEEDED, `${id}: ${states(results[k])} ${last.error?.message ?? ''}`)
      const attempts = storeOf(master).attempts(id)
      assert.equal(attempts.length, 2, `${id}: ${JSON.stringify(attempts)}`)
      const [first, second] = attempts
      assert.deepEqual([first.attempt, first.peerId, first.peerName, first.state, first.errorCode], [1, workerId, 'doomed', TaskState.LOST, 'LOST'])
      assert.match(first.errorMessage ?? '', /^doomed has been unreachable since \S+, longer than the loss deadline \(3 s\): the task is lost/)
      assert.equal(second.attempt, 2)
      assert.equal(second.state, TaskState.SUCCEEDED)
      assert.notEqual(second.peerId, workerId, `${id}: attempt 2 went back to the dead worker`)
      const runner = alive.find(node => node.peerId.toString() === second.peerId)
      assert.ok(runner != null, `${id}: attempt 2 was placed on ${second.peerName} (${second.peerId}), no live node`)
      assert.equal(second.peerName, runner.name)
      const record = master.tasks.record(id, 'submitted')!
      assert.equal(record.state, TaskState.SUCCEEDED)
      assert.equal(record.attempt, 2)
      assert.equal(record.peerId, second.peerId)
      assert.equal(record.exitCode, 0)
      // The node that ran attempt 2 recorded it as attempt 2, and it succeeded there.
      const copy = runner.tasks.record(id, 'executed')
      assert.equal(copy?.attempt, 2, `${id} on ${runner.name}`)
      assert.equal(copy?.state, TaskState.SUCCEEDED)
    }

    // The feed of a retried task: attempt 1's events to LOST, the new attempt's worker, then attempt 2's events to the end.
    const fed = await Promise.all(feeds)
    for (const [k, items] of fed.entries()) {
      const id = retried[k]
      const second = storeOf(master).attempts(id)[1]
      const split = items.findIndex(item => 'attempt' in item && !('event' in item))
      assert.ok(split > 0, `${id}: the feed never announced a new attempt: ${JSON.stringify(items.map(i => Object.keys(i)))}`)
      const before = items.slice(0, split)
      const after = items.slice(split + 1)
      assert.deepEqual(items[split], { attempt: { attempt: 2, peerId: second.peerId, peerName: second.peerName } })
      const eventsOf = (list: FeedItem[], attempt: number): TaskEvent[] => list.map(item => {
        assert.ok('event' in item, `${id}: a feed item that is not an event: ${JSON.stringify(item)}`)
        assert.equal(item.attempt, attempt, `${id}: an event of attempt ${item.attempt} among attempt ${attempt}'s`)
        return item.event
      })
      const one = eventsOf(before, 1)
      const two = eventsOf(after, 2)
      assert.deepEqual(one.map(e => e.seq), one.map((_, n) => n + 1), `${id}: attempt 1's seqs`)
      assert.equal(one.at(-1)!.state, TaskState.LOST, `${id}: attempt 1 ${states(one)}`)
      assert.equal(one.filter(e => isTerminal(e.state)).length, 1)
      assert.ok(one.some(e => e.state === TaskState.RUNNING), `${id}: attempt 1 ${states(one)}`)
      assert.deepEqual(two.map(e => e.seq), two.map((_, n) => n + 1), `${id}: attempt 2's seqs start again at 1`)
      assert.equal(two.at(-1)!.state, TaskState.SUCCEEDED, `${id}: attempt 2 ${states(two)}`)
      assert.equal(two.filter(e => isTerminal(e.state)).length, 1)
      assert.equal(two.filter(e => e.log != null).map(e => Buffer.from(e.log!.data).toString()).join(''), 'hello\n', `${id}: attempt 2's output`)
      assert.deepEqual(two, storeOf(master).events(id, 2), `${id}: the feed and the store agree on attempt 2`)
    }

    // Without retries: LOST they stay, with the reason, after the others were done.
    for (const id of plain) {
      const events = await taskEvents(master, id, 1_000)
      const last = events.at(-1)!
      assert.equal(last.state, TaskState.LOST, `${id}: ${states(events)}`)
      const record = master.tasks.record(id, 'submitted')!
      assert.equal(record.state, TaskState.LOST)
      assert.equal(record.attempt, 1)
      assert.equal(record.errorCode, 'LOST')
      assert.match(record.errorMessage ?? '', /^doomed has been unreachable since \S+, longer than the loss deadline \(3 s\): the task is lost\. If the worker comes back, its copy is cancelled$/)
      assert.deepEqual(storeOf(master).attempts(id).map(a => [a.attempt, a.peerId, a.state, a.errorCode]), [[1, workerId, TaskState.LOST, 'LOST']], `${id}: no second attempt`)
      assert.ok(alive.every(node => node.tasks.record(id, 'executed') == null), `${id} ran on a live node though it had no retries`)
    }
    t.diagnostic(`first attempts LOST ${Math.min(...lostAfter)}–${Math.max(...lostAfter)} ms after the crash; retried tasks done ${doneAt - crashedAt} ms after it; attempt 2 on ${retried.map(id => storeOf(master).attempts(id)[1].peerName).join(', ')}`)
  } finally {
    (dead != null ? storeOf(dead) : undefined)?.close()
    await stopAll(alive)
    await c.remove()
  }
})
