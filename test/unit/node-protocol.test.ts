import type { PeerId, Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { NodeResponse, Status } from '../../protocols/node.ts'
import {
  MAX_NODE_FRAME_BYTES,
  NODE_PROTOCOL,
  NODE_REQUEST_TIMEOUT_MS,
  requestStatus
} from '../../node/src/protocol/node-protocol.ts'
import { readUntilEnd, type StreamOutcome, varint } from '../helpers/streams.ts'
import { MemoryNetwork, type MemoryPeer } from '../helpers/memory-peers.ts'
import { startProtocolWorker, type ProtocolWorker } from '../helpers/protocol-worker.ts'

/**
 * /cloudai/node/1.0.0 over in-memory streams: a server (a worker serving it as a node does),
 * hostile requests, and the dialer against fake peers. A node's own Status, and what libp2p's
 * per-connection limits do, are tested between nodes in test/sim/node-protocol.test.ts.
 */

/** A case the server must refuse on its own (not by waiting for its deadline) ends well inside this. */
const PROMPT_MS = NODE_REQUEST_TIMEOUT_MS / 2
/** The longest any case may take: the protocol deadline plus generous slack for a loaded machine. */
const BOUND_MS = NODE_REQUEST_TIMEOUT_MS + 5_000
/** The request deadline of the server and dialer that the deadline tests wait out: short, so they do not wait 5 s. */
const SHORT_REQUEST_MS = 1_000
const DIALER_ERRORS = ['ProtocolError', 'DeadlineError', 'UnexpectedEndError']

const network = new MemoryNetwork()
/** Serves the node protocol with production's deadline. */
let server: ProtocolWorker
/** The same with a short deadline, for streams that stall. */
let hasty: ProtocolWorker
let client: MemoryPeer
/** Dials fake peers with requestStatus. */
let dialer: MemoryPeer

before(async () => {
  server = await startProtocolWorker(network, { name: 'server' })
  hasty = await startProtocolWorker(network, { name: 'server', requestTimeoutMs: SHORT_REQUEST_MS })
  client = await network.peer()
  dialer = await network.peer()
})

after(async () => {
  await hasty?.close()
  await server?.close()
})

/** Open a raw node-protocol stream from the client to `to` and send `bytes` as they are. */
async function rawStream (bytes?: Uint8Array, to: PeerId = server.peer.peerId): Promise<Stream> {
  const stream = await client.dialProtocol(to, NODE_PROTOCOL, { signal: AbortSignal.timeout(BOUND_MS) })
  if (bytes != null) stream.send(bytes)
  return stream
}

/** The frames a server sent back, decoded as responses. */
function responses (outcome: StreamOutcome): NodeResponse[] {
  const frames = [...lp.decode([outcome.bytes], { maxDataLength: MAX_NODE_FRAME_BYTES })]
  return frames.map(frame => NodeResponse.decode(frame))
}

/** The server sent no answer and cut the stream (reset, or an early end without a frame). */
function assertRefusedWithoutAnswer (outcome: StreamOutcome, why: string): void {
  assert.notEqual(outcome.end, 'timeout', `${why}: the server left the stream open`)
  assert.equal(outcome.bytes.length, 0, `${why}: the server answered ${outcome.bytes.length} bytes`)
}

async function assertServerStillAnswers (to: PeerId = server.peer.peerId): Promise<void> {
  const { status } = await requestStatus(client, to)
  assert.equal(status.name, 'server')
}

test('an oversized length prefix is refused at once', async () => {
  const stream = await rawStream(Uint8Array.from([...varint(MAX_NODE_FRAME_BYTES + 1), 1, 2, 3]))
  const outcome = await readUntilEnd(stream, BOUND_MS)
  assertRefusedWithoutAnswer(outcome, 'oversized prefix')
  assert.ok(outcome.elapsedMs < PROMPT_MS, `took ${outcome.elapsedMs} ms`)
  await assertServerStillAnswers()
})

test('a frame one byte over the size limit is refused; a frame at the limit is read and answered', async () => {
  const tooBig = lp.encode.single(new Uint8Array(MAX_NODE_FRAME_BYTES + 1)).subarray()
  const refused = await readUntilEnd(await rawStream(tooBig), BOUND_MS)
  assertRefusedWithoutAnswer(refused, 'frame over the limit')

  // Exactly the limit: one unknown bytes field (field 15: tag, 3-byte length, payload) filling the frame.
  const header = Uint8Array.from([0x7a, ...varint(MAX_NODE_FRAME_BYTES - 4)])
  assert.equal(header.length, 4)
  const atLimit = new Uint8Array(MAX_NODE_FRAME_BYTES)
  atLimit.set(header)
  const outcome = await readUntilEnd(await rawStream(lp.encode.single(atLimit).subarray()), BOUND_MS)
  assert.equal(outcome.end, 'closed', `frame at the limit: ${outcome.end} ${outcome.error?.name ?? ''}`)
  assert.equal(responses(outcome)[0]?.error?.code, 'UNKNOWN_REQUEST')
  await assertServerStillAnswers()
})

test('an endless varint is refused at once', async () => {
  const stream = await rawStream(new Uint8Array(20).fill(0xff))
  const outcome = await readUntilEnd(stream, BOUND_MS)
  assertRefusedWithoutAnswer(outcome, 'endless varint')
  assert.ok(outcome.elapsedMs < PROMPT_MS, `took ${outcome.elapsedMs} ms`)
  await assertServerStillAnswers()
})

test('a truncated frame followed by close is refused at once', async () => {
  const stream = await rawStream(Uint8Array.from([...varint(10), 1, 2, 3]))
  await stream.close({ signal: AbortSignal.timeout(BOUND_MS) })
  const outcome = await readUntilEnd(stream, BOUND_MS)
  assertRefusedWithoutAnswer(outcome, 'truncated frame')
  assert.ok(outcome.elapsedMs < PROMPT_MS, `took ${outcome.elapsedMs} ms`)
  await assertServerStillAnswers()
})

test('garbage protobuf inside a valid frame is refused without an answer', async () => {
  const garbage = [
    Uint8Array.from([0x0f]), // field 1 with wire type 7, which does not exist
    Uint8Array.from([0x0a, 0x05, 0x01]), // field 1 claims 5 bytes, has 1
    Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // field 1 claims 4 GiB
    new Uint8Array(32).fill(0xff) // a tag varint that never ends
  ]
  for (const bytes of garbage) {
    const outcome = await readUntilEnd(await rawStream(lp.encode.single(bytes).subarray()), BOUND_MS)
    assertRefusedWithoutAnswer(outcome, `garbage ${Buffer.from(bytes).toString('hex')}`)
    assert.ok(outcome.elapsedMs < PROMPT_MS, `took ${outcome.elapsedMs} ms`)
  }
  await assertServerStillAnswers()
})

test('a request with no field set gets an UNKNOWN_REQUEST error reply', async () => {
  // An empty request, and one with only a field this version does not know (a newer peer's request).
  for (const request of [new Uint8Array(0), Uint8Array.from([0x78, 0x01])]) { // field 15, a varint
    const stream = await rawStream(lp.encode.single(request).subarray())
    const outcome = await readUntilEnd(stream, BOUND_MS)
    assert.equal(outcome.end, 'closed', `the server did not close the stream cleanly (${outcome.end}, ${outcome.error?.name})`)
    const [reply, ...rest] = responses(outcome)
    assert.equal(rest.length, 0)
    assert.equal(reply.status, undefined)
    assert.equal(reply.error?.code, 'UNKNOWN_REQUEST')
    assert.ok((reply.error?.message.length ?? 0) > 0)
    await stream.close({ signal: AbortSignal.timeout(BOUND_MS) }).catch(() => {})
  }
  await assertServerStillAnswers()
})

/** Start a fake peer whose node-protocol handler is `handler`; `run` gets it. */
async function withFakePeer<T> (handler: (stream: Stream) => void, run: (fake: MemoryPeer) => Promise<T>): Promise<T> {
  const fake = await network.peer()
  await fake.handle(NODE_PROTOCOL, stream => { handler(stream) })
  return await run(fake)
}

/** requestStatus against `fake` must reject with one of the named protocol errors, and within its deadline. */
async function assertRequestFails (fake: MemoryPeer, expected: string | string[], options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<{ elapsedMs: number }> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  // The dialer's deadline plus slack, as BOUND_MS is for the production deadline.
  const boundMs = (options.timeoutMs ?? NODE_REQUEST_TIMEOUT_MS) + 5_000
  const hang = new Promise<'hang'>(resolve => { timer = setTimeout(() => { resolve('hang') }, boundMs) })
  try {
    const result = await Promise.race([requestStatus(dialer, fake.peerId, options).then(() => 'resolved' as const, (err: unknown) => err), hang])
    assert.notEqual(result, 'hang', 'requestStatus hung past its deadline')
    assert.notEqual(result, 'resolved', 'requestStatus accepted a bad answer')
    assert.ok(result instanceof Error, `rejected with a non-Error: ${String(result)}`)
    const names = Array.isArray(expected) ? expected : [expected]
    assert.ok(names.includes(result.name), `rejected with ${result.name} (${result.message}), expected ${names.join(' or ')}`)
    assert.ok(DIALER_ERRORS.includes(result.name))
    const elapsedMs = performance.now() - started
    const left = dialer.streamsTo(fake.peerId).filter(stream => stream.protocol === NODE_PROTOCOL && stream.status === 'open')
    assert.equal(left.length, 0, 'the failed request left its stream open')
    return { elapsedMs }
  } finally {
    clearTimeout(timer)
  }
}

function validStatus (overrides: Partial<Status> = {}): Status {
  return {
    imageIds: [],
    name: 'fake',
    version: '0.0.0',
    capacity: { cpu: 1, memoryBytes: 1, storageBytes: 1, gpus: 0 },
    allocated: { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 },
    running: 0,
    queued: 0,
    labels: new Map(),
    executorHealthy: true,
    executorDetail: '',
    storageEnforced: false,
    members: [],
    listenAddrs: [],
    ...overrides
  }
}

/** A handler that sends `bytes` (without reading the request) and closes its side. */
function answer (bytes: Uint8Array): (stream: Stream) => void {
  return stream => {
    stream.send(bytes)
    void stream.close().catch(() => {})
  }
}

function frame (response: NodeResponse): Uint8Array {
  return lp.encode.single(NodeResponse.encode(response)).subarray()
}

// Cases that wait for a deadline run side by side, each on its own stream, to keep the file quick.
describe('deadlines', { concurrency: true }, () => {
  test('silent and stalled streams are cut off by the server\'s deadline', async () => {
    const to = hasty.peer.peerId
    const silent = rawStream(undefined, to)
    const oneByte = rawStream(Uint8Array.from([0x05]), to)
    const fourBytesOfPrefix = rawStream(Uint8Array.from([0xff, 0xff, 0xff, 0xff]), to)
    const outcomes = await Promise.all([silent, oneByte, fourBytesOfPrefix].map(async stream => readUntilEnd(await stream, BOUND_MS)))
    for (const [i, outcome] of outcomes.entries()) {
      assertRefusedWithoutAnswer(outcome, `stalled stream ${i}`)
      // Cut by the deadline, not at once: a slow but honest peer gets its time.
      assert.ok(outcome.elapsedMs >= SHORT_REQUEST_MS / 2, `stalled stream ${i} was cut after only ${outcome.elapsedMs} ms`)
    }
    await assertServerStillAnswers(to)
  })

  test('dialer: a peer that never answers gives DeadlineError at the deadline, not later', async () => {
    await withFakePeer(() => {}, async fake => {
      const { elapsedMs } = await assertRequestFails(fake, 'DeadlineError', { timeoutMs: SHORT_REQUEST_MS })
      assert.ok(elapsedMs >= SHORT_REQUEST_MS / 2, `gave up after only ${elapsedMs} ms`)
    })
  })

  test('dialer: a peer that closes without answering gives UnexpectedEndError at once', async () => {
    await withFakePeer(stream => { void stream.close().catch(() => {}) }, async fake => {
      const { elapsedMs } = await assertRequestFails(fake, 'UnexpectedEndError')
      assert.ok(elapsedMs < PROMPT_MS, `took ${elapsedMs} ms`)
    })
  })

  test('dialer: a peer that sends half a frame and closes gives UnexpectedEndError at once', async () => {
    await withFakePeer(answer(Uint8Array.from([...varint(100), 1, 2, 3])), async fake => {
      const { elapsedMs } = await assertRequestFails(fake, 'UnexpectedEndError')
      assert.ok(elapsedMs < PROMPT_MS, `took ${elapsedMs} ms`)
    })
  })
})

describe('dialer', () => {
  test('a fake peer that answers correctly is accepted (the fake is sound)', async () => {
    await withFakePeer(answer(frame({ status: validStatus() })), async fake => {
      const { status } = await requestStatus(dialer, fake.peerId)
      assert.equal(status.name, 'fake')
    })
  })

  test('garbage answers are refused with ProtocolError, promptly', async () => {
    const answers: Array<[string, Uint8Array]> = [
      ['bad protobuf in a frame', lp.encode.single(Uint8Array.from([0x0f])).subarray()],
      ['an endless varint', new Uint8Array(20).fill(0xff)],
      ['an oversized length prefix', Uint8Array.from([...varint(MAX_NODE_FRAME_BYTES + 1), 0, 0])],
      ['a frame over the size limit', frame({ status: validStatus({ executorDetail: 'x'.repeat(MAX_NODE_FRAME_BYTES) }) })],
      ['a status that fails validation', frame({ status: validStatus({ name: '' }) })],
      ['negative resources', frame({ status: validStatus({ capacity: { cpu: -1, memoryBytes: 1, storageBytes: 1, gpus: 0 } }) })],
      ['10,000 member hints', frame({ status: validStatus({ members: Array.from({ length: 10_000 }, () => ({ peerId: new Uint8Array(0), addrs: [] })) }) })],
      ['an error reply', frame({ error: { code: 'UNKNOWN_REQUEST', message: 'no' } })],
      ['a response with no field set', lp.encode.single(new Uint8Array(0)).subarray()]
    ]
    for (const [what, bytes] of answers) {
      await withFakePeer(answer(bytes), async fake => {
        const { elapsedMs } = await assertRequestFails(fake, 'ProtocolError').catch(err => { throw new Error(`${what}: ${err.message}`) })
        assert.ok(elapsedMs < PROMPT_MS, `${what}: took ${elapsedMs} ms`)
      })
    }
  })

  test('the caller\'s own signal ends the request early', async () => {
    await withFakePeer(() => {}, async fake => {
      const { elapsedMs } = await assertRequestFails(fake, 'DeadlineError', { signal: AbortSignal.timeout(200) })
      assert.ok(elapsedMs < PROMPT_MS, `took ${elapsedMs} ms`)
    })
  })
})
