import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { AmbiguousPeerError, resolvePeer, UnknownPeerError, type PeerCandidate } from '../../node/src/master/resolve-peer.ts'

/**
 * Names are not identities. A peer ID, then a unique part of one, decides
 * the target before any name does; a name membership refused never does; and an ambiguous
 * target is refused with every candidate's name and full peer ID.
 */

let self: PeerCandidate
let beta: PeerCandidate
let gamma: PeerCandidate

async function peer (name: string, extra: Partial<PeerCandidate> = {}): Promise<PeerCandidate> {
  return { peerId: peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString(), name, ...extra }
}

/** The last six characters of a peer ID: what `cloudai peers` shows after the "…". */
function suffixOf (candidate: PeerCandidate): string {
  return candidate.peerId.slice(-6)
}

/** The error `resolvePeer` throws for `target`, or a failure naming whom it resolved to. */
function refusal (target: string, peers: PeerCandidate[]): Error {
  try {
    const chosen = resolvePeer(target, self, peers)
    assert.fail(`"${target}" resolved to ${chosen.name} (${chosen.peerId})`)
  } catch (err) {
    if (!(err instanceof Error) || err.name === 'AssertionError') throw err
    return err
  }
}

/** Every candidate is listed by name and full peer ID on one line. */
function assertLists (err: Error, candidates: PeerCandidate[]): void {
  for (const candidate of candidates) {
    assert.ok(err.message.split('\n').some(line => line.includes(candidate.name) && line.includes(candidate.peerId)),
      `the error does not list ${candidate.name} with its full ID ${candidate.peerId}:\n${err.message}`)
  }
}

before(async () => {
  self = await peer('alpha')
  beta = await peer('beta')
  gamma = await peer('gamma')
})

test('a member named after another peer\'s ID suffix does not get the tasks sent to that suffix', async () => {
  const hostile = await peer(suffixOf(beta))
  for (const peers of [[beta, hostile], [hostile, beta]]) {
    const chosen = resolvePeer(suffixOf(beta), self, peers)
    assert.equal(chosen.peerId, beta.peerId, `the suffix of beta's ID went to ${chosen.name} (${chosen.peerId})`)
  }
})

test('a member named after another peer\'s ID prefix or full ID does not get its tasks', async () => {
  const prefix = beta.peerId.slice(0, 14)
  const byPrefix = await peer(prefix)
  assert.equal(resolvePeer(prefix, self, [byPrefix, beta]).peerId, beta.peerId)
  const byFullId = await peer(beta.peerId)
  assert.equal(resolvePeer(beta.peerId, self, [byFullId, beta]).peerId, beta.peerId)
  // Nor this node's own ID.
  const bySelf = await peer(suffixOf(self))
  assert.equal(resolvePeer(suffixOf(self), self, [bySelf, beta]).peerId, self.peerId)
})

test('a part of two peer IDs is ambiguous even when a peer carries it as a name, and every candidate is listed', async () => {
  // Every Ed25519 peer ID begins "12D3KooW".
  const named = await peer('12D3KooW')
  const err = refusal('12D3KooW', [beta, gamma, named])
  assert.ok(err instanceof AmbiguousPeerError, `${err.name}: ${err.message}`)
  assertLists(err, [self, beta, gamma, named])
})

test('a name membership refused resolves to no one: the error says why and lists the peer by name and full ID', async () => {
  const hostile = await peer('delta', { nameRefused: `it is part of the peer ID of beta (${beta.peerId})` })
  const err = refusal('delta', [hostile])
  assert.ok(err instanceof AmbiguousPeerError, `${err.name}: ${err.message}`)
  assertLists(err, [hostile])
  assert.match(err.message, /part of the peer ID of beta/)
})

test('two peers with one name: the error lists both by name and full ID, whether or not membership refused the name', async () => {
  const twin = await peer('beta')
  for (const pair of [[beta, twin], [{ ...beta, nameRefused: 'another peer advertises it too' }, { ...twin, nameRefused: 'another peer advertises it too' }]]) {
    const err = refusal('beta', pair)
    assert.ok(err instanceof AmbiguousPeerError, `${err.name}: ${err.message}`)
    assertLists(err, pair)
  }
  // A member that took this node's own name does not make it this node's.
  const mimic = await peer('alpha', { nameRefused: 'it is that node\'s name' })
  const err = refusal('alpha', [mimic])
  assert.ok(err instanceof AmbiguousPeerError, `${err.name}: ${err.message}`)
  assertLists(err, [self, mimic])
})

test('self, full IDs, unique parts of IDs and unique names still resolve', () => {
  assert.equal(resolvePeer('self', self, [beta, gamma]).peerId, self.peerId)
  assert.equal(resolvePeer(gamma.peerId, self, [beta, gamma]).peerId, gamma.peerId)
  assert.equal(resolvePeer(suffixOf(gamma), self, [beta, gamma]).peerId, gamma.peerId)
  assert.equal(resolvePeer(gamma.peerId.slice(0, 16), self, [beta, gamma]).peerId, gamma.peerId)
  assert.equal(resolvePeer('beta', self, [beta, gamma]).peerId, beta.peerId)
  assert.equal(resolvePeer('alpha', self, [beta, gamma]).peerId, self.peerId)
  const err = refusal('epsilon', [beta, gamma])
  assert.ok(err instanceof UnknownPeerError, `${err.name}: ${err.message}`)
  assertLists(err, [beta, gamma])
})
