import type { Libp2p, Stream } from '@libp2p/interface'
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import {
  NODE_MAX_INBOUND_STREAMS,
  NODE_PROTOCOL,
  NODE_REQUEST_TIMEOUT_MS,
  requestStatus
} from '../../node/src/protocol/node-protocol.ts'
import { startBareMesh, startOpenNode, type TestNode } from '../helpers/libp2p-pair.ts'
import { readUntilEnd, type StreamOutcome } from '../helpers/streams.ts'
import { waitFor } from '../helpers/env.ts'

/**
 * /cloudai/node/1.0.0 between nodes over real libp2p on loopback: a node's own Status and
 * membership in its answers, and libp2p's handling of the connection (a burst of early
 * streams, the per-connection stream limit). The protocol byte by byte is tested over memory
 * streams in test/unit/node-protocol.test.ts.
 */

/** A case the server must refuse on its own (not by waiting for its deadline) ends well inside this. */
const PROMPT_MS = NODE_REQUEST_TIMEOUT_MS / 2
/** The longest any case may take: the protocol deadline plus generous slack for a loaded machine. */
const BOUND_MS = NODE_REQUEST_TIMEOUT_MS + 5_000

const CAPACITY = { cpu: 3, memoryBytes: 6 * 2 ** 30, storageBytes: 50 * 2 ** 30, gpus: 1 }

let server: TestNode
let client: TestNode

before(async () => {
  // A quick refresh: the server learns the client's listen addresses (identify) soon after the first probe.
  server = await startOpenNode('server', { capacity: CAPACITY, labels: { zone: 'lab' }, refreshIntervalMs: 200 })
  client = await startOpenNode('client', { capacity: { cpu: 1, memoryBytes: 2 ** 30, storageBytes: 2 ** 30, gpus: 0 } })
})

after(async () => {
  await client?.close()
  await server?.close()
})

/** Open a raw node-protocol stream to the server and send `bytes` as they are. */
async function rawStream (bytes: Uint8Array | undefined, from: Libp2p): Promise<Stream> {
  // Bare nodes have no handler of their own to set the outbound limit (libp2p's default is 64).
  const stream = await from.dialProtocol(server.addr, NODE_PROTOCOL, { signal: AbortSignal.timeout(BOUND_MS), maxOutboundStreams: NODE_MAX_INBOUND_STREAMS + 1 })
  if (bytes != null) stream.send(bytes)
  return stream
}

/** The server sent no answer and cut the stream (reset, or an early end without a frame). */
function assertRefusedWithoutAnswer (outcome: StreamOutcome, why: string): void {
  assert.notEqual(outcome.end, 'timeout', `${why}: the server left the stream open`)
  assert.equal(outcome.bytes.length, 0, `${why}: the server answered ${outcome.bytes.length} bytes`)
}

async function assertServerStillAnswers (from: Libp2p): Promise<void> {
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
