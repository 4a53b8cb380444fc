import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LogStream, TaskState, type TaskEvent, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import { FINISHED_LOG_HISTORY_BYTES, WorkerTask, type Subscription } from '../../node/src/worker/worker-task.ts'

const SPEC: TaskSpec = {
  id: 'history-test',
  image: 'busybox:1',
  command: [],
  env: {},
  resources: { cpu: 1, memoryBytes: 64 * 1024 * 1024, storageBytes: 0, gpus: 0 },
  network: 'none',
  labels: {},
  attempt: 1
}
const CHUNK = 64 * 1024
const CHUNKS = 32 // 2 MiB of output

function chunk (i: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(CHUNK).fill(i % 251)
}

function runToEnd (task: WorkerTask): void {
  task.append({ state: TaskState.RUNNING, containerId: 'c' })
  for (let i = 0; i < CHUNKS; i++) task.append({ log: { stream: LogStream.STDOUT, data: chunk(i) } })
  task.append({ state: TaskState.SUCCEEDED, exit: { code: 0, oomKilled: false, timedOut: false } })
}

/** Read everything a subscription delivers, acking as a master does. */
async function readAll (subscription: Subscription): Promise<TaskEvent[]> {
  const events: TaskEvent[] = []
  const signal = AbortSignal.timeout(5_000)
  for (let event = await subscription.next(signal, 1_000); event != null; event = await subscription.next(signal, 1_000)) {
    events.push(event)
    subscription.ack(event.seq)
  }
  return events
}

const logBytes = (events: TaskEvent[]): number => events.reduce((sum, event) => sum + (event.log?.data.byteLength ?? 0), 0)

test('a finished task with no reader keeps only its newest output in memory, and its end', async () => {
  const task = new WorkerTask(SPEC, 'master')
  runToEnd(task)
  const replay = await readAll(task.subscribe())
  assert.ok(logBytes(replay) <= FINISHED_LOG_HISTORY_BYTES, `kept ${logBytes(replay)} bytes`)
  assert.ok(logBytes(replay) > 0, 'the newest output is kept')
  assert.deepEqual(replay.filter(e => e.log != null).at(-1)!.log!.data, chunk(CHUNKS - 1), 'what is kept is the end of the output')
  assert.equal(replay.at(-1)!.state, TaskState.SUCCEEDED)
})

test('a reader attached before the end still gets every byte; the history shrinks once it leaves', async () => {
  const task = new WorkerTask(SPEC, 'master')
  const reader = task.subscribe()
  const reading = readAll(reader)
  // The writer waits for room as the runner does, so the reader is never more than a window behind.
  task.append({ state: TaskState.RUNNING, containerId: 'c' })
  for (let i = 0; i < CHUNKS; i++) {
    await task.waitForRoom(AbortSignal.timeout(5_000))
    task.append({ log: { stream: LogStream.STDOUT, data: chunk(i) } })
  }
  task.append({ state: TaskState.SUCCEEDED, exit: { code: 0, oomKilled: false, timedOut: false } })
  const events = await reading
  assert.equal(logBytes(events), CHUNKS * CHUNK, 'nothing the reader had not read was dropped')
  task.unsubscribe(reader)
  assert.ok(logBytes(await readAll(task.subscribe())) <= FINISHED_LOG_HISTORY_BYTES, 'after the reader left, the finished task keeps little')
})
