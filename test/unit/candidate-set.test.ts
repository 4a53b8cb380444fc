import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import {
  CANDIDATE_RETRIES, CANDIDATE_RETRY_BASE_MS, CANDIDATE_TTL_MS, CandidateSet, MAX_CANDIDATES, MAX_CANDIDATES_PER_SOURCE, PASSED_OVER_MEMORY
} from '../../node/src/mesh/candidate-set.ts'
import { MAX_REFUSED_ADDRS, MAX_REFUSED_PEERS, REFUSAL_MEMORY_MS, RefusedPeers } from '../../node/src/mesh/refused-peers.ts'

/**
 * What a node holds of peers it has only heard of. The candidate set (the
 * probe queue) and the refused-peer memory are bounded, age out, and a flood from one source
 * does not hold up another source's candidates.
 */

const NOW = 1_000_000
let ids: PeerId[] = []

before(async () => {
  // Enough for the whole set plus a flood past it.
  for (let i = 0; i < MAX_CANDIDATES + MAX_CANDIDATES_PER_SOURCE; i++) ids.push(peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
})

/** Hand out every candidate due at `now`, returning their sources in order. */
function drain (set: CandidateSet, now: number, limit: number): string[] {
  const sources: string[] = []
  for (let i = 0; i < limit; i++) {
    const candidate = set.next(now)
    if (candidate == null) break
    sources.push(candidate.source)
  }
  return sources
}

test('one source holds at most MAX_CANDIDATES_PER_SOURCE: its oldest waiting candidate makes room, never one being probed', () => {
  const set = new CandidateSet()
  const flood = ids.slice(0, MAX_CANDIDATES_PER_SOURCE + 100)
  flood.slice(0, 3).forEach(id => set.offer(id, 'discovery', [], NOW, 0))
  const probing = set.next(NOW)
  assert.equal(probing?.peerId.toString(), flood[0].toString())
  let dropped = 0
  flood.slice(3).forEach(id => { dropped += set.offer(id, 'discovery', [], NOW, 0).dropped.length })
  assert.equal(set.size, MAX_CANDIDATES_PER_SOURCE)
  assert.equal(dropped, flood.length - MAX_CANDIDATES_PER_SOURCE)
  assert.ok(set.get(flood[0].toString()) != null, 'the candidate being probed was dropped')
  assert.equal(set.get(flood[1].toString()), undefined, 'the oldest waiting candidate was kept')
  assert.ok(set.get(flood.at(-1)!.toString()) != null, 'the newest candidate was not admitted')
})

test('the set holds at most MAX_CANDIDATES in all: past it, the largest source gives way', () => {
  const set = new CandidateSet()
  const sources = Math.ceil(MAX_CANDIDATES / MAX_CANDIDATES_PER_SOURCE)
  ids.slice(0, MAX_CANDIDATES).forEach((id, i) => set.offer(id, `hint:${i % sources}`, [], NOW, 0))
  assert.equal(set.size, MAX_CANDIDATES)
  const { admitted, dropped } = set.offer(ids[MAX_CANDIDATES], 'discovery', [], NOW, 0)
  assert.ok(admitted)
  assert.equal(dropped.length, 1)
  assert.match(dropped[0].source, /^hint:/)
  assert.equal(set.size, MAX_CANDIDATES)
})

test('a flooded source does not hold up another source\'s candidate: sources take turns', () => {
  const set = new CandidateSet()
  ids.slice(0, MAX_CANDIDATES_PER_SOURCE).forEach(id => set.offer(id, 'discovery', [], NOW, 0))
  set.offer(ids[MAX_CANDIDATES_PER_SOURCE], 'hint:member', [multiaddr('/ip4/127.0.0.1/tcp/7421')], NOW, 0)
  set.offer(ids[MAX_CANDIDATES_PER_SOURCE + 1], 'connection', [], NOW, 0)
  const order = drain(set, NOW, 3)
  assert.deepEqual([...order].sort(), ['connection', 'discovery', 'hint:member'], `the first three probes went to ${order}`)
})

test('a candidate dropped unprobed and heard of again goes first in its source, and is dropped last', () => {
  const set = new CandidateSet()
  const real = ids[0]
  set.offer(real, 'discovery', [], NOW, 0)
  // A flood pushes it out before its turn.
  ids.slice(1, MAX_CANDIDATES_PER_SOURCE + 1).forEach(id => set.offer(id, 'discovery', [], NOW, 0))
  assert.equal(set.get(real.toString()), undefined)
  // It answers the next query: heard of again, it goes before the flood still waiting, and the flood does not push it out.
  set.offer(real, 'discovery', [], NOW + 2_000, 0)
  ids.slice(MAX_CANDIDATES_PER_SOURCE + 1, 2 * MAX_CANDIDATES_PER_SOURCE).forEach(id => set.offer(id, 'discovery', [], NOW + 2_000, 0))
  assert.equal(set.next(NOW + 2_000)?.peerId.toString(), real.toString())
  // The memory is bounded: after PASSED_OVER_MEMORY newer drops, a candidate is news again.
  const forgetful = new CandidateSet()
  forgetful.offer(real, 'discovery', [], NOW, 0)
  // Only the IDs' text matters to the set: cheap stand-ins for the many drops.
  const standIn = (i: number): PeerId => ({ toString: () => `stand-in-${i}` }) as unknown as PeerId
  for (let i = 0; i < PASSED_OVER_MEMORY + MAX_CANDIDATES_PER_SOURCE; i++) forgetful.offer(standIn(i), 'discovery', [], NOW, 0)
  forgetful.offer(real, 'discovery', [], NOW, 0)
  assert.equal(forgetful.get(real.toString())?.heardAgain, false, 'the memory of dropped candidates is not bounded')
})

test('a candidate heard of again moves to the less crowded source, and a waiting one becomes due at once', () => {
  const set = new CandidateSet()
  ids.slice(0, 10).forEach(id => set.offer(id, 'discovery', [], NOW, 0))
  const real = ids[10]
  set.offer(real, 'discovery', [], NOW, 1_500)
  assert.equal(set.get(real.toString())?.dueAt, NOW + 1_500)
  set.offer(real, 'connection', [], NOW + 10, 0)
  assert.equal(set.get(real.toString())?.source, 'connection')
  assert.equal(set.get(real.toString())?.dueAt, NOW + 10)
  // From a more crowded source it stays where it is.
  set.offer(real, 'discovery', [], NOW + 20, 0)
  assert.equal(set.get(real.toString())?.source, 'connection')
})

test('a failed candidate is retried with doubling delays, then given up; a retry\'s delay is not cut short by hearing of it again', () => {
  const set = new CandidateSet()
  const key = ids[0].toString()
  set.offer(ids[0], 'discovery', [], NOW, 0)
  let now = NOW
  for (let failure = 1; failure <= CANDIDATE_RETRIES; failure++) {
    assert.ok(set.next(now) != null, `not due after ${failure - 1} failures`)
    assert.ok(set.retryLater(key, now))
    assert.equal(set.get(key)?.dueAt, now + CANDIDATE_RETRY_BASE_MS * 2 ** (failure - 1))
    set.offer(ids[0], 'discovery', [], now, 0)
    assert.equal(set.next(now), undefined, 'a retry came before its delay')
    now = set.nextDueAt()!
  }
  set.next(now)
  assert.equal(set.retryLater(key, now), false)
  assert.equal(set.size, 0)
})

test('candidates no source told of within CANDIDATE_TTL_MS age out; one being probed stays', () => {
  const set = new CandidateSet()
  ids.slice(0, 5).forEach(id => set.offer(id, 'discovery', [], NOW, 0))
  set.next(NOW)
  set.offer(ids[4], 'discovery', [], NOW + CANDIDATE_TTL_MS, 0)
  const stale = set.expire(NOW + CANDIDATE_TTL_MS + 1)
  assert.deepEqual(stale.map(candidate => candidate.peerId.toString()).sort(), ids.slice(1, 4).map(id => id.toString()).sort())
  assert.equal(set.size, 2)
})

test('the refused-peer memory keeps the newest MAX_REFUSED_PEERS, a few addresses each, for REFUSAL_MEMORY_MS', () => {
  const refused = new RefusedPeers()
  const addrs = Array.from({ length: 10 }, (_, i) => `/ip4/192.168.1.${i}/tcp/7421`)
  ids.slice(0, MAX_REFUSED_PEERS + 50).forEach((id, i) => { refused.note(id.toString(), addrs, NOW + i) })
  const listed = refused.list(NOW + MAX_REFUSED_PEERS + 50)
  assert.equal(listed.length, MAX_REFUSED_PEERS)
  assert.equal(listed[0].peerId, ids[50].toString(), 'the oldest refusals were kept')
  assert.ok(listed.every(peer => peer.addrs.length === MAX_REFUSED_ADDRS))
  refused.forget(ids[60].toString())
  assert.equal(refused.size, MAX_REFUSED_PEERS - 1)
  assert.deepEqual(refused.list(NOW + MAX_REFUSED_PEERS + 50 + REFUSAL_MEMORY_MS), [], 'old refusals did not age out')
})
