/**
 * The cluster key on real libp2p nodes over 127.0.0.1 (no mDNS): transfers, another key or
 * none refused both ways at once and by class, many connections set up at once, and noise's
 * prologue: a node whose proofs pass but whose prologue differs still cannot connect, and
 * membership calls that a different cluster key. The proof exchange with hostile peers is in
 * test/unit/private-network.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { Uint8ArrayList } from 'uint8arraylist'
import { UnexpectedEndError, WrongClusterKeyError } from '../../../node/src/errors.ts'
import { silentLogger } from '../../../node/src/logger.ts'
import { Membership } from '../../../node/src/mesh/membership.ts'
import { privateNetwork, type PrivateNetwork } from '../../../node/src/mesh/private-network.ts'

/** The protocol every transfer uses: the dialer sends bytes, the listener answers their SHA-256. */
const SINK = '/cloudai-test/sink/1.0.0'
/** Upper bound for any one transfer, so a broken connection fails the test instead of hanging it. */
const TRANSFER_DEADLINE_MS = 60_000
const MiB = 1024 * 1024
/** A refused dial must end well within this: a wrong key is told apart at once, never by waiting. */
const WRONG_KEY_DIAL_DEADLINE_MS = 2_000

/** What a node is given for the cluster key: ours, or none (plain noise). */
type KeyLayers = PrivateNetwork | { connectionEncrypters: PrivateNetwork['connectionEncrypters'] }
const NO_KEY: KeyLayers = { connectionEncrypters: [noise()] }

function keyFile (): Uint8Array {
  return new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${randomBytes(32).toString('hex')}\n`)
}

function chunksOf (data: Uint8Array | Uint8ArrayList): Iterable<Uint8Array> {
  return data instanceof Uint8Array ? [data] : data
}

/** Read a stream to its end, aborting it at the deadline. */
async function readAll (stream: Stream, signal: AbortSignal, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  const onAbort = (): void => { stream.abort(new Error('transfer deadline passed')) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    for await (const data of stream) for (const chunk of chunksOf(data)) onChunk(chunk)
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

async function startNode (layers: KeyLayers): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    ...layers,
    streamMuxers: [yamux()],
    // Every dial in these tests comes from 127.0.0.1, faster than libp2p's 5 per second. The
    // handshakes get as long as a transfer: 45 at once on a loaded 2-core machine take seconds
    // each, and these tests are about the bytes, not about how fast a handshake is.
    connectionManager: {
      inboundConnectionThreshold: 10_000,
      maxIncomingPendingConnections: 200,
      inboundUpgradeTimeout: TRANSFER_DEADLINE_MS,
      dialTimeout: TRANSFER_DEADLINE_MS,
      addressDialTimeout: TRANSFER_DEADLINE_MS
    }
  })
  await node.handle(SINK, async (stream) => {
    const signal = AbortSignal.timeout(TRANSFER_DEADLINE_MS)
    const hash = createHash('sha256')
    await readAll(stream, signal, (chunk) => hash.update(chunk))
    stream.send(hash.digest())
    await stream.close({ signal })
  })
  return node
}

/** Send `chunks` from one node to the other and check the listener saw exactly these bytes. */
async function transfer (from: Libp2p, to: Libp2p, chunks: Uint8Array[]): Promise<void> {
  const signal = AbortSignal.timeout(TRANSFER_DEADLINE_MS)
  const stream = await from.dialProtocol(to.getMultiaddrs()[0], SINK, { signal })
  const expected = createHash('sha256')
  for (const chunk of chunks) {
    expected.update(chunk)
    if (!stream.send(chunk)) await stream.onDrain({ signal })
  }
  await stream.close({ signal })
  const reply = new Uint8ArrayList()
  await readAll(stream, signal, (chunk) => reply.append(chunk))
  assert.equal(Buffer.from(reply.subarray()).toString('hex'), expected.digest('hex'))
}

/** Chunks of the given sizes, each filled with random bytes. */
function randomChunks (sizes: number[]): Uint8Array[] {
  return sizes.map((size) => randomBytes(size))
}

async function withNodes (layers: KeyLayers[], run: (nodes: Libp2p[]) => Promise<void>): Promise<void> {
  const nodes = await Promise.all(layers.map(startNode))
  try {
    await run(nodes)
  } finally {
    await Promise.all(nodes.map(async (node) => node.stop()))
  }
}

/** TCP sockets open in this process (listeners are counted apart, as TCPServerWrap). */
function openSockets (): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length
}

async function waitUntil (condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.ok(condition(), what)
}

describe('cluster key between nodes', () => {
  it('carries a multi-megabyte payload between two nodes with the same key', async () => {
    const psk = keyFile()
    await withNodes([privateNetwork({ psk }), privateNetwork({ psk })], async ([a, b]) => {
      await transfer(a, b, randomChunks([5 * MiB + 3, 1, 100_000, 3 * MiB - 1]))
      await transfer(b, a, randomChunks([1, 65_541]))
    })
  })

  for (const [name, other] of [['another key', () => privateNetwork({ psk: keyFile() })], ['no key', () => NO_KEY]] as Array<[string, () => KeyLayers]>) {
    it(`refuses a node with ${name}, both ways, at once, and keeps no socket open`, async () => {
      await withNodes([privateNetwork({ psk: keyFile() }), other()], async ([keyed, stranger]) => {
        const sockets = openSockets()
        // Another key: its proof is wrong. No key: it hangs up on our nonce.
        await assert.rejects(keyed.dial(stranger.getMultiaddrs()[0], { signal: AbortSignal.timeout(WRONG_KEY_DIAL_DEADLINE_MS) }),
          (err: Error) => name === 'another key' ? err instanceof WrongClusterKeyError : err instanceof UnexpectedEndError, 'the keyed dialer says why, at once')
        // A dialer without our protector gets random bytes where it expects multistream-select: its encryption fails.
        await assert.rejects(stranger.dial(keyed.getMultiaddrs()[0], { signal: AbortSignal.timeout(WRONG_KEY_DIAL_DEADLINE_MS) }),
          (err: Error) => err instanceof WrongClusterKeyError || err.name === 'EncryptionFailedError', 'the stranger is refused at once')
        await waitUntil(() => openSockets() === sockets, 'every socket of the refused dials is closed')
        assert.equal(keyed.getConnections().length + stranger.getConnections().length, 0)
      })
    })
  }

  it('a node whose proofs pass but whose noise prologue differs cannot connect, and membership calls it a different cluster key', async () => {
    const psk = keyFile()
    const ours = privateNetwork({ psk })
    // Our proofs with another key's prologue: what a machine that relays the proofs of two members ends up with.
    const impostor: KeyLayers = { connectionProtector: ours.connectionProtector, connectionEncrypters: privateNetwork({ psk: keyFile() }).connectionEncrypters }
    await withNodes([ours, impostor], async ([member, stranger]) => {
      await assert.rejects(stranger.dial(member.getMultiaddrs()[0], { signal: AbortSignal.timeout(WRONG_KEY_DIAL_DEADLINE_MS) }),
        (err: Error) => err.name === 'EncryptionFailedError')
      const membership = new Membership({ libp2p: member, log: silentLogger(), selfName: 'member' })
      await assert.rejects(membership.connect(stranger.getMultiaddrs()[0]),
        (err: Error) => err instanceof WrongClusterKeyError && /different cluster key/.test(err.message))
      assert.equal(member.getConnections().length + stranger.getConnections().length, 0)
    })
  })

  it('many connections set up at once between nodes with the same key all carry their bytes intact', async () => {
    const psk = keyFile()
    const nodeCount = 10 // a full mesh of 10 nodes: 45 connections, their handshakes at once
    const sizes = [1, 63, 65_541, 777]
    await withNodes(Array.from({ length: nodeCount }, () => privateNetwork({ psk })), async (nodes) => {
      const pairs = nodes.flatMap((a, i) => nodes.slice(i + 1).map((b) => [a, b] as const))
      await Promise.all(pairs.map(async ([a, b]) => a.dial(b.getMultiaddrs()[0], { signal: AbortSignal.timeout(TRANSFER_DEADLINE_MS) })))
      const connections = nodes.reduce((sum, node) => sum + node.getConnections().length, 0) / 2
      assert.ok(connections >= 40, `expected at least 40 connections, got ${connections}`)
      await Promise.all(pairs.flatMap(([a, b], i) => {
        const rotated = sizes.map((_, k) => sizes[(k + i) % sizes.length])
        return [transfer(a, b, randomChunks(rotated)), transfer(b, a, randomChunks([...rotated].reverse()))]
      }))
    })
  })
})
