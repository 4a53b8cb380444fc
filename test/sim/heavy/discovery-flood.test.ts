import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import multicastDns from 'multicast-dns'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { TaskNotFoundError } from '../../../node/src/errors.ts'
import { MAX_CANDIDATES } from '../../../node/src/mesh/candidate-set.ts'
import { createMesh, type Mesh } from '../../../node/src/mesh/libp2p.ts'
import { MAX_REFUSED_PEERS } from '../../../node/src/mesh/refused-peers.ts'
import { loadSwarmKey } from '../../../node/src/mesh/swarm-key.ts'
import type { CloudaiNode } from '../../../node/src/node.ts'
import { MAX_MEMBER_HINTS, type MemberHint } from '../../../node/src/protocol/node-messages.ts'
import { registerNodeProtocol } from '../../../node/src/protocol/node-protocol.ts'
import { requireTestNamespace, waitFor } from '../../helpers/env.ts'
import { settledMemory } from '../../helpers/fuzz.ts'
import { membershipOf } from '../../helpers/internals.ts'
import { cluster, simNode, stopAll, type Cluster } from '../../helpers/sim.ts'

/**
 * Discovery floods. mDNS needs no key to send, and a member's Status may
 * hint at any peer: 10,000 fake peers (unreachable 127.0.0.x addresses; one in four at a port
 * that accepts and hangs up, as a machine with another cluster key does) arrive at node A,
 * half as mDNS answers on the test namespace's multicast, half as the member hints of a
 * hostile member. Meanwhile two real nodes start: they must join within seconds, and what A
 * holds for candidates, refusals and its peer store stays bounded and ages out. (While the
 * mDNS half lasts, every node's socket also drops real nodes' answers: A learns of them
 * after it, or from each other's connections and hints.)
 */

const FAKES = 10_000
const MDNS_FAKES = FAKES / 2
/** A socket drops multicast it cannot read in time; this many of the mDNS fakes must reach A for the flood to count. */
const MDNS_FAKES_HEARD_AT_LEAST = 1_000
/** mDNS answers are sent in bursts of this many, one burst per FLOOD_PAUSE_MS: about 2,000 a second. */
const MDNS_BURST = 100
const FLOOD_PAUSE_MS = 50
/** Real nodes join within this while the flood arrives: about a second without one, 2 to 11 s with it here; 32 to 49 s before the bounds. */
const JOIN_BOUND_MS = 20_000
/** The flood has been sent and hinted within this (bounds the test's own loops). */
const FLOOD_BOUND_MS = 60_000
/**
 * Candidates live and are retried on a shorter schedule than a daemon's (60 s, 5 retries from
 * 1 s: 31 s): the bounds under test are the same, and the drain takes seconds, not a minute.
 */
const CANDIDATE_TIMING = { ttlMs: 10_000, retries: 3, retryBaseMs: 250 }
/** A's candidates drain after the flood within this: the fakes' retries (1.75 s at most) and ageing out (10 s). */
const DRAIN_BOUND_MS = 60_000
/** Besides its candidates, A's peer store holds its members and whoever is connected: a handful here. */
const PEER_STORE_MARGIN = 64
/**
 * Heap the process may keep after the flood drained, beyond what it held before: beta and
 * gamma start meanwhile (about 7 MiB here without a flood), and the member-hint parse cache
 * holds up to 4,096 hints; the 10,000 fakes remembered added 33 MiB before the bounds.
 */
const HEAP_GROWTH_BOUND_BYTES = 24 * 2 ** 20
const MiB = 2 ** 20

let mesh: Cluster
let alpha: CloudaiNode
let beta: CloudaiNode
let gamma: CloudaiNode
let hostile: Mesh
let closer: Server
let sender: multicastDns.MulticastDNS
const fakes: Array<{ peerId: PeerId, addr: Multiaddr }> = []
/** The member hints the hostile member has handed out to A so far. */
let hinted = 0
/** The fakes A's libp2p reported from mDNS (each once). */
const heardByMdns = new Set<string>()

/** A fake peer's address: nothing listens at most (refused at once); one in four reach `closer`, which hangs up. */
function fakeAddress (i: number, closerPort: number): Multiaddr {
  if (i % 4 === 0) return multiaddr(`/ip4/127.0.0.1/tcp/${closerPort}`)
  return multiaddr(`/ip4/127.0.0.${2 + (i % 250)}/tcp/${20_000 + (i % 1_000)}`)
}

/** The hostile member's Status: a real member's fields, and for A the next fakes as member hints. */
function hostileStatus (remote: PeerId): ReturnType<CloudaiNode['status']> {
  const hints: MemberHint[] = []
  while (remote.equals(alpha.peerId) && hints.length < MAX_MEMBER_HINTS && hinted < FAKES - MDNS_FAKES) {
    const fake = fakes[MDNS_FAKES + hinted++]
    hints.push({ peerId: fake.peerId, addrs: [fake.addr] })
  }
  return { ...alpha.status(), name: 'hostile', members: hints }
}

before(async () => {
  requireTestNamespace()
  mesh = await cluster()
  const options = { mdnsTag: mesh.tag, mdnsIntervalMs: 2_000, refreshIntervalMs: 250, candidateTiming: CANDIDATE_TIMING }
  alpha = await simNode(mesh.root, 'alpha', mesh.key, options)
  beta = await simNode(mesh.root, 'beta', mesh.key, options)
  gamma = await simNode(mesh.root, 'gamma', mesh.key, options)
  await alpha.start()

  closer = createServer(socket => { socket.destroy() })
  await new Promise<void>(resolve => closer.listen(0, '127.0.0.1', resolve))
  const closerPort = (closer.address() as { port: number }).port
  for (let i = 0; i < FAKES; i++) {
    fakes.push({ peerId: peerIdFromPrivateKey(await generateKeyPair('Ed25519')), addr: fakeAddress(i, closerPort) })
  }
  const mdnsFakes = new Set(fakes.slice(0, MDNS_FAKES).map(fake => fake.peerId.toString()))
  alpha.libp2p.addEventListener('peer:discovery', evt => {
    if (mdnsFakes.has(evt.detail.id.toString())) heardByMdns.add(evt.detail.id.toString())
  })

  hostile = await createMesh({
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    psk: (await loadSwarmKey(join(mesh.root, 'alpha', 'swarm.key'))).psk
  })
  await registerNodeProtocol(hostile, {
    status: async remote => hostileStatus(remote),
    attach: () => { throw new TaskNotFoundError('no such task') },
    cancel: () => { throw new TaskNotFoundError('no such task') }
  })
  await hostile.start()
  sender = multicastDns()
})

after(async () => {
  sender?.destroy()
  await stopAll([alpha, beta, gamma].filter(node => node != null))
  await hostile?.stop()
  closer?.close()
  await mesh?.remove()
})

function reachable (node: CloudaiNode): Set<string> {
  return new Set(node.peers().filter(peer => peer.reachable).map(peer => peer.peerId))
}

function joined (node: CloudaiNode): boolean {
  return reachable(alpha).has(node.peerId.toString()) && reachable(node).has(alpha.peerId.toString())
}

/** Send the mDNS half of the flood, as answers for the test's service tag. */
async function floodMdns (): Promise<void> {
  for (let first = 0; first < MDNS_FAKES; first += MDNS_BURST) {
    for (const fake of fakes.slice(first, Math.min(first + MDNS_BURST, MDNS_FAKES))) {
      const name = `${fake.peerId.toString().slice(-12)}.${mesh.tag}`
      sender.respond({
        answers: [
          { name: mesh.tag, type: 'PTR', class: 'IN', ttl: 120, data: name },
          { name, type: 'TXT', class: 'IN', ttl: 120, data: `dnsaddr=${fake.addr.toString()}/p2p/${fake.peerId.toString()}` }
        ]
      })
    }
    await delay(FLOOD_PAUSE_MS)
  }
}

interface Sizes { candidates: number, refused: number, peerStore: number }

async function sizes (): Promise<Sizes> {
  return {
    candidates: membershipOf(alpha).candidates.size,
    refused: alpha.refused().length,
    peerStore: (await alpha.libp2p.peerStore.all()).length
  }
}

test('real nodes join within seconds while 10,000 fake candidates arrive, and what A holds of them stays bounded and ages out', async () => {
  const heapBefore = settledMemory().heapUsed
  const largest: Sizes = { candidates: 0, refused: 0, peerStore: 0 }
  const note = (now: Sizes): void => {
    largest.candidates = Math.max(largest.candidates, now.candidates)
    largest.refused = Math.max(largest.refused, now.refused)
    largest.peerStore = Math.max(largest.peerStore, now.peerStore)
  }

  // The hostile member joins A; from then on every Status A asks of it carries 256 fresh fakes.
  await alpha.connect(hostile.getMultiaddrs()[0].toString())
  const floodStarted = performance.now()
  const mdnsSent = floodMdns()
  await delay(500)
  const startedAt = performance.now()
  await Promise.all([beta.start(), gamma.start()])
  const joinMs: Record<string, number> = {}
  const floodDeadline = Date.now() + FLOOD_BOUND_MS
  let mdnsDone = false
  let mdnsDoneMs = 0
  void mdnsSent.then(() => {
    mdnsDone = true
    mdnsDoneMs = Math.round(performance.now() - startedAt)
  })
  while ((!mdnsDone || hinted < FAKES - MDNS_FAKES || Object.keys(joinMs).length < 2) && Date.now() < floodDeadline) {
    for (const node of [beta, gamma]) {
      if (joinMs[node.name] == null && joined(node)) joinMs[node.name] = Math.round(performance.now() - startedAt)
    }
    note(await sizes())
    await delay(100)
  }
  await mdnsSent
  const floodMs = Math.round(performance.now() - floodStarted)
  const atFloodEnd = await sizes()
  const heapAtFloodEnd = settledMemory().heapUsed

  const drained = await waitFor(async () => {
    const now = await sizes()
    note(now)
    return now.candidates === 0
  }, DRAIN_BOUND_MS, 500)
  const afterDrain = await sizes()
  const heapAfter = settledMemory().heapUsed
  console.log(`discovery flood: ${FAKES} fakes (${MDNS_FAKES} sent by mDNS, of which A's socket took ${heardByMdns.size}; ${hinted} as member hints to A) in ${floodMs} ms (the mDNS half ended ${mdnsDoneMs} ms after beta and gamma started); ` +
    `joined after ${JSON.stringify(joinMs)} ms; largest: ${JSON.stringify(largest)}; at flood end: ${JSON.stringify(atFloodEnd)}; ` +
    `after draining: ${JSON.stringify(afterDrain)}; heap ${(heapBefore / MiB).toFixed(1)} MiB before, ` +
    `${(heapAtFloodEnd / MiB).toFixed(1)} MiB at flood end, ${(heapAfter / MiB).toFixed(1)} MiB after draining`)

  assert.equal(hinted, FAKES - MDNS_FAKES, 'the hostile member did not hand out all its hints: A stopped asking it')
  assert.ok(heardByMdns.size >= MDNS_FAKES_HEARD_AT_LEAST, `A heard only ${heardByMdns.size} of the ${MDNS_FAKES} mDNS fakes: the flood did not test the mDNS path`)
  for (const node of [beta, gamma]) {
    assert.ok(joinMs[node.name] != null && joinMs[node.name] <= JOIN_BOUND_MS, `${node.name} did not join alpha within ${JOIN_BOUND_MS} ms of starting during the flood (${joinMs[node.name] ?? 'never'} ms)`)
  }
  assert.ok(largest.candidates <= MAX_CANDIDATES, `A held ${largest.candidates} candidates (bound ${MAX_CANDIDATES})`)
  assert.ok(largest.refused <= MAX_REFUSED_PEERS, `A remembered ${largest.refused} refusals (bound ${MAX_REFUSED_PEERS})`)
  assert.ok(largest.peerStore <= MAX_CANDIDATES + PEER_STORE_MARGIN, `A's peer store held ${largest.peerStore} peers`)
  assert.ok(drained, `A still holds ${afterDrain.candidates} candidates ${DRAIN_BOUND_MS} ms after the flood`)
  assert.ok(afterDrain.peerStore <= PEER_STORE_MARGIN, `A's peer store still holds ${afterDrain.peerStore} peers after the flood drained`)
  assert.ok(heapAfter - heapBefore <= HEAP_GROWTH_BOUND_BYTES, `A's process kept ${((heapAfter - heapBefore) / MiB).toFixed(1)} MiB more heap after the flood`)
})
