/**
 * Members known from other members' hints (docs/architecture.md, "Discovery and membership"):
 * listed "via" the member that told of them while this node's own probe runs, then settled by
 * that probe; bounded in entries and tellers; gone with their last teller or after a time.
 * The membership part runs over in-memory streams, without sockets.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { TaskNotFoundError } from '../../node/src/errors.ts'
import { Membership } from '../../node/src/mesh/membership.ts'
import { MAX_RELAYED_MEMBERS, MAX_TELLERS, RELAYED_TTL_MS, RelayedMembers } from '../../node/src/mesh/relayed-members.ts'
import type { PeerStatus } from '../../node/src/protocol/node-messages.ts'
import { registerNodeProtocol } from '../../node/src/protocol/node-protocol.ts'
import { StatusFeed } from '../../node/src/protocol/status-feed.ts'
import { silentLogger } from '../../node/src/logger.ts'
import { waitFor } from '../helpers/env.ts'
import { MemoryNetwork, type MemoryPeer } from '../helpers/memory-peers.ts'

const BOUND_MS = 10_000

function status (name: string, members: PeerStatus['members'] = []): PeerStatus {
  return {
    name,
    version: '1.0.0',
    capacity: { cpu: 2, memoryBytes: 2 ** 30, storageBytes: 2 ** 30, gpus: 0 },
    allocated: { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 },
    running: 0,
    queued: 0,
    labels: { zone: name },
    executorHealthy: true,
    executorDetail: 'simulated',
    storageEnforced: false,
    members
  }
}

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

describe('relayed members', () => {
  it('lists a member as its latest teller last told, until settled', async () => {
    const [member, first, second] = await Promise.all([newPeerId(), newPeerId(), newPeerId()])
    const relayed = new RelayedMembers()
    relayed.heard(member, status('m'), [multiaddr('/ip4/10.0.0.2/tcp/7421')], first, 1_000)
    relayed.heard(member, { ...status('m'), running: 3 }, [], second, 2_000)
    const [entry] = relayed.list()
    assert.equal(relayed.list().length, 1)
    assert.ok(entry.via.equals(second), 'the latest teller')
    assert.equal(entry.status.running, 3, 'with the latest status')
    assert.equal(entry.heardAt, 2_000)
    relayed.settle(member)
    assert.deepEqual(relayed.list(), [])
  })

  it('keeps a member while any of its tellers is still reached, and drops it with the last', async () => {
    const [member, first, second] = await Promise.all([newPeerId(), newPeerId(), newPeerId()])
    const relayed = new RelayedMembers()
    relayed.heard(member, status('m'), [], first, 0)
    relayed.heard(member, status('m'), [], second, 0)
    relayed.tellerLost(second)
    assert.equal(relayed.list().length, 1, 'the first teller still vouches')
    assert.ok(relayed.list()[0].via.equals(first), 'shown via the teller that is left')
    relayed.tellerLost(first)
    assert.deepEqual(relayed.list(), [])
  })

  it('forgets a member no hint repeated within its time', async () => {
    const [early, late, teller] = await Promise.all([newPeerId(), newPeerId(), newPeerId()])
    const relayed = new RelayedMembers()
    relayed.heard(early, status('early'), [], teller, 0)
    relayed.heard(late, status('late'), [], teller, 10_000)
    relayed.expire(RELAYED_TTL_MS + 5_000)
    assert.deepEqual(relayed.list().map(entry => entry.status.name), ['late'])
  })

  it('holds at most MAX_RELAYED_MEMBERS entries and MAX_TELLERS tellers each, the oldest going first', async () => {
    const teller = await newPeerId()
    const relayed = new RelayedMembers()
    const ids = await Promise.all(Array.from({ length: MAX_RELAYED_MEMBERS + 3 }, newPeerId))
    ids.forEach((id, i) => { relayed.heard(id, status(`m${i}`), [], teller, i) })
    const names = relayed.list().map(entry => entry.status.name)
    assert.equal(names.length, MAX_RELAYED_MEMBERS)
    assert.equal(names[0], 'm3', 'the three heard of first went')

    const member = ids.at(-1)!
    const tellers = await Promise.all(Array.from({ length: MAX_TELLERS + 1 }, newPeerId))
    for (const each of tellers) relayed.heard(member, status('many'), [], each, 0)
    // The first teller (`teller`) and the first of the new ones were pushed out: losing the
    // other MAX_TELLERS drops the entry, though two more once told of it.
    for (const each of tellers.slice(1)) relayed.tellerLost(each)
    assert.ok(!relayed.list().some(entry => entry.peerId.equals(member)), 'only MAX_TELLERS tellers were kept')
  })
})

/** A node serving /cloudai/node/1.0.0 with a fixed status; its answers wait for `gate` when given. */
async function serve (network: MemoryNetwork, peer: MemoryPeer, answer: () => PeerStatus, gate?: Promise<void>): Promise<void> {
  const feed = new StatusFeed(answer, 50)
  await registerNodeProtocol({
    handle: async (protocols, handler, options) => {
      await peer.handle(protocols, async (stream, connection) => {
        await gate
        await handler(stream, connection)
      }, options)
    }
  }, {
    status: async () => answer(),
    attach: () => { throw new TaskNotFoundError('none') },
    cancel: () => { throw new TaskNotFoundError('none') },
    links: { feed, opened: () => ({ status: () => {}, ended: () => {} }) }
  })
}

/** Just what Membership asks of libp2p, over a memory peer: no connections, an empty peer store. */
function memoryLibp2p (peer: MemoryPeer): Libp2p {
  return {
    peerId: peer.peerId,
    addEventListener: () => {},
    removeEventListener: () => {},
    getConnections: () => [],
    dialProtocol: peer.dialProtocol,
    peerStore: {
      merge: async () => {},
      get: async () => { throw new Error('not found') },
      delete: async () => {}
    }
  } as unknown as Libp2p
}

describe('membership with relayed members', () => {
  it('lists the members a linked member told of via it, leaves out what its policy refuses, and lets its own probes settle them', async () => {
    const network = new MemoryNetwork()
    const [self, teller, slow] = await Promise.all([network.peer(), network.peer(), network.peer()])
    const [gone, refused] = await Promise.all([newPeerId(), newPeerId()])
    let openSlow: () => void = () => {}
    const slowAnswers = new Promise<void>(resolve => { openSlow = resolve })
    await serve(network, slow, () => status('slow'), slowAnswers)
    const hint = (peerId: PeerId, name: string): PeerStatus['members'][number] => ({ peerId, addrs: [], status: status(name) })
    await serve(network, teller, () => status('teller', [hint(slow.peerId, 'slow'), hint(gone, 'gone'), hint(refused, 'refused')]))

    const selfFeed = new StatusFeed(() => status('self'), 50)
    const membership = new Membership({
      libp2p: memoryLibp2p(self),
      log: silentLogger(),
      selfName: 'self',
      feed: selfFeed,
      refreshIntervalMs: 3_600_000,
      mayJoin: peerId => peerId !== refused.toString()
    })
    membership.start()
    try {
      const member = await membership.probe(teller.peerId)
      assert.equal(member?.status.name, 'teller')
      const listed = (): Map<string, string> => new Map(membership.relayedList().map(entry => [entry.status.name, entry.via.toString()]))
      assert.equal(listed().get('slow'), teller.peerId.toString(), 'the slow member is listed via the teller at once')
      assert.equal(listed().has('refused'), false, 'a member this node\'s policy leaves out is not listed')
      assert.deepEqual(membership.relayedList().find(entry => entry.status.name === 'slow')?.status.labels, { zone: 'slow' }, 'with the status the teller gave')

      // `gone` is no memory peer: the own probe's dial fails with an answer, which settles it.
      assert.ok(await waitFor(() => !listed().has('gone'), BOUND_MS, 10), 'the own probe of a member that is not there settles it')
      assert.equal(listed().get('slow'), teller.peerId.toString(), 'the slow member stays listed via the teller while its probe waits')
      assert.equal(membership.list().some(m => m.status.name === 'slow'), false)

      openSlow()
      assert.ok(await waitFor(() => membership.list().some(m => m.status.name === 'slow' && m.reachable), BOUND_MS, 10), 'the own probe admits the slow member')
      assert.equal(listed().has('slow'), false, 'once reached, it is a member of this node\'s own, no longer relayed')
    } finally {
      membership.stop()
      selfFeed.stop()
    }
  })
})
