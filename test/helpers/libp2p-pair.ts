import { createSimulatedExecutor } from '../../node/src/executor/simulated.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Multiaddr } from '@multiformats/multiaddr'
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
