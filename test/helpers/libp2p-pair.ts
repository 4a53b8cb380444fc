import { createSimulatedExecutor } from '../../node/src/executor/simulated.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { Uint8ArrayList } from 'uint8arraylist'
import { createMesh, type Mesh } from '../../node/src/mesh/libp2p.ts'
import { createNode, type CloudaiNode, type NodeOptions } from '../../node/src/node.ts'
import { tempDir } from './env.ts'

/** Nodes on loopback that several tests dial quickly: far above libp2p's 5 dials per second per host. */
const TEST_INBOUND_CONNECTION_THRESHOLD = 1_000

export interface TestNode {
  node: CloudaiNode
  /** The node's first listen address, with its /p2p/ component. */
  addr: Multiaddr
  close: () => Promise<void>
}

/**
 * Start an open node (no cluster key) on 127.0.0.1 with mDNS off, its own temp data
 * dir and a fixed executor health. `close()` stops it and removes the data dir.
 */
export async function startOpenNode (name: string, extra: Partial<NodeOptions> = {}): Promise<TestNode> {
  const dir = await tempDir(`cloudai-${name}-`)
  const node = await createNode({
    dataDir: dir.path,
    name,
    open: true,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdnsTag: false,
    inboundConnectionThreshold: TEST_INBOUND_CONNECTION_THRESHOLD,
    executor: createSimulatedExecutor(),
    ...extra
  })
  await node.start()
  return {
    node,
    addr: node.libp2p.getMultiaddrs()[0],
    close: async () => {
      await node.stop()
      await dir.remove()
    }
  }
}

export interface TestMesh {
  libp2p: Mesh
  addr: Multiaddr
  close: () => Promise<void>
}

/**
 * A bare libp2p node (no cloudai protocols, no membership) on 127.0.0.1, mDNS off:
 * a stand-in for a misbehaving peer or a plain dialer.
 */
export async function startBareMesh (): Promise<TestMesh> {
  const libp2p = await createMesh({
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    inboundConnectionThreshold: TEST_INBOUND_CONNECTION_THRESHOLD
  })
  await libp2p.start()
  return { libp2p, addr: libp2p.getMultiaddrs()[0], close: async () => { await libp2p.stop() } }
}

export interface StreamOutcome {
  /** Every byte the remote sent before the stream ended. */
  bytes: Uint8Array
  /** `closed`: the remote closed its write side; `reset`: the stream was reset/aborted; `timeout`: still open at the bound. */
  end: 'closed' | 'reset' | 'timeout'
  error?: Error
  elapsedMs: number
}

/**
 * Read a stream until the remote ends it or `boundMs` passes, whichever comes first.
 * On timeout the stream is aborted, so nothing is left running.
 */
export async function readUntilEnd (stream: Stream, boundMs: number): Promise<StreamOutcome> {
  const started = performance.now()
  const received = new Uint8ArrayList()
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timeout'>(resolve => { timer = setTimeout(() => { resolve('timeout') }, boundMs) })
  const reading = (async (): Promise<{ end: 'closed' | 'reset', error?: Error }> => {
    try {
      for await (const chunk of stream) received.append(chunk)
      return { end: stream.status === 'reset' || stream.status === 'aborted' ? 'reset' : 'closed' }
    } catch (err) {
      return { end: 'reset', error: err instanceof Error ? err : new Error(String(err)) }
    }
  })()
  try {
    const result = await Promise.race([reading, timedOut])
    const elapsedMs = performance.now() - started
    if (result === 'timeout') {
      stream.abort(new Error('test bound reached'))
      await reading
      return { bytes: received.subarray(), end: 'timeout', elapsedMs }
    }
    return { bytes: received.subarray(), ...result, elapsedMs }
  } finally {
    clearTimeout(timer)
  }
}

/** A protobuf varint, for hand-made (and deliberately broken) length prefixes. */
export function varint (value: number): Uint8Array {
  const bytes: number[] = []
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80)
    value = Math.floor(value / 0x80)
  }
  bytes.push(value)
  return Uint8Array.from(bytes)
}
