import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CloudaiNode } from '../../node/src/node.ts'
import { WrongClusterKeyError } from '../../node/src/errors.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'
import { fullyConnected, makeClusterKey, simNode } from '../helpers/sim.ts'

const NODES = 10
/** Generous: the mesh converges in about a second here, but CI machines are loaded. */
const CONVERGENCE_BOUND_MS = 20_000

let dir: { path: string, remove: () => Promise<void> }
let nodes: CloudaiNode[] = []
let stranger: CloudaiNode
const tag = mdnsTag()

before(async () => {
  requireTestNamespace()
  dir = await tempDir()
  const key = await makeClusterKey(dir.path)
  const otherKey = await makeClusterKey(dir.path, 'other')
  for (let i = 0; i < NODES; i++) {
    nodes.push(await simNode(dir.path, `node-${i}`, key, { mdnsTag: tag, mdnsIntervalMs: 2_000 }))
  }
  stranger = await simNode(dir.path, 'stranger', otherKey, { mdnsTag: tag, mdnsIntervalMs: 2_000 })
  await Promise.all([...nodes, stranger].map(async node => node.start()))
})

after(async () => {
  await Promise.all([...nodes, stranger].map(async node => node?.stop()))
  await dir?.remove()
})

test(`${NODES} nodes on one LAN find each other by mDNS and peer exchange, with names and resources`, async () => {
  const converged = await waitFor(() => fullyConnected(nodes), CONVERGENCE_BOUND_MS)
  assert.ok(converged, `not every node lists the others: ${nodes.map(n => `${n.name}:${n.peers().length}`).join(' ')}`)
  for (const node of nodes) {
    const listed = node.peers().filter(peer => peer.name !== 'stranger')
    assert.equal(listed.length, NODES - 1)
    for (const peer of listed) {
      assert.match(peer.name, /^node-\d$/)
      assert.ok(peer.capacity.cpu > 0 && peer.capacity.memoryBytes > 0, 'each peer reports its capacity')
      assert.deepEqual(peer.allocated, { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 })
      assert.equal(peer.executorHealthy, true)
      assert.ok(peer.addrs.length > 0 && peer.latencyMs >= 0)
    }
  }
})

test('a node with another cluster key is seen by no one and can reach no one', async () => {
  // It has been announcing itself over mDNS for the whole previous test.
  for (const node of nodes) {
    assert.ok(!node.peers().some(peer => peer.name === 'stranger'), `${node.name} lists the stranger`)
  }
  assert.deepEqual(stranger.peers(), [])
  const target = nodes[0].libp2p.getMultiaddrs()[0].toString()
  // Told apart by the proof exchange, at once: never a timeout.
  await assert.rejects(stranger.connect(target), (err: Error) => err instanceof WrongClusterKeyError && /different cluster key/.test(err.message))
  assert.deepEqual(stranger.peers(), [])
  assert.ok(!nodes[0].peers().some(peer => peer.name === 'stranger'))
})
