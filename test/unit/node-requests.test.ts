import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, test } from 'node:test'
import { NodeRequest, NodeResponse } from '../../protocols/node.ts'
import { TaskEvent as TaskEventCodec } from '../../protocols/task.ts'
import {
  attachToPeer,
  cancelOnPeer,
  MAX_NODE_FRAME_BYTES,
  NODE_PROTOCOL,
  NODE_REQUEST_TIMEOUT_MS,
  requestStatus
} from '../../node/src/protocol/node-protocol.ts'
import { isTerminal, TaskState, type TaskEvent, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import type { TaskSession } from '../../node/src/protocol/task-protocol.ts'
import { TaskStreams } from '../../node/src/protocol/task-streams.ts'
import { waitFor } from '../helpers/env.ts'
import { readUntilEnd, type StreamOutcome, varint } from '../helpers/streams.ts'
import { MemoryNetwork, type MemoryPeer } from '../helpers/memory-peers.ts'
import { startProtocolWorker, type ProtocolWorker } from '../helpers/protocol-worker.ts'
import { drain as drainWithin } from '../helpers/task-checks.ts'
import { NotSubmitterError, ProtocolError, TaskNotFoundError, UnexpectedEndError } from '../../node/src/errors.ts'

/**
 * Attach and Cancel on /cloudai/node/1.0.0 (docs/architecture.md) against a worker with the
 * simulated executor, served as a node serves it, over in-memory streams: well-formed
 * requests from the submitter and from a stranger, and hostile ones.
 */

/** A refusal the server decides on its own comes well inside this (not at its deadline). */
const PROMPT_MS = NODE_REQUEST_TIMEOUT_MS / 2
/** The longest any case may take: the protocol deadline plus slack for a loaded machine. */
const BOUND_MS = NODE_REQUEST_TIMEOUT_MS + 5_000

const network = new MemoryNetwork()
let server: ProtocolWorker
/** Submits the tasks below, so it may attach to them and cancel them. */
let submitter: MemoryPeer
/** Another member of the mesh, which submitted nothing. */
let stranger: MemoryPeer
/** A task that runs (sleeps) until it is cancelled. */
let runningId: string
let runningSession: TaskSession
/** A task that has ended (SUCCEEDED), and its events as the submitter saw them. */
let doneId: string
let doneEvents: TaskEvent[]

function spec (id: string, command: string[]): TaskSpec {
  return {
    id,
    image: '127.0.0.1:5000/cloudai/sim:1',
    command,
    env: {},
    resources: { cpu: 0.5, memoryBytes: 64 * 2 ** 20, storageBytes: 2 ** 20, gpus: 0 },
    network: 'none',
    labels: {},
    attempt: 1
  }
}

/** Every event of a session until its end, or an error after `boundMs`. */
async function drain (session: TaskSession, boundMs = BOUND_MS): Promise<TaskEvent[]> {
  return await drainWithin(session, boundMs)
}

before(async () => {
  server = await startProtocolWorker(network, { name: 'server', capacity: { cpu: 2, memoryBytes: 2 ** 30, storageBytes: 2 ** 30, gpus: 0 } })
  submitter = await network.peer()
  stranger = await network.peer()

  const tag = randomBytes(4).toString('hex')
  doneId = `nr-done-${tag}`
  doneEvents = await drain(await new TaskStreams(submitter).submit(server.peer.peerId.toString(), spec(doneId, ['out:hello', 'exit:0']), AbortSignal.timeout(BOUND_MS)))
  assert.equal(doneEvents.at(-1)?.state, TaskState.SUCCEEDED)

  runningId = `nr-running-${tag}`
  runningSession = await new TaskStreams(submitter).submit(server.peer.peerId.toString(), spec(runningId, ['sleep:120000']))
  const running = await waitFor(() => server.worker.get(runningId)?.state === TaskState.RUNNING, BOUND_MS, 20)
  assert.ok(running, `the long task is ${server.worker.get(runningId)?.state}, not RUNNING`)
})

after(async () => {
  await server?.close()
})

/** Open a raw node-protocol stream to the server and send `bytes` as they are. */
async function rawStream (bytes: Uint8Array, from: MemoryPeer = submitter): Promise<Stream> {
  const stream = await from.dialProtocol(server.peer.peerId, NODE_PROTOCOL, { signal: AbortSignal.timeout(BOUND_MS) })
  stream.send(bytes)
  return stream
}

const requestFrame = (request: NodeRequest): Uint8Array => lp.encode.single(NodeRequest.encode(request)).subarray()

/** Send one raw request and read everything the server sends back until it ends the stream. */
async function ask (request: NodeRequest | Uint8Array, from?: MemoryPeer): Promise<StreamOutcome & { response?: NodeResponse, events: TaskEvent[] }> {
  const stream = await rawStream(request instanceof Uint8Array ? lp.encode.single(request).subarray() : requestFrame(request), from)
  const outcome = await readUntilEnd(stream, BOUND_MS)
  await stream.close({ signal: AbortSignal.timeout(BOUND_MS) }).catch(() => {})
  const [first, ...rest] = [...lp.decode([outcome.bytes], { maxDataLength: MAX_NODE_FRAME_BYTES })]
  return {
    ...outcome,
    ...(first != null ? { response: NodeResponse.decode(first) } : {}),
    events: rest.map(frame => TaskEventCodec.decode(frame))
  }
}

function assertRefusedWithoutAnswer (outcome: StreamOutcome, why: string): void {
  assert.notEqual(outcome.end, 'timeout', `${why}: the server left the stream open`)
  assert.equal(outcome.bytes.length, 0, `${why}: the server answered ${outcome.bytes.length} bytes`)
  assert.ok(outcome.elapsedMs < PROMPT_MS, `${why}: took ${outcome.elapsedMs} ms`)
}

async function assertServerStillAnswers (): Promise<void> {
  const { status } = await requestStatus(stranger, server.peer.peerId)
  assert.equal(status.name, 'server')
  assert.equal(status.running, 1, 'the long task still runs')
}

/** The error a dialer call rejects with (it must reject within the bound). */
async function rejection (call: Promise<unknown>): Promise<Error & { code?: string }> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<'hang'>(resolve => { timer = setTimeout(() => { resolve('hang') }, BOUND_MS) })
  try {
    const result = await Promise.race([call.then(() => 'resolved' as const, (err: unknown) => err), bound])
    assert.notEqual(result, 'hang', 'the request hung')
    assert.notEqual(result, 'resolved', 'the request succeeded')
    assert.ok(result instanceof Error, `rejected with a non-Error: ${String(result)}`)
    return result
  } finally {
    clearTimeout(timer)
  }
}

const INVALID_IDS: Array<[string, string]> = [
  ['empty', ''],
  ['10,000 characters', 'a'.repeat(10_000)],
  ['a NUL', 'nr\u0000done'],
  ['../', '../'],
  ['a path', '../../etc/passwd'],
  ['a space', 'nr done'],
  ['a leading dot', '.hidden'],
  ['non-ASCII', 'tâche-1']
]

test('attach and cancel with an invalid task id are refused promptly, never answered as a task', async t => {
  const seen = new Set<string>()
  for (const [what, taskId] of INVALID_IDS) {
    for (const request of [{ attach: { taskId, fromSeq: 1 } }, { cancel: { taskId } }]) {
      const kind = request.attach != null ? 'attach' : 'cancel'
      const outcome = await ask(request)
      assert.notEqual(outcome.end, 'timeout', `${kind} with ${what}: the server left the stream open`)
      assert.ok(outcome.elapsedMs < PROMPT_MS, `${kind} with ${what}: took ${outcome.elapsedMs} ms`)
      assert.equal(outcome.response?.attached, undefined, `${kind} with ${what} was attached`)
      assert.equal(outcome.response?.cancelled, undefined, `${kind} with ${what} was cancelled`)
      assert.deepEqual(outcome.events, [])
      seen.add(outcome.bytes.length === 0 ? `no answer, stream ${outcome.end}` : `error ${outcome.response?.error?.code}, stream ${outcome.end}`)
    }
  }
  t.diagnostic(`invalid task ids get: ${[...seen].join('; ')}`)

  for (const [what, taskId] of INVALID_IDS.slice(0, 4)) {
    const attachError = await rejection(attachToPeer(submitter, server.peer.peerId, taskId, 1))
    const cancelError = await rejection(cancelOnPeer(submitter, server.peer.peerId, taskId))
    for (const err of [attachError, cancelError]) {
      assert.ok(err instanceof ProtocolError || err instanceof UnexpectedEndError || err instanceof TaskNotFoundError, `${what}: ${err.name} ${err.message}`)
    }
    t.diagnostic(`dialers with an invalid id (${what}): attach ${attachError.name}, cancel ${cancelError.name}`)
  }
  await assertServerStillAnswers()
})

test('attach and cancel of an unknown task: error NOT_FOUND, and the stream is closed cleanly', async () => {
  for (const request of [{ attach: { taskId: 'nr-unknown-1', fromSeq: 1 } }, { cancel: { taskId: 'nr-unknown-1' } }]) {
    const outcome = await ask(request)
    assert.equal(outcome.end, 'closed', `${outcome.end} ${outcome.error?.message ?? ''}`)
    assert.equal(outcome.response?.error?.code, 'NOT_FOUND')
    assert.ok((outcome.response?.error?.message.length ?? 0) > 0)
    assert.deepEqual(outcome.events, [])
    assert.ok(outcome.elapsedMs < PROMPT_MS)
  }
  for (const call of [attachToPeer(submitter, server.peer.peerId, 'nr-unknown-2', 1), cancelOnPeer(stranger, server.peer.peerId, 'nr-unknown-2')]) {
    const err = await rejection(call)
    assert.ok(err instanceof TaskNotFoundError, `${err.name}: ${err.message}`)
    assert.equal(err.code, 'UNKNOWN_TASK')
  }
  await assertServerStillAnswers()
})

test('a peer that did not submit a task may neither attach to it nor cancel it (FORBIDDEN)', async () => {
  for (const taskId of [runningId, doneId]) {
    for (const request of [{ attach: { taskId, fromSeq: 1 } }, { cancel: { taskId } }]) {
      const outcome = await ask(request, stranger)
      assert.equal(outcome.end, 'closed', `${outcome.end} ${outcome.error?.message ?? ''}`)
      assert.equal(outcome.response?.error?.code, 'FORBIDDEN')
      assert.deepEqual(outcome.events, [], 'a stranger was sent the task\'s events')
    }
    const attachError = await rejection(attachToPeer(stranger, server.peer.peerId, taskId, 1))
    assert.ok(attachError instanceof NotSubmitterError, `${attachError.name}: ${attachError.message}`)
    assert.equal(attachError.code, 'FORBIDDEN')
    const cancelError = await rejection(cancelOnPeer(stranger, server.peer.peerId, taskId))
    assert.ok(cancelError instanceof NotSubmitterError, `${cancelError.name}: ${cancelError.message}`)
    assert.equal(cancelError.code, 'FORBIDDEN')
  }
  assert.equal(server.worker.get(runningId)?.state, TaskState.RUNNING, 'a stranger\'s cancel stopped the task')
  assert.equal(server.worker.get(runningId)?.cancelSignal.aborted, false)
  await assertServerStillAnswers()
})

test('a request with two fields set is refused without an answer, and does nothing', async () => {
  const doubles: Array<[string, NodeRequest]> = [
    ['status + cancel', { status: {}, cancel: { taskId: runningId } }],
    ['attach + cancel', { attach: { taskId: runningId, fromSeq: 1 }, cancel: { taskId: runningId } }],
    ['status + attach', { status: {}, attach: { taskId: runningId, fromSeq: 1 } }],
    ['all three', { status: {}, attach: { taskId: doneId, fromSeq: 1 }, cancel: { taskId: runningId } }]
  ]
  for (const [what, request] of doubles) assertRefusedWithoutAnswer(await ask(request), what)
  // The same field twice on the wire is one field to protobuf (the last wins): answered, not refused.
  const twice = Uint8Array.from([...NodeRequest.encode({ cancel: { taskId: 'nr-unknown-3' } }), ...NodeRequest.encode({ cancel: { taskId: 'nr-unknown-4' } })])
  const outcome = await ask(twice)
  assert.equal(outcome.response?.error?.code, 'NOT_FOUND')
  assert.equal(server.worker.get(runningId)?.state, TaskState.RUNNING, 'a refused request cancelled the task')
  await assertServerStillAnswers()
})

test('attach to a finished task from seq 1, 0, a middle seq, past the end, and at the largest numbers', async t => {
  const last = doneEvents.at(-1)!.seq
  const all = doneEvents.map(event => event.seq)
  assert.deepEqual(all, Array.from({ length: last }, (_, i) => i + 1))

  // Through the dialer, as a master re-attaching does.
  const fromOne = await drain(await attachToPeer(submitter, server.peer.peerId, doneId, 1, AbortSignal.timeout(BOUND_MS)))
  assert.deepEqual(fromOne, doneEvents, 'a replay from 1 is every event, as first sent')
  const fromMiddle = await drain(await attachToPeer(submitter, server.peer.peerId, doneId, last - 1, AbortSignal.timeout(BOUND_MS)))
  assert.deepEqual(fromMiddle, doneEvents.slice(-2))
  const fromLast = await drain(await attachToPeer(submitter, server.peer.peerId, doneId, last, AbortSignal.timeout(BOUND_MS)))
  assert.deepEqual(fromLast.map(event => event.state), [TaskState.SUCCEEDED])

  // Raw: what the server does with each from_seq.
  const cases: Array<[string, number, number[]]> = [
    ['from_seq 0', 0, all],
    ['from_seq 1', 1, all],
    ['from_seq past the end', last + 1, []],
    ['from_seq far past the end', last + 1_000_000, []],
    ['from_seq 2^53 - 1', Number.MAX_SAFE_INTEGER, []]
  ]
  for (const [what, fromSeq, expected] of cases) {
    const outcome = await ask({ attach: { taskId: doneId, fromSeq } })
    assert.equal(outcome.end, 'closed', `${what}: ${outcome.end} ${outcome.error?.message ?? ''}`)
    assert.deepEqual(outcome.response?.attached, { state: TaskState.SUCCEEDED, lastSeq: last }, what)
    assert.deepEqual(outcome.events.map(event => event.seq), expected, what)
    assert.ok(outcome.elapsedMs < PROMPT_MS, `${what}: took ${outcome.elapsedMs} ms`)
  }
  // 2^53 cannot be a JS number exactly: the server cannot decode it and refuses the request.
  const attach = [0x0a, ...varint(doneId.length), ...new TextEncoder().encode(doneId), 0x10, ...varint(2 ** 53)]
  assertRefusedWithoutAnswer(await ask(Uint8Array.from([0x12, ...varint(attach.length), ...attach])), 'from_seq 2^53')

  // The dialer's view of the odd cases.
  const pastEnd = await attachToPeer(submitter, server.peer.peerId, doneId, last + 1, AbortSignal.timeout(BOUND_MS))
    .then(async session => drain(session))
    .then(events => `ends with ${events.length} events`, (err: Error) => `rejects with ${err.name} (${err.message})`)
  t.diagnostic(`attachToPeer past the end of a finished task: ${pastEnd}`)
  assert.ok(pastEnd === 'ends with 0 events' || pastEnd.startsWith('rejects with UnexpectedEndError'), pastEnd)
  const huge = await rejection(attachToPeer(submitter, server.peer.peerId, doneId, 2 ** 53))
  t.diagnostic(`attachToPeer from 2^53: ${huge.name} (${huge.message})`)

  const fromZero = await attachToPeer(submitter, server.peer.peerId, doneId, 0, AbortSignal.timeout(BOUND_MS))
    .then(async session => drain(session))
    .then(events => events.map(event => event.seq), (err: Error) => `${err.name}: ${err.message}`)
  assert.deepEqual(fromZero, all,
    'node/src/protocol/node-protocol.ts attachToPeer(…, 0): the server replays from 1 (Math.max(1, fromSeq)), but readTaskEvents expects seq 0 first')
  await assertServerStillAnswers()
})

test('cancel of a finished task answers its terminal state and changes nothing', async () => {
  const last = doneEvents.at(-1)!.seq
  for (let i = 0; i < 2; i++) {
    const reply = await cancelOnPeer(submitter, server.peer.peerId, doneId, AbortSignal.timeout(BOUND_MS))
    assert.deepEqual(reply, { state: TaskState.SUCCEEDED, cancelled: false, lastSeq: last })
  }
  assert.equal(server.worker.get(doneId)?.state, TaskState.SUCCEEDED)
  assert.equal(server.worker.get(doneId)?.lastSeq, last)
  assert.equal(server.store.task(doneId, 'executed')?.state, TaskState.SUCCEEDED)
  await assertServerStillAnswers()
})

test('the submitter attaches to its running task, cancels it, and every stream sees it end CANCELLED', async () => {
  const lastSeq = server.worker.get(runningId)!.lastSeq
  // A second reader, from the next event on: it waits for events that have not happened yet.
  const attached = await attachToPeer(submitter, server.peer.peerId, runningId, lastSeq + 1, AbortSignal.timeout(BOUND_MS))
  const reading = drain(attached)
  const replay = drain(await attachToPeer(submitter, server.peer.peerId, runningId, 1, AbortSignal.timeout(BOUND_MS)))
  const first = drain(runningSession)

  const reply = await cancelOnPeer(submitter, server.peer.peerId, runningId, AbortSignal.timeout(BOUND_MS))
  assert.equal(reply.state, TaskState.RUNNING, 'the cancel answers the state it found')
  assert.equal(reply.lastSeq, lastSeq)

  const live = await reading
  assert.equal(live[0]?.seq, lastSeq + 1)
  assert.equal(live.at(-1)?.state, TaskState.CANCELLED)
  const everything = await replay
  assert.deepEqual(everything.map(event => event.seq), Array.from({ length: everything.length }, (_, i) => i + 1))
  assert.deepEqual(everything.slice(lastSeq), live)
  assert.deepEqual(await first, everything, 'the Submit stream saw the same events')
  assert.ok(isTerminal(server.worker.get(runningId)!.state))

  const again = await cancelOnPeer(submitter, server.peer.peerId, runningId, AbortSignal.timeout(BOUND_MS))
  assert.deepEqual(again, { state: TaskState.CANCELLED, cancelled: false, lastSeq: everything.at(-1)!.seq })
  const { status } = await requestStatus(stranger, server.peer.peerId)
  assert.equal(status.running, 0)
  assert.equal(status.name, 'server')
})
