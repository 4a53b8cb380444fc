import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { createSimulatedExecutor } from '../../../node/src/executor/simulated.ts'
import { REATTACH_RETRY_MS, STALE_CANCEL_RETRY_MS } from '../../../node/src/master/follower.ts'
import { DIAL_TIMEOUT_MS } from '../../../node/src/mesh/limits.ts'
import type { CloudaiNode, NodeOptions } from '../../../node/src/node.ts'
import { isTerminal, TaskState, type TaskEvent } from '../../../node/src/protocol/task-messages.ts'
import type { ResourceAmounts } from '../../../node/src/resources.ts'
import { taskFeed, type FeedItem } from '../../../node/src/store/feed.ts'
import type { TaskRecord, TaskStore } from '../../../node/src/store/store.ts'
import { MAX_QUEUED_TASKS } from '../../../node/src/worker/task-queue.ts'
import { requireTestNamespace, waitFor } from '../../helpers/env.ts'
import { cluster, crash, fullyConnected, killableExecutor, simNode, simTaskRequest, stopAll, taskEvents, watchedExecutor, type Cluster, type WatchedExecutor } from '../../helpers/sim.ts'
import { storeOf, workerOf } from '../../helpers/internals.ts'

/**
 * Durability of tasks across load and failure (docs/architecture.md): many masters against small
 * workers, a worker that dies with tasks running, one that comes back in time, and tasks sent
 * with --retries to a worker that dies.
 */

const GiB = 2 ** 30
const MiB = 2 ** 20
/** Generous: the mesh converges in about a second here, but CI machines are loaded. */
const CONVERGENCE_BOUND_MS = 20_000
/** mDNS as in the other sim tests. */
const MDNS_INTERVAL_MS = 2_000

function options (c: Cluster, extra: Partial<NodeOptions>): Partial<NodeOptions> {
  return { mdnsTag: c.tag, mdnsIntervalMs: MDNS_INTERVAL_MS, ...extra }
}

async function converge (nodes: CloudaiNode[]): Promise<void> {
  const converged = await waitFor(() => fullyConnected(nodes), CONVERGENCE_BOUND_MS)
  assert.ok(converged, `not every node lists the others: ${nodes.map(n => `${n.name}:${n.peers().filter(p => p.reachable).length}`).join(' ')}`)
}

/** Every event stored for a task, in seq order. */
function storedEvents (store: TaskStore, record: TaskRecord): TaskEvent[] {
  const events: TaskEvent[] = []
  for (let from = 1; ;) {
    const batch = store.events(record.taskId, record.attempt, from, 1000)
    events.push(...batch)
    if (batch.length < 1000) return events
    from = batch[batch.length - 1].seq + 1
  }
}

/** Seqs 1..n without a gap or a repeat, and exactly one terminal event, the last one. */
function assertWellFormed (events: TaskEvent[], what: string): void {
  assert.deepEqual(events.map(event => event.seq), events.map((_, k) => k + 1), `${what}: seq is not 1..n`)
  assert.equal(events.filter(event => isTerminal(event.state)).length, 1, `${what}: not exactly one terminal event (${events.map(e => e.state).join(' ')})`)
  assert.ok(isTerminal(events.at(-1)!.state), `${what}: the last event is not terminal`)
}

/**
 * Count, per task and seq, how often the master's follower hands an event to its store: the
 * store ignores an event it holds already, so a doubled delivery shows only here.
 */
function countDeliveries (node: CloudaiNode): Map<string, number> {
  const counts = new Map<string, number>()
  const store = storeOf(node)
  const record = store.recordEvent.bind(store)
  store.recordEvent = (role, attempt, event) => {
    if (role === 'submitted') {
      const key = `${event.taskId}#${event.seq}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    return record(role, attempt, event)
  }
  return counts
}

function doubled (counts: Map<string, number>): string[] {
  return [...counts].filter(([, n]) => n > 1).map(([key, n]) => `${key} ×${n}`)
}

function addressOf (node: CloudaiNode): string {
  const addr = node.libp2p.getMultiaddrs().find(a => a.toString().startsWith('/ip4/127.0.0.1/'))
  assert.ok(addr != null, `${node.name} listens on no loopback address`)
  return addr.toString()
}

// ---------------------------------------------------------------------------------------------

const MASTERS = 4
const WORKERS = 3
const TASKS_PER_MASTER = 250
/** Tasks each master has in flight (submitted and not ended): all of them at once, so queues run hundreds deep. */
const IN_FLIGHT_PER_MASTER = TASKS_PER_MASTER
const WORKER_CAPACITY: ResourceAmounts = { cpu: 2, memoryBytes: 4 * GiB, storageBytes: 10 * GiB, gpus: 0 }
const MASTER_CAPACITY: ResourceAmounts = { cpu: 1, memoryBytes: 1 * GiB, storageBytes: 1 * GiB, gpus: 0 }
/** One task, from submission to its terminal event, however long it waits in a queue. */
const TASK_BOUND_MS = 30_000
const LOAD_TEST_TIMEOUT_MS = 90_000

interface Plan {
  master: number
  index: number
  worker: number
  cpu: number
  sleepMs: number
  exitCode: number
}

test(`${MASTERS} masters × ${TASKS_PER_MASTER} tasks on ${WORKERS} workers of ${WORKER_CAPACITY.cpu} CPU: every task ends once, seqs are whole, capacity is never exceeded, and both histories agree`, { timeout: LOAD_TEST_TIMEOUT_MS }, async t => {
  requireTestNamespace()
  // Round robin: at most a third of MASTERS × IN_FLIGHT_PER_MASTER tasks wait on one worker, so no queue can be full and no task may be REJECTED.
  assert.ok(Math.ceil(MASTERS * IN_FLIGHT_PER_MASTER / WORKERS) < MAX_QUEUED_TASKS)
  const c = await cluster()
  const nodes: CloudaiNode[] = []
  const watched: WatchedExecutor[] = []
  try {
    const workers: CloudaiNode[] = []
    for (let w = 0; w < WORKERS; w++) {
      const watch = watchedExecutor(WORKER_CAPACITY, { queueBound: MAX_QUEUED_TASKS })
      const node = await simNode(c.root, `worker-${w}`, c.key, options(c, { capacity: WORKER_CAPACITY, executor: watch.executor }))
      watch.bind(node)
      watched.push(watch)
      workers.push(node)
    }
    const masters: CloudaiNode[] = []
    for (let m = 0; m < MASTERS; m++) masters.push(await simNode(c.root, `master-${m}`, c.key, options(c, { capacity: MASTER_CAPACITY })))
    const deliveries = masters.map(countDeliveries)
    nodes.push(...workers, ...masters)
    await Promise.all(nodes.map(async node => node.start()))
    await converge(nodes)

    // Round robin over the workers, each master starting at a different one; 0.5 or 1 CPU; a few ms to tens of ms; one in ten fails.
    const plans: Plan[][] = masters.map((_, m) => Array.from({ length: TASKS_PER_MASTER }, (_, i) => ({
      master: m,
      index: i,
      worker: (i + m) % WORKERS,
      cpu: (i * 7 + m) % 3 === 0 ? 1 : 0.5,
      sleepMs: 2 + (i * 13 + m * 5) % 29,
      exitCode: i % 10 === 7 ? 3 : 0
    })))
    const taskIds = new Map<string, Plan>()
    const seen = new Map<string, TaskEvent[]>()
    const started = performance.now()
    await Promise.all(masters.map(async (master, m) => {
      let next = 0
      await Promise.all(Array.from({ length: IN_FLIGHT_PER_MASTER }, async () => {
        while (next < plans[m].length) {
          const plan = plans[m][next++]
          const request = simTaskRequest([`sleep:${plan.sleepMs}`, `exit:${plan.exitCode}`], {
            resources: { cpu: plan.cpu, memoryBytes: 64 * MiB, storageBytes: MiB, gpus: 0 }
          })
          const submitted = await master.tasks.submit(workers[plan.worker].name, request)
          assert.equal(submitted.peerId, workers[plan.worker].peerId.toString())
          taskIds.set(submitted.taskId, plan)
          seen.set(submitted.taskId, await taskEvents(master, submitted.taskId, TASK_BOUND_MS))
        }
      }))
    }))
    const elapsedMs = performance.now() - started
    t.diagnostic(`${MASTERS * TASKS_PER_MASTER} tasks ended in ${Math.round(elapsedMs)} ms; runs per worker: ${watched.map(w => w.runs.length).join(', ')}`)

    assert.equal(taskIds.size, MASTERS * TASKS_PER_MASTER, 'task ids are unique')
    // Nothing a worker's ledger held, and nothing that ran at once, ever went past its capacity.
    for (const [w, watch] of watched.entries()) {
      assert.deepEqual(watch.violations, [], `worker-${w}`)
      assert.equal(watch.maxAllocatedCpu, WORKER_CAPACITY.cpu, `worker-${w} was never full: the test did not load it`)
      assert.equal(new Set(watch.runs).size, watch.runs.length, `worker-${w} ran a task twice`)
    }
    assert.equal(watched.reduce((n, w) => n + w.runs.length, 0), MASTERS * TASKS_PER_MASTER, 'every task ran exactly once')

    // What each master saw: exactly one terminal event, seqs whole, the state the script asked for.
    let queued = 0
    const rejected: string[] = []
    for (const [taskId, events] of seen) {
      const plan = taskIds.get(taskId)!
      const what = `master-${plan.master} task ${plan.index} (${taskId}) on worker-${plan.worker}`
      assertWellFormed(events, what)
      assert.ok(events.every(event => event.taskId === taskId), `${what}: an event names another task`)
      if (events.some(event => event.state === TaskState.QUEUED)) queued++
      const last = events.at(-1)!
      if (last.state === TaskState.REJECTED) {
        rejected.push(`${what}: ${last.error?.code}`)
        continue
      }
      assert.equal(last.state, plan.exitCode === 0 ? TaskState.SUCCEEDED : TaskState.FAILED, what)
      assert.equal(last.exit?.code, plan.exitCode, what)
    }
    assert.deepEqual(rejected, [], 'no task is REJECTED (QUEUE_FULL cannot happen at this load)')
    for (const [m, counts] of deliveries.entries()) assert.deepEqual(doubled(counts), [], `master-${m} was handed an event twice`)
    assert.ok(queued > 0, 'no task ever waited in a queue: the test did not load the workers')

    // The history agrees: each master recorded its 250, all ended, as it saw them; each worker
    // recorded those it ran, with the same ending and the very same events.
    const executed = new Map<string, { record: TaskRecord, worker: number }>()
    for (const [w, worker] of workers.entries()) {
      for (const record of worker.tasks.records({ role: 'executed' })) {
        assert.ok(!executed.has(record.taskId), `${record.taskId} ran on two workers`)
        executed.set(record.taskId, { record, worker: w })
      }
      assert.equal(worker.tasks.records({ role: 'submitted' }).length, 0, `${worker.name} submitted nothing`)
    }
    assert.equal(executed.size, MASTERS * TASKS_PER_MASTER)
    for (const [m, master] of masters.entries()) {
      const records = master.tasks.records({ role: 'submitted' })
      assert.equal(records.length, TASKS_PER_MASTER, `${master.name}'s history`)
      assert.equal(master.tasks.records({ role: 'executed' }).length, 0, `${master.name} ran nothing`)
      for (const record of records) {
        const plan = taskIds.get(record.taskId)
        assert.ok(plan != null && plan.master === m, `${master.name} lists a task it did not submit: ${record.taskId}`)
        const what = `${master.name} task ${plan.index}`
        assert.ok(isTerminal(record.state), `${what}: ${record.state}`)
        assert.equal(record.peerName, `worker-${plan.worker}`, what)
        assert.equal(record.exitCode, plan.exitCode, what)
        const events = storedEvents(storeOf(master), record)
        assert.deepEqual(events, seen.get(record.taskId), `${what}: the store holds other events than were followed`)
        const onWorker = executed.get(record.taskId)
        assert.ok(onWorker != null, `${what}: no worker recorded it`)
        assert.equal(onWorker.worker, plan.worker, `${what}: ran on worker-${onWorker.worker}`)
        assert.equal(onWorker.record.peerId, master.peerId.toString(), `${what}: the worker names another submitter`)
        assert.equal(onWorker.record.state, record.state, `${what}: the worker recorded another ending`)
        assert.equal(onWorker.record.exitCode, record.exitCode, what)
        assert.equal(onWorker.record.errorCode, record.errorCode, what)
        assert.deepEqual(storedEvents(storeOf(workers[plan.worker]), onWorker.record), events, `${what}: the worker's events differ from the master's`)
      }
    }

    for (const worker of workers) {
      assert.deepEqual(workerOf(worker).allocated(), { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 }, `${worker.name} gave every reservation back`)
      assert.equal(workerOf(worker).queued(), 0, worker.name)
      assert.equal(workerOf(worker).active().length, 0, worker.name)
    }
    assert.deepEqual(watched.map(w => w.executor.running()), workers.map(() => 0), 'no container runs')
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

const RESUME_LOST_AFTER_MS = 20_000

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

/** The states of a task's events, with the error code where there is one. */
function states (events: TaskEvent[]): string {
  return events.map(e => e.state + (e.error != null ? `(${e.error.code})` : '')).join(' ')
}

// Each of these waits out deadlines of its own (loss, re-attach, retries) on a few nodes: side
// by side they take as long as the longest, not the sum.
describe('workers that die', { concurrency: true }, () => {
  test('a worker that dies with tasks running: the master shows them unreachable, then LOST past the deadline, and when the worker comes back it notes what its copy did', { timeout: 90_000 }, async t => {
    requireTestNamespace()
    const c = await cluster()
    const alive: CloudaiNode[] = []
    let dead: CloudaiNode | undefined
    try {
      const master = await simNode(c.root, 'master', c.key, options(c, { capacity: MASTER_CAPACITY, lostAfterMs: LOST_AFTER_MS, probeIntervalMs: PROBE_INTERVAL_MS }))
      alive.push(master)
      const workerOptions = options(c, { capacity: { cpu: 4, memoryBytes: 4 * GiB, storageBytes: 10 * GiB, gpus: 0 } })
      const doomed = killableExecutor()
      let worker = await simNode(c.root, 'worker', c.key, { ...workerOptions, executor: doomed.executor })
      alive.push(worker)
      await Promise.all(alive.map(async node => node.start()))
      await converge(alive)

      const request = simTaskRequest(['sleep:60000'], { resources: { cpu: 1, memoryBytes: 64 * MiB, storageBytes: MiB, gpus: 0 } })
      const ids: string[] = []
      for (let i = 0; i < 3; i++) ids.push((await master.tasks.submit('worker', request)).taskId)
      const running = await waitFor(() => ids.every(id => master.tasks.record(id, 'submitted')?.state === TaskState.RUNNING), 10_000)
      assert.ok(running, `the master does not see all three running: ${ids.map(id => master.tasks.record(id, 'submitted')?.state).join(', ')}`)

      const crashedAt = Date.now()
      await crash(worker, doomed.kill)
      alive.splice(alive.indexOf(worker), 1)
      dead = worker

      const unreachable = await waitFor(() => ids.every(id => master.tasks.unreachableSince(id) != null), LOST_AFTER_MS, 10)
      assert.ok(unreachable, 'the master never showed the tasks as unreachable before the loss deadline')
      for (const id of ids) {
        const since = master.tasks.unreachableSince(id)!
        assert.ok(since >= crashedAt && since <= crashedAt + LOST_AFTER_MS, `unreachable since ${since - crashedAt} ms after the crash`)
      }

      for (const id of ids) {
        const events = await taskEvents(master, id, LOST_AFTER_MS + LOST_SLACK_MS + 5_000)
        assertWellFormed(events, id)
        const last = events.at(-1)!
        assert.equal(last.state, TaskState.LOST, `${id}: ${events.map(e => e.state).join(' ')}`)
        assert.equal(last.error?.code, 'LOST')
        assert.match(last.error?.message ?? '', /^worker has been unreachable since \S+, longer than the loss deadline \(3 s\): the task is lost/)
        const afterMs = last.timeMs - crashedAt
        assert.ok(afterMs >= LOST_AFTER_MS && afterMs <= LOST_AFTER_MS + LOST_SLACK_MS, `${id}: LOST ${afterMs} ms after the crash`)
        const record = master.tasks.record(id, 'submitted')!
        assert.equal(record.state, TaskState.LOST)
        assert.equal(record.errorCode, 'LOST')
        assert.equal(record.note, undefined, 'nothing to note while the worker is away')
        assert.equal(master.tasks.unreachableSince(id), undefined, 'LOST is a state; the unreachable view ends with it')
      }
      const lostSeqs = ids.map(id => master.tasks.record(id, 'submitted')!.lastSeq)
      const lostAtMs = Math.max(...ids.map(id => master.tasks.record(id, 'submitted')!.finishedMs!)) - crashedAt

      // The dead worker recorded nothing after it died: its tasks are RUNNING in its store.
      for (const id of ids) assert.equal(worker.tasks.record(id, 'executed')?.state, TaskState.RUNNING, `${id} on the dead worker`)
      storeOf(worker).close()

      // Back on the same data dir: the same peer ID, a new port. Its containers are gone.
      const peerId = worker.peerId.toString()
      worker = await simNode(c.root, 'worker', c.key, { ...workerOptions, executor: createSimulatedExecutor() })
      alive.push(worker)
      assert.equal(worker.peerId.toString(), peerId, 'the identity in the data dir gives the same peer ID')
      await worker.start()
      for (const id of ids) {
        const record = worker.tasks.record(id, 'executed')
        assert.equal(record?.state, TaskState.FAILED, `${id} after the restart`)
        assert.equal(record?.errorCode, 'CONTAINER_GONE')
      }
      await master.connect(addressOf(worker))

      // The master's stale-copy loop reaches it (within one retry pause) and notes what the copy did.
      const noted = await waitFor(() => ids.every(id => master.tasks.record(id, 'submitted')?.note != null), STALE_CANCEL_RETRY_MS + 10_000)
      assert.ok(noted, 'the master never noted the copy of the returning worker')
      t.diagnostic(`LOST ${lostAtMs} ms after the crash (deadline ${LOST_AFTER_MS} ms); copies noted ${Date.now() - crashedAt} ms after it`)
      for (const [i, id] of ids.entries()) {
        const record = master.tasks.record(id, 'submitted')!
        assert.match(record.note!, /^worker came back at \S+; its copy had ended FAILED after the task was lost, and that result is not used$/)
        assert.equal(record.state, TaskState.LOST, 'the master keeps LOST')
        assert.equal(record.errorCode, 'LOST')
        assert.equal(record.lastSeq, lostSeqs[i], 'nothing from the returning worker was recorded as the task\'s events')
        // The worker's copy stays as it ended.
        const copy = worker.tasks.record(id, 'executed')!
        assert.equal(copy.state, TaskState.FAILED)
        assertWellFormed(storedEvents(storeOf(worker), copy), `${id} on the worker`)
      }
    } finally {
      (dead != null ? storeOf(dead) : undefined)?.close()
      await stopAll(alive)
      await c.remove()
    }
  })

  test('a worker restarted within the deadline: the master re-attaches, the queued tasks run and succeed, the running one fails CONTAINER_GONE, and no event is missed or doubled', { timeout: 90_000 }, async t => {
    requireTestNamespace()
    const c = await cluster()
    const alive: CloudaiNode[] = []
    let dead: CloudaiNode | undefined
    try {
      const master = await simNode(c.root, 'master', c.key, options(c, { capacity: MASTER_CAPACITY, lostAfterMs: RESUME_LOST_AFTER_MS, probeIntervalMs: PROBE_INTERVAL_MS }))
      alive.push(master)
      const deliveries = countDeliveries(master)
      const workerOptions = options(c, { capacity: { cpu: 1, memoryBytes: 4 * GiB, storageBytes: 10 * GiB, gpus: 0 } })
      const doomed = killableExecutor()
      let worker = await simNode(c.root, 'worker', c.key, { ...workerOptions, executor: doomed.executor })
      alive.push(worker)
      await Promise.all(alive.map(async node => node.start()))
      await converge(alive)

      const request = simTaskRequest(['out:done', 'sleep:1500'], { resources: { cpu: 1, memoryBytes: 64 * MiB, storageBytes: MiB, gpus: 0 } })
      const ids: string[] = []
      for (let i = 0; i < 4; i++) ids.push((await master.tasks.submit('worker', request)).taskId)
      const stateOf = (id: string): TaskState | undefined => master.tasks.record(id, 'submitted')?.state
      const settled = await waitFor(() => stateOf(ids[0]) === TaskState.RUNNING && ids.slice(1).every(id => stateOf(id) === TaskState.QUEUED), 1_000, 5)
      assert.ok(settled, `expected one RUNNING and three QUEUED: ${ids.map(stateOf).join(', ')}`)

      const crashedAt = Date.now()
      await crash(worker, doomed.kill)
      alive.splice(alive.indexOf(worker), 1)
      dead = worker
      const atCrash = ids.map(id => worker.tasks.record(id, 'executed')?.state)
      assert.deepEqual(atCrash, [TaskState.RUNNING, TaskState.QUEUED, TaskState.QUEUED, TaskState.QUEUED], 'the worker died with one running and three queued')
      const unreachable = await waitFor(() => ids.every(id => master.tasks.unreachableSince(id) != null), 10_000, 10)
      assert.ok(unreachable, 'the master never showed the tasks as unreachable')
      storeOf(worker).close()
      // Down long enough for the master's first re-attach to fail.
      await delay(REATTACH_RETRY_MS + 500)

      // Back on the same data dir: the same peer ID on a new port, which mDNS tells the master (no `connect`).
      const peerId = worker.peerId.toString()
      worker = await simNode(c.root, 'worker', c.key, { ...workerOptions, executor: createSimulatedExecutor() })
      alive.push(worker)
      assert.equal(worker.peerId.toString(), peerId)
      await worker.start()
      const restartedMs = Date.now() - crashedAt

      const results = await Promise.all(ids.map(async id => await taskEvents(master, id, RESUME_LOST_AFTER_MS + 15_000)))
      const reattached = await waitFor(() => ids.every(id => master.tasks.unreachableSince(id) == null), 5_000)
      assert.ok(reattached, 'the unreachable view did not end')
      assert.ok(master.peers().some(peer => peer.peerId === peerId && peer.reachable && peer.addrs.some(addr => addr.startsWith(addressOf(worker).split('/p2p/')[0]))), 'the master knows the worker\'s new address')
      t.diagnostic(`worker back ${restartedMs} ms after the crash; all four ended ${Date.now() - crashedAt} ms after it`)

      for (const [i, events] of results.entries()) {
        const id = ids[i]
        assertWellFormed(events, `task ${i}`)
        const last = events.at(-1)!
        if (i === 0) {
          assert.equal(last.state, TaskState.FAILED, `task 0: ${events.map(e => e.state).join(' ')}`)
          assert.equal(last.error?.code, 'CONTAINER_GONE')
        } else {
          assert.equal(last.state, TaskState.SUCCEEDED, `task ${i}: ${events.map(e => e.state).join(' ')} ${last.error?.message ?? ''}`)
          assert.equal(last.exit?.code, 0)
          assert.equal(events.filter(e => e.log != null).map(e => Buffer.from(e.log!.data).toString()).join(''), 'done\n', `task ${i}'s output, once`)
        }
        assert.ok(!events.some(e => e.state === TaskState.LOST), `task ${i} was given up`)
        // Nothing missed, nothing twice: the master holds exactly the worker's events.
        const record = master.tasks.record(id, 'submitted')!
        assert.equal(record.state, last.state)
        assert.deepEqual(storedEvents(storeOf(master), record), events)
        const copy = worker.tasks.record(id, 'executed')!
        assert.equal(copy.state, last.state)
        assert.deepEqual(storedEvents(storeOf(worker), copy), events, `task ${i}: the worker's events differ from the master's`)
      }
      assert.deepEqual(doubled(deliveries), [], 'the master was handed an event twice (a re-attach from the wrong seq)')
      // On 1 CPU they ran one at a time, in the order they were queued.
      const spans = results.slice(1).map(events => ({ from: events.find(e => e.state === TaskState.RUNNING)!.timeMs, to: events.at(-1)!.timeMs }))
      for (let i = 1; i < spans.length; i++) assert.ok(spans[i].from >= spans[i - 1].to, `task ${i + 1} ran before task ${i} had ended: ${JSON.stringify(spans)}`)
      assert.deepEqual(workerOf(worker).allocated(), { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 })
    } finally {
      (dead != null ? storeOf(dead) : undefined)?.close()
      await stopAll(alive)
      await c.remove()
    }
  })

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
})
