import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FramedStream } from '../../node/src/protocol/framing.ts'
import { Follower } from '../../node/src/master/follower.ts'
import { OTHER_EVENTS_ALLOWANCE_BYTES, OutputAllowance } from '../../node/src/master/output-allowance.ts'
import type { WorkerLink } from '../../node/src/master/worker-link.ts'
import { silentLogger } from '../../node/src/logger.ts'
import { LogStream, MasterMessage, TaskState, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import { MAX_EVENT_FRAME_BYTES, MAX_MASTER_FRAME_BYTES } from '../../node/src/protocol/task-protocol.ts'
import { TaskStreams } from '../../node/src/protocol/task-streams.ts'
import { TASKS_PROTOCOL } from '../../node/src/protocol/tasks-protocol.ts'
import { TaskEvent as TaskEventCodec } from '../../protocols/task.ts'
import { MemoryNetwork, type MemoryPeer } from '../helpers/memory-peers.ts'
import { storedSpec, tempStore } from '../helpers/store.ts'

const MiB = 1024 * 1024
const LIMIT = MiB
const CHUNK = new Uint8Array(60 * 1024).fill(0x61)

/**
 * A worker that ignores the log limit: after the Submit it sends `events(taskId)` as fast as
 * the master acknowledges them, then ends the task.
 */
async function hostileWorker (network: MemoryNetwork, events: (taskId: string) => Iterable<Omit<TaskEvent, 'taskId' | 'seq' | 'timeMs'>>): Promise<MemoryPeer> {
  const peer = await network.peer()
  await peer.handle(TASKS_PROTOCOL, async stream => {
    const framed = new FramedStream(stream, MAX_MASTER_FRAME_BYTES)
    const submit = await framed.read(MasterMessage, AbortSignal.timeout(5_000))
    const taskId = submit.submit!.spec!.id
    // Read the master's acks as they come, so its window never fills.
    void (async () => { try { for (;;) await framed.read(MasterMessage, AbortSignal.timeout(60_000)) } catch {} })()
    let seq = 0
    for (const detail of events(taskId)) await framed.write({ taskId, seq: ++seq, timeMs: Date.now(), ...detail }, TaskEventCodec, AbortSignal.timeout(10_000))
    await framed.write({ taskId, seq: ++seq, timeMs: Date.now(), state: TaskState.SUCCEEDED, exit: { code: 0, oomKilled: false, timedOut: false } }, TaskEventCodec, AbortSignal.timeout(10_000))
  })
  return peer
}

/** Follow a task on `worker` as the master does, recording what it keeps in `store`. */
async function follow (network: MemoryNetwork, worker: MemoryPeer, taskId: string, store = tempStore()): Promise<ReturnType<typeof tempStore>> {
  const master = await network.peer()
  const spec = storedSpec(taskId)
  store.createTask({ spec, role: 'submitted', peerId: worker.peerId.toString(), peerName: 'hostile' })
  const link: WorkerLink = {
    submit: async (task, signal) => await new TaskStreams(master).submit(worker.peerId.toString(), task, signal),
    attach: async () => { throw new Error('not used') },
    cancel: async () => { throw new Error('not used') },
    status: async () => { throw new Error('not used') },
    watch: () => () => {},
    resumeAfter: seq => seq
  }
  const stopped = new AbortController()
  const follower = new Follower({
    link,
    lostAfterMs: 60_000,
    log: silentLogger(),
    stopped: stopped.signal,
    onEvent: (_task, event) => { store.recordEvent('submitted', 1, event) },
    onReachability: () => {},
    onNote: () => {}
  }, { spec, peerId: worker.peerId.toString(), peerName: 'hostile' }, 0, new OutputAllowance(LIMIT))
  await follower.submit()
  await follower.done
  return store
}

test('a worker that sends 16 MiB of output past a 1 MiB log limit makes the master store at most the limit, then one truncation, then the end', async () => {
  const network = new MemoryNetwork()
  const worker = await hostileWorker(network, function * () {
    yield { state: TaskState.RUNNING, containerId: 'c' }
    for (let i = 0; i < 16 * MiB / CHUNK.byteLength; i++) yield { state: TaskState.RUNNING, log: { stream: LogStream.STDOUT, data: CHUNK, segments: [] } }
  })
  const store = await follow(network, worker, 'flooded')
  const totals = store.outputTotals('flooded', 1)
  const events = store.events('flooded', 1, 1, 100_000)
  console.log(`hostile worker sent 16 MiB of output: master stored ${(totals.stdoutBytes / MiB).toFixed(2)} MiB in ${events.length} events (limit ${LIMIT / MiB} MiB)`)
  assert.ok(totals.storedBytes <= LIMIT, `stored ${totals.storedBytes}`)
  assert.ok(totals.stdoutBytes > LIMIT - 2 * CHUNK.byteLength, 'output below the limit is kept')
  assert.equal(events.filter(event => event.truncated != null).length, 1)
  assert.equal(store.task('flooded', 'submitted')?.state, TaskState.SUCCEEDED, 'the end is recorded')
  assert.ok(store.historyBytes() < 4 * MiB, `the store holds ${store.historyBytes()} bytes`)
})

test('a worker that sends endless events that change nothing makes the master store a bounded amount of them', async () => {
  const network = new MemoryNetwork()
  const worker = await hostileWorker(network, function * () {
    yield { state: TaskState.PULLING }
    for (let i = 0; i < 20_000; i++) yield { state: TaskState.PULLING, pull: { doneBytes: i, totalBytes: 1e12 } }
  })
  const store = await follow(network, worker, 'chatty')
  const events = store.events('chatty', 1, 1, 200_000)
  console.log(`hostile worker sent 20,000 pull events: master stored ${events.length} events`)
  assert.ok(events.length < 20_000 * 3 / 4)
  assert.ok(events.length * 64 <= OTHER_EVENTS_ALLOWANCE_BYTES + 4096)
  assert.equal(store.task('chatty', 'submitted')?.state, TaskState.SUCCEEDED)
})

test('a log chunk whose segments do not add up to its data, or too large with them, ends the stream as a protocol error', async () => {
  for (const log of [
    { stream: LogStream.STDOUT, data: Uint8Array.of(1, 2, 3), segments: [{ stream: LogStream.STDOUT, length: 1 }, { stream: LogStream.STDERR, length: 1 }] },
    { stream: LogStream.STDOUT, data: Uint8Array.of(1, 2, 3), segments: [{ stream: LogStream.STDOUT, length: 3 }] },
    { stream: LogStream.STDOUT, data: Uint8Array.of(1, 2), segments: [{ stream: LogStream.STDOUT, length: 0 }, { stream: LogStream.STDERR, length: 2 }] },
    { stream: LogStream.STDOUT, data: new Uint8Array(MAX_EVENT_FRAME_BYTES - 2048), segments: Array.from({ length: 200 }, (_, i) => ({ stream: i % 2 === 0 ? LogStream.STDOUT : LogStream.STDERR, length: i < 199 ? 1 : MAX_EVENT_FRAME_BYTES - 2048 - 199 })) }
  ]) {
    const network = new MemoryNetwork()
    const master = await network.peer()
    const worker = await hostileWorker(network, function * () { yield { state: TaskState.RUNNING, log } })
    const session = await new TaskStreams(master).submit(worker.peerId.toString(), storedSpec('bad-segments'))
    await assert.rejects(async () => { for await (const _event of session.events) {} }, (err: Error & { code?: string }) => err.code === 'PROTOCOL', JSON.stringify(log.segments.slice(0, 3)))
  }
})
