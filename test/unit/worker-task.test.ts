import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LogStream, TaskState, type TaskEvent, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import { EventCursor } from '../../node/src/protocol/ack-window.ts'
import { WorkerTask } from '../../node/src/worker/worker-task.ts'
import { tempStore } from '../helpers/store.ts'

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

function newTask (id: string, logLimitBytes = 16 * 1024 * 1024): { task: WorkerTask, store: ReturnType<typeof tempStore> } {
  const store = tempStore()
  const spec = { ...SPEC, id }
  store.createTask({ spec, role: 'executed', peerId: 'master', peerName: '' })
  return { task: new WorkerTask(spec, 'master', store, { logLimitBytes }), store }
}

function runToEnd (task: WorkerTask): void {
  task.append({ state: TaskState.RUNNING, containerId: 'c' })
  for (let i = 0; i < CHUNKS; i++) task.append({ log: { stream: LogStream.STDOUT, data: chunk(i) } })
  task.append({ state: TaskState.SUCCEEDED, exit: { code: 0, oomKilled: false, timedOut: false } })
}

/** Read everything a subscription delivers, acking as a master does. */
async function readAll (subscription: EventCursor): Promise<TaskEvent[]> {
  const events: TaskEvent[] = []
  const signal = AbortSignal.timeout(5_000)
  for (let event = await subscription.next(signal, 1_000); event != null; event = await subscription.next(signal, 1_000)) {
    events.push(event)
    subscription.ack(event.seq)
  }
  return events
}

const logBytes = (events: TaskEvent[]): number => events.reduce((sum, event) => sum + (event.log?.data.byteLength ?? 0), 0)

test('every event is in the store before a reader sees it, and a late reader replays all of them from any seq', async () => {
  const { task, store } = newTask('replay')
  runToEnd(task)
  assert.equal(store.task('replay', 'executed')?.state, TaskState.SUCCEEDED)
  const all = await readAll(new EventCursor(task))
  assert.deepEqual(all.map(event => event.seq), Array.from({ length: CHUNKS + 2 }, (_, i) => i + 1))
  assert.equal(logBytes(all), CHUNKS * CHUNK)
  const fromTen = await readAll(new EventCursor(task, 10))
  assert.deepEqual(fromTen, all.slice(9))
  assert.deepEqual(await readAll(new EventCursor(task, all.length + 1)), [], 'a reader past the end gets nothing and ends')
})

test('a reader attached before the end gets every byte live, without the writer ever waiting', async () => {
  const { task } = newTask('live')
  const reading = readAll(new EventCursor(task))
  runToEnd(task)
  const events = await reading
  assert.equal(logBytes(events), CHUNKS * CHUNK)
  assert.equal(events.at(-1)!.state, TaskState.SUCCEEDED)
})

test('a reader that stops acking gets at most the window, then waits (and gives up at its deadline)', async () => {
  const { task } = newTask('window')
  for (let i = 0; i < 100; i++) task.append({ state: TaskState.RUNNING, log: { stream: LogStream.STDOUT, data: chunk(i).subarray(0, 10) } })
  const subscription = new EventCursor(task)
  const signal = AbortSignal.timeout(5_000)
  let delivered = 0
  await assert.rejects(async () => {
    while (await subscription.next(signal, 200) != null) delivered++
  }, (err: Error) => err.name === 'DeadlineError')
  assert.equal(delivered, 64)
})

test('output past the log limit is dropped after one truncation event, exactly at the limit', async () => {
  const limit = 5 * CHUNK + 1000
  const { task, store } = newTask('truncated', limit)
  runToEnd(task)
  const events = await readAll(new EventCursor(task))
  assert.equal(logBytes(events), limit)
  const truncations = events.filter(event => event.truncated != null)
  assert.equal(truncations.length, 1)
  assert.equal(truncations[0].truncated?.limitBytes, limit)
  assert.equal(events.at(-1)!.state, TaskState.SUCCEEDED, 'the end still arrives')
  assert.deepEqual(store.outputTotals('truncated', 1), { stdoutBytes: limit, stderrBytes: 0, truncated: true })
})

test('a task restored from the store goes on from its last seq and keeps counting toward the limit', async () => {
  const { task, store } = newTask('restored', 3 * CHUNK)
  task.append({ state: TaskState.RUNNING, containerId: 'c' })
  task.append({ log: { stream: LogStream.STDOUT, data: chunk(1) } })
  task.append({ log: { stream: LogStream.STDERR, data: chunk(2) } })
  const record = store.task('restored', 'executed')!
  assert.equal(record.lastSeq, 3)
  const totals = store.outputTotals('restored', 1)
  const again = new WorkerTask(record.spec, 'master', store, {
    logLimitBytes: 3 * CHUNK,
    restored: { state: record.state, lastSeq: record.lastSeq, logBytes: totals.stdoutBytes + totals.stderrBytes, truncated: totals.truncated }
  })
  again.append({ log: { stream: LogStream.STDOUT, data: chunk(3) } })
  again.append({ log: { stream: LogStream.STDOUT, data: chunk(4) } })
  again.append({ state: TaskState.SUCCEEDED, exit: { code: 0, oomKilled: false, timedOut: false } })
  const events = await readAll(new EventCursor(again))
  assert.deepEqual(events.map(event => event.seq), [1, 2, 3, 4, 5, 6])
  assert.equal(logBytes(events), 3 * CHUNK)
  assert.ok(events[4].truncated != null)
})
