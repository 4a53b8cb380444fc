import { tempStore } from '../helpers/store.ts'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { ExecutorTask } from '../../node/src/executor/executor.ts'
import { createSimulatedExecutor, type SimulatedExecutor } from '../../node/src/executor/simulated.ts'
import { TaskState, isTerminal, type TaskEvent, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import type { ResourceAmounts } from '../../node/src/resources.ts'
import { MAX_QUEUED_TASKS } from '../../node/src/worker/task-queue.ts'
import { Worker } from '../../node/src/worker/worker.ts'
import type { EventLog } from '../../node/src/protocol/task-host.ts'
import { waitFor } from '../helpers/env.ts'

/** Admission on one worker (docs/architecture.md), driven directly with the simulated executor. */

const IMAGE = '127.0.0.1:5000/cloudai/sim:1'
const GiB = 2 ** 30
/** Every wait in this file ends well inside this, even on a loaded machine. */
const BOUND_MS = 20_000
const CPU = { memoryBytes: 64 * 2 ** 20, storageBytes: 2 ** 20, gpus: 0 }

interface Harness {
  worker: Worker
  executor: SimulatedExecutor
  /** Task ids in the order the executor was asked to run them. */
  runs: string[]
  /** GPU ids each run was given. */
  gpus: Map<string, string[]>
  /** `<task id>:<STATE>` for each state change, in order, across all tasks. */
  changes: string[]
  /** What was wrong at the moment a task started, if anything. */
  violations: string[]
}

function within (used: ResourceAmounts, capacity: ResourceAmounts): boolean {
  return used.cpu <= capacity.cpu + 1e-9 && used.memoryBytes <= capacity.memoryBytes &&
    used.storageBytes <= capacity.storageBytes && used.gpus <= capacity.gpus
}

/**
 * A worker whose executor checks, each time a container starts, that the ledger holds no more
 * than the capacity, that the containers running at once (counted by the test itself) fit
 * in it too, and that no GPU is given to two of them.
 */
function harness (capacity: ResourceAmounts): Harness {
  const inner = createSimulatedExecutor({ pullMs: 1, startMs: 1 })
  const runs: string[] = []
  const gpus = new Map<string, string[]>()
  const changes: string[] = []
  const violations: string[] = []
  const inside = new Map<string, ExecutorTask>()
  const executor: SimulatedExecutor = {
    ...inner,
    run: async (task, observer, signal) => {
      runs.push(task.taskId)
      gpus.set(task.taskId, task.gpuDeviceIds)
      inside.set(task.taskId, task)
      const allocated = worker.allocated()
      if (!within(allocated, capacity)) violations.push(`${task.taskId}: the ledger holds ${JSON.stringify(allocated)}`)
      const running = [...inside.values()]
      const sum = running.reduce((s, t) => ({ cpu: s.cpu + t.resources.cpu, memoryBytes: s.memoryBytes + t.resources.memoryBytes, storageBytes: s.storageBytes + t.resources.storageBytes, gpus: s.gpus + t.resources.gpus }), { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 })
      if (!within(sum, capacity)) violations.push(`${task.taskId}: ${running.length} containers need ${JSON.stringify(sum)}`)
      const ids = running.flatMap(t => t.gpuDeviceIds)
      if (new Set(ids).size !== ids.length) violations.push(`${task.taskId}: GPUs shared: ${ids.join(',')}`)
      if (task.gpuDeviceIds.length !== task.resources.gpus) violations.push(`${task.taskId}: ${task.gpuDeviceIds.length} GPU ids for ${task.resources.gpus} GPUs`)
      try {
        return await inner.run(task, observer, signal)
      } finally {
        inside.delete(task.taskId)
      }
    }
  }
  const worker = new Worker({
    executor,
    capacity,
    nodeId: 'worker-peer',
    store: tempStore(),
    onState: (task, state) => { changes.push(`${task.spec.id}:${TaskState[state]}`) }
  })
  return { worker, executor, runs, gpus, changes, violations }
}

function spec (id: string, command: string[], resources: Partial<ResourceAmounts> = {}): TaskSpec {
  return { id, image: IMAGE, command, env: {}, resources: { cpu: 1, ...CPU, ...resources }, network: 'none', labels: {}, attempt: 1 }
}

/** Every event recorded, from the store (readers get them once their turn's batch is on disk; the worker's own reads see them at once). */
function eventsOf (task: EventLog): TaskEvent[] {
  const events: TaskEvent[] = []
  for (let event = task.eventAt(1); event != null; event = task.eventAt(events.length + 1)) events.push(event)
  return events
}

function positions (task: EventLog): number[] {
  return eventsOf(task).filter(event => event.state === TaskState.QUEUED).map(event => event.queuedPosition ?? -1)
}

async function allEnded (tasks: EventLog[], boundMs = BOUND_MS): Promise<void> {
  const ended = await waitFor(() => tasks.every(task => task.finished), boundMs, 5)
  assert.ok(ended, `not finished: ${tasks.filter(task => !task.finished).map(task => `${task.eventAt(1)?.taskId ?? '?'}=${TaskState[task.state]}`).join(', ')}`)
}

function assertIdle (h: Harness): void {
  assert.deepEqual(h.worker.allocated(), { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 }, 'every reservation is back')
  assert.equal(h.worker.queued(), 0)
  assert.equal(h.worker.active().length, 0)
  assert.equal(h.executor.running(), 0)
  assert.deepEqual(h.violations, [])
}

test('three 1-CPU tasks on 2 CPUs: two run, the third is QUEUED at position 1 and runs when one of them ends', async () => {
  const h = harness({ cpu: 2, memoryBytes: 4 * GiB, storageBytes: 10 * GiB, gpus: 0 })
  const first = h.worker.submit(spec('first', ['sleep:150']), 'master')
  const second = h.worker.submit(spec('second', ['sleep:800']), 'master')
  const third = h.worker.submit(spec('third', ['out:third ran', 'sleep:20']), 'master')
  assert.equal(first.state, TaskState.PULLING)
  assert.equal(second.state, TaskState.PULLING)
  assert.equal(third.state, TaskState.QUEUED)
  assert.deepEqual(eventsOf(third).map(event => [TaskState[event.state], event.queuedPosition]), [['QUEUED', 1]], 'its first event says queued, position 1')
  assert.equal(h.worker.queued(), 1)
  assert.equal(h.worker.active().length, 2, 'only admitted tasks are active (status() counts them as running)')
  assert.equal(h.worker.allocated().cpu, 2)
  assert.deepEqual(h.runs, ['first', 'second'])

  await allEnded([third])
  assert.equal(third.state, TaskState.SUCCEEDED)
  assert.equal(second.finished, false, 'the third ran while the second was still running')
  const at = (change: string): number => h.changes.indexOf(change)
  assert.ok(at('first:SUCCEEDED') >= 0 && at('first:SUCCEEDED') < at('third:PULLING'), `third started after first ended: ${h.changes.join(' ')}`)
  assert.deepEqual(eventsOf(third).map(event => TaskState[event.state]).filter((s, i, all) => all[i - 1] !== s), ['QUEUED', 'PULLING', 'STARTING', 'RUNNING', 'SUCCEEDED'])
  await allEnded([first, second])
  assertIdle(h)
})

test('cancelling a queued task ends it CANCELLED at once, and it never runs', async () => {
  const h = harness({ cpu: 1, memoryBytes: 4 * GiB, storageBytes: 10 * GiB, gpus: 0 })
  const running = h.worker.submit(spec('running', ['sleep:200']), 'master')
  const waiting = h.worker.submit(spec('waiting', ['out:must not run']), 'master')
  assert.equal(waiting.state, TaskState.QUEUED)
  waiting.cancel()
  assert.equal(waiting.state, TaskState.CANCELLED, 'a queued task has nothing to stop: it ends at once')
  assert.deepEqual(eventsOf(waiting).map(event => TaskState[event.state]), ['QUEUED', 'CANCELLED'])
  assert.equal(eventsOf(waiting).at(-1)?.exit, undefined, 'no exit code: no container ran')
  assert.equal(h.worker.queued(), 0)
  waiting.cancel()
  assert.equal(eventsOf(waiting).length, 2, 'a second cancel adds nothing')
  await allEnded([running])
  assert.equal(running.state, TaskState.SUCCEEDED)
  await new Promise(resolve => setTimeout(resolve, 50))
  assert.deepEqual(h.runs, ['running'], 'the cancelled task never reached the executor')
  assertIdle(h)
})

test('the others in the queue are told their new positions when one ahead of them leaves or starts', async () => {
  const h = harness({ cpu: 1, memoryBytes: 4 * GiB, storageBytes: 10 * GiB, gpus: 0 })
  const running = h.worker.submit(spec('running', ['sleep:150']), 'master')
  const [a, b, c] = ['a', 'b', 'c'].map(id => h.worker.submit(spec(id, ['sleep:10']), 'master'))
  assert.deepEqual([a, b, c].map(positions), [[1], [2], [3]])
  b.cancel()
  assert.deepEqual([a, c].map(positions), [[1], [3, 2]], 'only the one behind the cancelled moved')
  await allEnded([running, a, b, c])
  assert.deepEqual(positions(c), [3, 2, 1], 'c moved up when a started')
  assert.deepEqual(h.runs, ['running', 'a', 'c'])
  assertIdle(h)
})

test('strict FIFO: a small task that would fit now waits behind a big one at the head', async () => {
  const h = harness({ cpu: 2, memoryBytes: 4 * GiB, storageBytes: 10 * GiB, gpus: 0 })
  const one = h.worker.submit(spec('one', ['sleep:150']), 'master')
  const big = h.worker.submit(spec('big', ['sleep:100'], { cpu: 2 }), 'master')
  const small = h.worker.submit(spec('small', ['sleep:10']), 'master')
  assert.equal(big.state, TaskState.QUEUED)
  assert.equal(small.state, TaskState.QUEUED, 'one CPU is free, but the big task is first in line')
  assert.deepEqual(positions(small), [2])
  await allEnded([one, big, small])
  assert.deepEqual(h.runs, ['one', 'big', 'small'])
  const at = (change: string): number => h.changes.indexOf(change)
  assert.ok(at('one:SUCCEEDED') < at('big:PULLING') && at('big:SUCCEEDED') < at('small:PULLING'), h.changes.join(' '))
  assertIdle(h)
})

test('a task that can never fit is REJECTED with the numbers and takes no place in the queue', async () => {
  const h = harness({ cpu: 2, memoryBytes: 16 * GiB, storageBytes: 10 * GiB, gpus: 0 })
  const blocker = h.worker.submit(spec('blocker', ['sleep:50'], { cpu: 2 }), 'master')
  const huge = h.worker.submit(spec('huge', ['exit:0'], { cpu: 64, memoryBytes: 64 * GiB }), 'master')
  assert.equal(huge.state, TaskState.REJECTED)
  const [event] = eventsOf(huge)
  assert.equal(event.error?.code, 'NEVER_FITS')
  assert.match(event.error?.message ?? '', /needs 64 CPU, node has 2; 64 GiB memory, node has 16 GiB/)
  assert.equal(h.worker.queued(), 0)
  await allEnded([blocker])
  assertIdle(h)
})

test(`a full queue (${MAX_QUEUED_TASKS} waiting) REJECTS the next task with QUEUE_FULL and a reason`, async () => {
  const h = harness({ cpu: 1, memoryBytes: 4 * GiB, storageBytes: 10 * GiB, gpus: 0 })
  const blocker = h.worker.submit(spec('blocker', ['sleep:60000']), 'master')
  const waiting = Array.from({ length: MAX_QUEUED_TASKS }, (_, i) => h.worker.submit(spec(`q${i}`, ['exit:0']), 'master'))
  assert.ok(waiting.every((task, i) => task.state === TaskState.QUEUED && positions(task)[0] === i + 1))
  assert.equal(h.worker.queued(), MAX_QUEUED_TASKS)
  const refused = h.worker.submit(spec('one-too-many', ['exit:0']), 'master')
  assert.equal(refused.state, TaskState.REJECTED)
  const [event] = eventsOf(refused)
  assert.equal(event.error?.code, 'QUEUE_FULL')
  assert.match(event.error?.message ?? '', new RegExp(`queue is full \\(${MAX_QUEUED_TASKS} tasks waiting\\).*another node`))
  assert.equal(h.worker.queued(), MAX_QUEUED_TASKS, 'the refused task took no place')

  await h.worker.cancelAll()
  assert.ok([blocker, ...waiting].every(task => task.state === TaskState.CANCELLED))
  assert.ok(waiting.every(task => task.lastSeq === 2), 'leaving the queue from the tail moved nobody up')
  assert.deepEqual(h.runs, ['blocker'])
  assertIdle(h)
})

test('GPUs: each task gets its own device ids; a freed one goes to the next task', async () => {
  const h = harness({ cpu: 8, memoryBytes: 4 * GiB, storageBytes: 10 * GiB, gpus: 2 })
  const [a, b, c] = [['a', 'sleep:100'], ['b', 'sleep:300'], ['c', 'sleep:10']].map(([id, step]) => h.worker.submit(spec(id, [step], { gpus: 1 }), 'master'))
  assert.equal(c.state, TaskState.QUEUED)
  assert.equal(h.worker.allocated().gpus, 2)
  await allEnded([a, b, c])
  assert.deepEqual(h.gpus.get('a'), ['0'])
  assert.deepEqual(h.gpus.get('b'), ['1'])
  assert.deepEqual(h.gpus.get('c'), ['0'], 'c got the GPU a gave back')
  assertIdle(h)
})

test('200 submissions of random sizes at once, some cancelled: capacity is never exceeded at any start, FIFO holds, and every task ends exactly once', async () => {
  const capacity: ResourceAmounts = { cpu: 4, memoryBytes: 8 * GiB, storageBytes: 20 * GiB, gpus: 2 }
  const task = fc.record({
    // Up to 5 CPU on a 4-CPU node: a few can never fit.
    cpu: fc.integer({ min: 1, max: 50 }).map(tenths => tenths / 10),
    memoryBytes: fc.integer({ min: 64 * 2 ** 20, max: 6 * GiB }),
    storageBytes: fc.integer({ min: 0, max: 12 * GiB }),
    gpus: fc.integer({ min: 0, max: 2 }),
    sleepMs: fc.integer({ min: 0, max: 15 }),
    cancelAfterMs: fc.option(fc.integer({ min: 0, max: 200 }), { freq: 5 })
  })
  await fc.assert(fc.asyncProperty(fc.array(task, { minLength: 200, maxLength: 200 }), async tasks => {
    const h = harness(capacity)
    const submitted = tasks.map((t, i) => h.worker.submit(spec(`t${i}`, [`sleep:${t.sleepMs}`, 'exit:0'], { cpu: t.cpu, memoryBytes: t.memoryBytes, storageBytes: t.storageBytes, gpus: t.gpus }), `master-${i % 4}`))
    const timers = tasks.flatMap((t, i) => t.cancelAfterMs != null ? [setTimeout(() => { submitted[i].cancel() }, t.cancelAfterMs)] : [])
    try {
      await allEnded(submitted)
    } finally {
      timers.forEach(clearTimeout)
    }
    assert.deepEqual(h.violations, [])
    for (const [i, t] of submitted.entries()) {
      const events = eventsOf(t)
      assert.deepEqual(events.map(event => event.seq), events.map((_, k) => k + 1), `t${i}: seq is not 1..n`)
      assert.equal(events.filter(event => isTerminal(event.state)).length, 1, `t${i}: not exactly one terminal event`)
      const neverFits = tasks[i].cpu > capacity.cpu
      assert.equal(t.state === TaskState.REJECTED, neverFits, `t${i}: ${TaskState[t.state]}`)
      if (!neverFits) assert.ok(t.state === TaskState.SUCCEEDED || t.state === TaskState.CANCELLED, `t${i}: ${TaskState[t.state]}`)
    }
    const ran = submitted.map((_, i) => `t${i}`).filter(id => h.runs.includes(id))
    assert.deepEqual(h.runs, ran, 'tasks started in the order they arrived')
    assert.ok(h.runs.length < submitted.length, 'some never ran')
    assert.ok(submitted.some(t => positions(t).length > 0), 'some were queued')
    assertIdle(h)
  }), { numRuns: 4, endOnFailure: true })
})
