import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { pino } from 'pino'
import { createSimulatedExecutor, type SimulatedExecutor } from '../../node/src/executor/simulated.ts'
import type { TaskRequest } from '../../node/src/master/master.ts'
import { ProtocolError } from '../../node/src/errors.ts'
import { IDLE_TIMEOUT_MS } from '../../node/src/protocol/tasks-protocol.ts'
import { LogStream, TaskState, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import { taskFeed } from '../../node/src/store/feed.ts'
import { waitFor } from '../helpers/env.ts'
import { storeOf, workerOf } from '../helpers/internals.ts'
import { startOpenNode, type TestNode } from '../helpers/libp2p-pair.ts'
import { simTaskRequest, taskEvents } from '../helpers/sim.ts'
import { assertWellFormed, output, states } from '../helpers/task-checks.ts'

/**
 * Tasks through a node's master role to a worker node, over real libp2p on loopback: by name
 * and by peer ID, cancelled through the master, and requests the master must refuse. The
 * protocol itself, byte by byte, is tested over memory streams in test/unit/task-protocol.test.ts.
 */

/** A case that must not wait for a deadline ends well inside this. */
const PROMPT_MS = IDLE_TIMEOUT_MS / 2
/** The longest any wait may take: the protocol deadline plus generous slack for a loaded machine. */
const BOUND_MS = IDLE_TIMEOUT_MS + 5_000
const CAPACITY = { cpu: 4, memoryBytes: 8 * 2 ** 30, storageBytes: 100 * 2 ** 30, gpus: 0 }

/** The simulated executor, counting every run it is asked for. */
interface CountingExecutor extends SimulatedExecutor {
  runs: () => number
}

function countingExecutor (): CountingExecutor {
  const inner = createSimulatedExecutor()
  let runs = 0
  return {
    ...inner,
    run: async (task, observer, signal) => {
      runs++
      return inner.run(task, observer, signal)
    },
    runs: () => runs
  }
}

let executor: CountingExecutor
let worker: TestNode
let master: TestNode
/** What the worker logged at warn level or above ("a task stream failed, or a task sent on it was refused"). */
const workerWarnings: Array<{ msg: string, err?: string }> = []

before(async () => {
  executor = countingExecutor()
  const log = pino({ level: 'warn' }, { write: (line: string) => { workerWarnings.push(JSON.parse(line)) } })
  worker = await startOpenNode('worker', { executor, capacity: CAPACITY, log })
  master = await startOpenNode('master')
  await master.node.connect(worker.addr.toString())
})

after(async () => {
  await master?.close()
  await worker?.close()
})

const request = simTaskRequest

/** Submit through the master role to `target` and read every event, all within `boundMs`. */
async function run (command: string[], target = 'worker', boundMs = BOUND_MS): Promise<{ taskId: string, events: TaskEvent[] }> {
  const submitted = await master.node.tasks.submit(target, request(command))
  return { taskId: submitted.taskId, events: await taskEvents(master.node, submitted.taskId, boundMs) }
}

async function assertWorkerStillServes (): Promise<void> {
  const { taskId, events } = await run(['out:still here'])
  assertWellFormed(events, taskId)
  assert.equal(events.at(-1)!.state, TaskState.SUCCEEDED)
  assert.equal(output(events, LogStream.STDOUT).toString(), 'still here\n')
}

async function assertNothingRunning (): Promise<void> {
  assert.ok(await waitFor(() => executor.running() === 0 && workerOf(worker.node).active().length === 0, BOUND_MS),
    `still running: ${executor.running()} containers, ${workerOf(worker.node).active().length} active tasks`)
}

test('a submit by name streams PULLING → STARTING → RUNNING → logs → SUCCEEDED with seq 1..n', async () => {
  const { taskId, events } = await run(['out:hello', 'err:oops', 'sleep:20', 'out:bye'])
  assertWellFormed(events, taskId)
  assert.deepEqual(states(events), ['PULLING', 'STARTING', 'RUNNING', 'SUCCEEDED'])
  assert.ok(events.some(event => event.state === TaskState.PULLING && event.pull != null && event.pull.totalBytes > 0), 'no pull progress')
  assert.match(events.find(event => event.state === TaskState.RUNNING)?.containerId ?? '', /^[0-9a-f]{64}$/)
  assert.equal(output(events, LogStream.STDOUT).toString(), 'hello\nbye\n')
  assert.equal(output(events, LogStream.STDERR).toString(), 'oops\n')
  assert.deepEqual(events.at(-1)!.exit, { code: 0, oomKilled: false, timedOut: false })
  const logs = events.filter(event => event.log != null)
  assert.ok(logs.every(event => event.state === TaskState.RUNNING), 'a log event outside RUNNING')
  const onWorker = workerOf(worker.node).get(taskId)
  assert.equal(onWorker?.state, TaskState.SUCCEEDED)
  assert.equal(onWorker?.submitter, master.node.peerId.toString())
  assert.equal(onWorker?.lastSeq, events.length)
})

test('a submit by peer ID works the same, and finished tasks leave no stream errors on the worker', async () => {
  const { taskId, events } = await run(['out:by id'], worker.node.peerId.toString())
  assertWellFormed(events, taskId)
  assert.equal(events.at(-1)!.state, TaskState.SUCCEEDED)
  assert.equal(output(events, LogStream.STDOUT).toString(), 'by id\n')
  // Give a late reset or close failure time to be logged.
  await new Promise(resolve => setTimeout(resolve, 200))
  const streamErrors = workerWarnings.filter(line => line.msg === 'a task stream failed, or a task sent on it was refused')
  assert.deepEqual(streamErrors, [], 'normal tasks ended with stream errors on the worker')
})

test('the master\'s cancel ends a running task CANCELLED', async () => {
  const submitted = await master.node.tasks.submit('worker', request(['out:started', 'sleep:60000', 'out:never']))
  const events: TaskEvent[] = []
  const started = performance.now()
  let cancelledAt = 0
  const record = master.node.tasks.record(submitted.taskId, 'submitted')!
  for await (const item of taskFeed(storeOf(master.node), submitted.taskId, record.attempt, { follow: true, signal: AbortSignal.timeout(BOUND_MS) })) {
    if (!('event' in item)) continue
    events.push(item.event)
    if (item.event.log != null && cancelledAt === 0) {
      cancelledAt = performance.now()
      const outcome = await master.node.tasks.cancel(submitted.taskId)
      assert.equal(outcome.cancelled, true)
    }
  }
  assertWellFormed(events, submitted.taskId)
  const last = events.at(-1)!
  assert.equal(TaskState[last.state], 'CANCELLED')
  assert.equal(last.exit?.code, 143)
  assert.equal(output(events, LogStream.STDOUT).toString(), 'started\n')
  assert.ok(cancelledAt > 0 && performance.now() - cancelledAt < PROMPT_MS, `took ${Math.round(performance.now() - started)} ms`)
  await assertNothingRunning()
})

test('the master role refuses an invalid request clearly, for a peer and for self, and nothing runs', async () => {
  // The embedded CLI path calls master.submit directly (no API validation in front of it).
  const runs = executor.runs()
  const masterRuns = () => executor.runs() - runs
  const env = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`VAR_${i}`, 'x']))
  const cases: Array<[string, string, TaskRequest]> = [
    ['600 env vars to a peer', 'worker', request(['exit:0'], { env })],
    ['NaN CPU to a peer', 'worker', request(['exit:0'], { resources: { cpu: Number.NaN, memoryBytes: 2 ** 20, storageBytes: 0, gpus: 0 } })],
    ['negative memory to a peer', 'worker', request(['exit:0'], { resources: { cpu: 1, memoryBytes: -1, storageBytes: 0, gpus: 0 } })],
    ['600 env vars to self', 'self', request(['exit:0'], { env })],
    ['an empty image to self', 'self', request(['exit:0'], { image: '' })]
  ]
  const failures: string[] = []
  for (const [why, target, taskRequest] of cases) {
    // Either master.submit refuses with ProtocolError before sending anything, or the task's
    // only event is REJECTED with INVALID_SPEC. A stream that breaks halfway is no clear answer.
    const submitted = await master.node.tasks.submit(target, taskRequest).catch((err: Error) => err)
    if (submitted instanceof Error) {
      if (!(submitted instanceof ProtocolError)) failures.push(`${why}: submit threw ${submitted.name}: ${submitted.message}`)
      continue
    }
    let events: TaskEvent[]
    try {
      events = await taskEvents(master.node, submitted.taskId, BOUND_MS)
    } catch (err: any) {
      failures.push(`${why}: the task did not end cleanly: ${err?.name}: ${err?.message}`)
      continue
    }
    const last = events.at(-1)
    if (events.length !== 1 || last?.state !== TaskState.REJECTED || last.error?.code !== 'INVALID_SPEC') {
      failures.push(`${why}: ended ${last != null ? TaskState[last.state] : 'without events'} ${last?.error?.code ?? ''} after ${events.length} events`)
    }
  }
  assert.deepEqual(failures, [])
  assert.equal(masterRuns(), 0, 'an invalid request reached an executor')
  await assertWorkerStillServes()
})
