import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { LogStream, TaskState, type TaskEvent, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import { EventCursor } from '../../node/src/protocol/ack-window.ts'
import { WorkerTask } from '../../node/src/worker/worker-task.ts'
import { EVENT_COST_BYTES, eventCost, MAX_LOG_CHUNK_BYTES, outputPieces, SEGMENT_COST_BYTES } from '../../node/src/protocol/task-output.ts'
import { MAX_EVENT_FRAME_BYTES } from '../../node/src/protocol/task-protocol.ts'
import { TaskEvent as TaskEventCodec } from '../../protocols/task.ts'
import { output } from '../helpers/task-checks.ts'
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

function newTask (id: string, logLimitBytes = 16 * 1024 * 1024, outputDelayMs?: number): { task: WorkerTask, store: ReturnType<typeof tempStore> } {
  const store = tempStore()
  const spec = { ...SPEC, id }
  store.createTask({ spec, role: 'executed', peerId: 'master', peerName: '' })
  return { task: new WorkerTask(spec, 'master', store, { logLimitBytes, outputDelayMs }), store }
}

function runToEnd (task: WorkerTask): void {
  task.append({ state: TaskState.RUNNING, containerId: 'c' })
  for (let i = 0; i < CHUNKS; i++) task.append({ log: { stream: LogStream.STDOUT, data: chunk(i), segments: [] } })
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
  for (let i = 0; i < 100; i++) task.append({ state: TaskState.RUNNING, log: { stream: LogStream.STDOUT, data: chunk(i).subarray(0, 10), segments: [] } })
  const subscription = new EventCursor(task)
  const signal = AbortSignal.timeout(5_000)
  let delivered = 0
  await assert.rejects(async () => {
    while (await subscription.next(signal, 200) != null) delivered++
  }, (err: Error) => err.name === 'DeadlineError')
  assert.equal(delivered, 64)
})

test('output past the log limit is dropped after one truncation event: what is stored costs exactly the limit, and is a prefix', async () => {
  const limit = 5 * CHUNK + 1000
  const { task, store } = newTask('truncated', limit)
  runToEnd(task)
  const events = await readAll(new EventCursor(task))
  const truncations = events.filter(event => event.truncated != null)
  assert.equal(truncations.length, 1)
  assert.equal(truncations[0].truncated?.limitBytes, limit)
  assert.equal(events.at(-1)!.state, TaskState.SUCCEEDED, 'the end still arrives')
  const totals = store.outputTotals('truncated', 1)
  assert.equal(totals.storedBytes, limit, 'the limit counts what the output events cost to store')
  assert.equal(totals.stdoutBytes, logBytes(events))
  const costs = events.filter(event => event.log != null).reduce((sum, event) => sum + eventCost(event), 0)
  assert.equal(costs, limit)
  assert.deepEqual(output(events, LogStream.STDOUT), Buffer.concat(Array.from({ length: CHUNKS }, (_, i) => chunk(i))).subarray(0, logBytes(events)))
})

test('the log limit counts each event\'s overhead: a task writing a byte per event keeps a few hundred rows, not the limit in rows', async () => {
  const limit = 64 * 1024
  const { task, store } = newTask('tiny-events', limit)
  task.append({ state: TaskState.RUNNING, containerId: 'c' })
  for (let i = 0; i < 20_000; i++) task.append({ log: { stream: i % 2 === 0 ? LogStream.STDOUT : LogStream.STDERR, data: Uint8Array.of(i % 256), segments: [] } })
  task.append({ state: TaskState.SUCCEEDED, exit: { code: 0, oomKilled: false, timedOut: false } })
  const events = store.events('tiny-events', 1, 1, 100_000)
  const logEvents = events.filter(event => event.log != null).length
  console.log(`20,000 one-byte events under a 64 KiB limit: ${logEvents} output events stored (counting bytes alone: 20,000)`)
  assert.ok(logEvents <= limit / (EVENT_COST_BYTES + 2 * 'tiny-events'.length), `${logEvents} output events`)
  assert.ok(store.outputTotals('tiny-events', 1).storedBytes <= limit)
  assert.equal(events.filter(event => event.truncated != null).length, 1)
})

test('output that switches streams at every byte is batched: few events, each stream byte-exact, in the order written', async () => {
  const { task, store } = newTask('alternating', 16 * 1024 * 1024, 60_000)
  task.append({ state: TaskState.RUNNING, containerId: 'c' })
  const BYTES = 200_000
  // What was written, as (stream, byte) pairs in order: a byte naming the stream, then the byte.
  const written = Buffer.alloc(2 * BYTES)
  for (let i = 0; i < BYTES; i++) {
    const stream = i % 2 === 0 ? LogStream.STDOUT : LogStream.STDERR
    const byte = (i * 7) % 256
    written[2 * i] = stream === LogStream.STDOUT ? 0 : 1
    written[2 * i + 1] = byte
    task.appendOutput(stream, Uint8Array.of(byte))
  }
  task.append({ state: TaskState.SUCCEEDED, exit: { code: 0, oomKilled: false, timedOut: false } })
  const events = await readAll(new EventCursor(task))
  const logEvents = events.filter(event => event.log != null)
  console.log(`${BYTES} bytes alternating stdout/stderr: ${logEvents.length} output events (one per byte before batching)`)
  assert.ok(logEvents.length <= Math.ceil(BYTES * (1 + SEGMENT_COST_BYTES) / MAX_LOG_CHUNK_BYTES) + 1, `${logEvents.length} output events`)
  const read = Buffer.concat(logEvents.flatMap(event => outputPieces(event.log!).map(piece => {
    const pairs = Buffer.alloc(2 * piece.data.byteLength)
    piece.data.forEach((byte, i) => { pairs[2 * i] = piece.stream === LogStream.STDOUT ? 0 : 1; pairs[2 * i + 1] = byte })
    return pairs
  })))
  assert.ok(read.equals(written), 'the bytes of both streams, in the order written')
  for (const event of logEvents) assert.ok(TaskEventCodec.encode(event).byteLength <= MAX_EVENT_FRAME_BYTES, 'every event fits a frame')
  assert.equal(events.at(-1)!.state, TaskState.SUCCEEDED)
  assert.deepEqual(store.outputTotals('alternating', 1).stdoutBytes, BYTES / 2)
})

test('output that stops coming is recorded after a short delay, without another event to push it out', async () => {
  const { task } = newTask('delayed')
  task.append({ state: TaskState.RUNNING, containerId: 'c' })
  task.appendOutput(LogStream.STDOUT, new TextEncoder().encode('hello\n'))
  task.appendOutput(LogStream.STDERR, new TextEncoder().encode('oops\n'))
  const cursor = new EventCursor(task, 2)
  const event = await cursor.next(AbortSignal.timeout(5_000), 5_000)
  assert.deepEqual(outputPieces(event!.log!).map(piece => [piece.stream, Buffer.from(piece.data).toString()]), [[LogStream.STDOUT, 'hello\n'], [LogStream.STDERR, 'oops\n']])
})

test('a task detached as its node stops records nothing more: output waiting for its batch never reaches the closed store', async () => {
  const { task, store } = newTask('detached', 16 * 1024 * 1024, 5)
  task.append({ state: TaskState.RUNNING, containerId: 'c' })
  task.appendOutput(LogStream.STDOUT, new TextEncoder().encode('late\n'))
  task.detach()
  store.close()
  task.appendOutput(LogStream.STDOUT, new TextEncoder().encode('later\n'))
  assert.equal(task.append({ state: TaskState.SUCCEEDED, exit: { code: 0, oomKilled: false, timedOut: false } }), undefined)
  // Past the batch's delay: a write to the closed store would throw from its timer and fail this file.
  await delay(50)
  assert.equal(task.finished, false)
})

test('a task restored from the store goes on from its last seq and keeps counting toward the limit', async () => {
  const { task, store } = newTask('restored', 3 * CHUNK)
  task.append({ state: TaskState.RUNNING, containerId: 'c' })
  task.append({ log: { stream: LogStream.STDOUT, data: chunk(1), segments: [] } })
  task.append({ log: { stream: LogStream.STDERR, data: chunk(2), segments: [] } })
  const record = store.task('restored', 'executed')!
  assert.equal(record.lastSeq, 3)
  const totals = store.outputTotals('restored', 1)
  const again = new WorkerTask(record.spec, 'master', store, {
    logLimitBytes: 3 * CHUNK,
    restored: { state: record.state, lastSeq: record.lastSeq, logBytes: totals.storedBytes, outputBytes: totals.stdoutBytes + totals.stderrBytes, truncated: totals.truncated }
  })
  again.append({ log: { stream: LogStream.STDOUT, data: chunk(3), segments: [] } })
  again.append({ log: { stream: LogStream.STDOUT, data: chunk(4), segments: [] } })
  again.append({ state: TaskState.SUCCEEDED, exit: { code: 0, oomKilled: false, timedOut: false } })
  const events = await readAll(new EventCursor(again))
  assert.deepEqual(events.map(event => event.seq), [1, 2, 3, 4, 5, 6])
  assert.equal(store.outputTotals('restored', 1).storedBytes, 3 * CHUNK, 'the limit counts what was stored before the restart')
  assert.ok(events[4].truncated != null)
})
