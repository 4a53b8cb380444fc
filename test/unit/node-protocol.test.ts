import type { Libp2p, Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { NodeResponse, Status } from '../../protocols/node.ts'
import {
  MAX_NODE_FRAME_BYTES,
  NODE_MAX_INBOUND_STREAMS,
  NODE_PROTOCOL,
  NODE_REQUEST_TIMEOUT_MS,
  requestStatus
} from '../../node/src/protocol/node-protocol.ts'
import { readUntilEnd, startBareMesh, startOpenNode, type StreamOutcome, type TestMesh, type TestNode, varint } from '../helpers/libp2p-pair.ts'
import { waitFor } from '../helpers/env.ts'

/** A case the server must refuse on its own (not by waiting for its deadline) ends well inside this. */
const PROMPT_MS = NODE_REQUEST_TIMEOUT_MS / 2
/** The longest any case may take: the protocol deadline plus generous slack for a loaded machine. */
const BOUND_MS = NODE_REQUEST_TIMEOUT_MS + 5_000
const DIALER_ERRORS = ['ProtocolError', 'DeadlineError', 'UnexpectedEndError']

const CAPACITY = { cpu: 3, memoryBytes: 6 * 2 ** 30, storageBytes: 50 * 2 ** 30, gpus: 1 }

let server: TestNode
let client: TestNode
/** A bare libp2p node that dials fake peers with requestStatus. */
let dialer: TestMesh

before(async () => {
  // A quick refresh: the server learns the client's listen addresses (identify) soon after the first probe.
  server = await startOpenNode('server', { capacity: CAPACITY, labels: { zone: 'lab' }, refreshIntervalMs: 200 })
  client = await startOpenNode('client', { capacity: { cpu: 1, memoryBytes: 2 ** 30, storageBytes: 2 ** 30, gpus: 0 } })
  dialer = await startBareMesh()
})

after(async () => {
  await dialer?.close()
  await client?.close()
  await server?.close()
})

/** Open a raw node-protocol stream from the client to the server and send `bytes` as they are. */
async function rawStream (bytes?: Uint8Array, from: Libp2p = client.node.libp2p): Promise<Stream> {
  // Bare nodes have no handler of their own to set the outbound limit (libp2p's default is 64).
  const stream = await from.dialProtocol(server.addr, NODE_PROTOCOL, { signal: AbortSignal.timeout(BOUND_MS), maxOutboundStreams: NODE_MAX_INBOUND_STREAMS + 1 })
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

async function assertServerStillAnswers (from: Libp2p = client.node.libp2p): Promise<void> {
  const { status } = await requestStatus(from, server.addr)
  assert.equal(status.name, 'server')
}

test('requestStatus returns the other node\'s name, capacity, labels and members', async () => {
  const { status, rttMs } = await requestStatus(client.node.libp2p, server.addr)
  assert.equal(status.name, 'server')
  assert.deepEqual(status.capacity, CAPACITY)
  assert.deepEqual(status.labels, { zone: 'lab' })
  assert.equal(status.executorHealthy, true)
  assert.equal(status.executorDetail, 'simulated executor')
  assert.ok(rttMs >= 0 && rttMs < BOUND_MS)

  // The server admits the client as a member once connected, and names it, with its addresses, in its answers.
  const clientId = client.node.peerId.toString()
  let addrs: string[] = []
  const listed = await waitFor(async () => {
    const { status } = await requestStatus(client.node.libp2p, server.node.peerId)
    addrs = status.members.find(member => member.peerId.toString() === clientId)?.addrs.map(addr => addr.toString()) ?? []
    return addrs.some(addr => addr.startsWith('/ip4/127.0.0.1/tcp/'))
  }, BOUND_MS, 100)
  assert.ok(listed, `the server never listed the client with a loopback address (last seen: [${addrs.join(', ')}])`)
})

/** Three times yamux's default `maxEarlyStreams`, within libp2p's default outbound limit of a bare dialer. */
const BURST = 32

test('a burst of requests on a fresh connection is answered even when the receiver is slow to set it up', async () => {
  // A peer that asks several things at once right after connecting (probes, a burst of submissions)
  // while the receiver is still setting the connection up (a loaded or just-started process, an
  // async gater): the muxer holds such early streams only up to its limit (10 by default), and past
  // it closes itself and every stream on the connection. The delay below stands in for that slowness.
  const slow = await startOpenNode('slow')
  const asker = await startBareMesh()
  try {
    const gater = (slow.node.libp2p as any).components?.connectionGater
    assert.ok(gater != null, 'cannot reach the libp2p connection gater to slow the upgrade down')
    gater.denyInboundUpgradedConnection = async () => {
      await new Promise(resolve => setTimeout(resolve, 200))
      return false
    }
    const results = await Promise.allSettled(Array.from({ length: BURST }, async () => requestStatus(asker.libp2p, slow.addr)))
    const failures = results.flatMap(result => result.status === 'rejected' ? [String(result.reason?.name)] : [])
    assert.deepEqual(failures, [], `${failures.length} of ${results.length} requests failed`)
    assert.equal((await requestStatus(asker.libp2p, slow.addr)).status.name, 'slow', 'the connection is unusable after the burst')
  } finally {
    await asker.close()
    await slow.close()
  }
})

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

/**
 * Start a fake peer whose node-protocol handler is `handler`; `run` gets its address.
 * The fake stops afterwards, whatever happened.
 */
async function withFakePeer<T> (handler: (stream: Stream) => void, run: (fake: TestMesh) => Promise<T>): Promise<T> {
  const fake = await startBareMesh()
  try {
    await fake.libp2p.handle(NODE_PROTOCOL, stream => { handler(stream) })
    return await run(fake)
  } finally {
    await fake.close()
  }
}

/** requestStatus against `fake` must reject with one of the named protocol errors, and within its deadline. */
async function assertRequestFails (fake: TestMesh, expected: string | string[], options: { signal?: AbortSignal } = {}): Promise<{ elapsedMs: number }> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<'hang'>(resolve => { timer = setTimeout(() => { resolve('hang') }, BOUND_MS) })
  try {
    const result = await Promise.race([requestStatus(dialer.libp2p, fake.addr, options).then(() => 'resolved' as const, (err: unknown) => err), hang])
    assert.notEqual(result, 'hang', 'requestStatus hung past its deadline')
    assert.notEqual(result, 'resolved', 'requestStatus accepted a bad answer')
    assert.ok(result instanceof Error, `rejected with a non-Error: ${String(result)}`)
    const names = Array.isArray(expected) ? expected : [expected]
    assert.ok(names.includes(result.name), `rejected with ${result.name} (${result.message}), expected ${names.join(' or ')}`)
    assert.ok(DIALER_ERRORS.includes(result.name))
    const elapsedMs = performance.now() - started
    const left = dialer.libp2p.getConnections(fake.libp2p.peerId).flatMap(connection => connection.streams)
      .filter(stream => stream.protocol === NODE_PROTOCOL && stream.status === 'open')
    assert.equal(left.length, 0, 'the failed request left its stream open')
    return { elapsedMs }
  } finally {
    clearTimeout(timer)
  }
}

function validStatus (overrides: Partial<Status> = {}): Status {
  return {
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

// Cases that wait for a deadline run side by side, each on its own connection, to keep the file quick.
describe('deadlines', { concurrency: true }, () => {
  test('silent and stalled streams are cut off by the server\'s deadline', async () => {
    const silent = rawStream()
    const oneByte = rawStream(Uint8Array.from([0x05]))
    const fourBytesOfPrefix = rawStream(Uint8Array.from([0xff, 0xff, 0xff, 0xff]))
    const outcomes = await Promise.all([silent, oneByte, fourBytesOfPrefix].map(async stream => readUntilEnd(await stream, BOUND_MS)))
    for (const [i, outcome] of outcomes.entries()) {
      assertRefusedWithoutAnswer(outcome, `stalled stream ${i}`)
      // Cut by the deadline, not at once: a slow but honest peer gets its time.
      assert.ok(outcome.elapsedMs >= PROMPT_MS, `stalled stream ${i} was cut after only ${outcome.elapsedMs} ms`)
    }
    await assertServerStillAnswers()
  })

  test('a peer holding every inbound stream slot gets no more, does not lock out another peer, and the slots come back', async () => {
    // Bare nodes: no membership probes of their own to take a slot.
    const holder = await startBareMesh()
    const other = await startBareMesh()
    try {
      // One answered request first, so the connection is fully set up on both sides before the flood.
      await assertServerStillAnswers(holder.libp2p)
      const stalled = await Promise.all(Array.from({ length: NODE_MAX_INBOUND_STREAMS }, async () => rawStream(undefined, holder.libp2p)))
      const extra = await rawStream(Uint8Array.from([0x00]), holder.libp2p)
        .then(async stream => readUntilEnd(stream, PROMPT_MS), (err: unknown) => err)
      if (!(extra instanceof Error)) assertRefusedWithoutAnswer(extra as StreamOutcome, 'a stream past the limit')

      const { status } = await requestStatus(other.libp2p, server.addr)
      assert.equal(status.name, 'server')
      const outcomes = await Promise.all(stalled.map(async stream => readUntilEnd(stream, BOUND_MS)))
      assert.ok(outcomes.every(outcome => outcome.end !== 'timeout'), 'a stalled stream outlived the deadline')
      await assertServerStillAnswers(holder.libp2p)
    } finally {
      await other.close()
      await holder.close()
    }
  })

  test('dialer: a peer that never answers gives DeadlineError at the deadline, not later', async () => {
    await withFakePeer(() => {}, async fake => {
      const { elapsedMs } = await assertRequestFails(fake, 'DeadlineError')
      assert.ok(elapsedMs >= PROMPT_MS, `gave up after only ${elapsedMs} ms`)
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
      const { status } = await requestStatus(dialer.libp2p, fake.addr)
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
