import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { MIN_ID_FRAGMENT, nameRefusals, type NamedPeer } from '../../node/src/mesh/peer-names.ts'

/**
 * Which names membership refuses. A member may advertise any name; one that
 * could be taken for another target (a target word, a peer ID or part of another peer's, this
 * node's name or another member's) is refused, and the reason names the peer it could be
 * taken for.
 */

let self: NamedPeer
let beta: NamedPeer
let gamma: NamedPeer

async function peer (name: string): Promise<NamedPeer> {
  return { peerId: peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString(), name }
}

before(async () => {
  self = await peer('alpha')
  beta = await peer('beta')
  gamma = await peer('gamma')
})

test('ordinary, distinct names are all accepted (a name may even be part of the member\'s own ID)', async () => {
  const own = await peer('')
  own.name = own.peerId.slice(-6)
  assert.deepEqual([...nameRefusals(self, [beta, gamma, own])], [])
})

test('a name that is part of another peer\'s ID is refused, and the reason names that peer and its full ID', async () => {
  const cases: Array<[string, NamedPeer]> = [
    [beta.peerId.slice(-6), beta],
    [beta.peerId.slice(-MIN_ID_FRAGMENT), beta],
    [beta.peerId.slice(0, 12), beta],
    [self.peerId.slice(-6), self]
  ]
  for (const [name, owner] of cases) {
    const hostile = await peer(name)
    const refusals = nameRefusals(self, [beta, gamma, hostile])
    assert.deepEqual([...refusals.keys()], [hostile.peerId], `name "${name}"`)
    const reason = refusals.get(hostile.peerId) ?? ''
    assert.ok(reason.includes(owner.peerId) && reason.includes(owner.name), `the reason for "${name}" does not name ${owner.name} (${owner.peerId}): ${reason}`)
  }
})

test('a name shaped like any peer ID, even one no member has, is refused', async () => {
  const unknown = await peer('unknown')
  const hostile = await peer(unknown.peerId)
  assert.match(nameRefusals(self, [beta, hostile]).get(hostile.peerId) ?? '', /peer ID/)
})

test('the target words are refused as names', async () => {
  for (const word of ['self', 'auto']) {
    const member = await peer(word)
    assert.ok(nameRefusals(self, [beta, member]).has(member.peerId), `"${word}" was accepted`)
  }
})

test('a name two members advertise is refused for both; one that copies this node\'s name is refused, this node keeps it', async () => {
  const twin = await peer('beta')
  const refusals = nameRefusals(self, [beta, gamma, twin])
  assert.deepEqual([...refusals.keys()].sort(), [beta.peerId, twin.peerId].sort())
  assert.ok(refusals.get(beta.peerId)?.includes(twin.peerId), refusals.get(beta.peerId))
  assert.ok(refusals.get(twin.peerId)?.includes(beta.peerId), refusals.get(twin.peerId))

  const mimic = await peer('alpha')
  const mine = nameRefusals(self, [beta, mimic])
  assert.deepEqual([...mine.keys()], [mimic.peerId])
  assert.ok(mine.get(mimic.peerId)?.includes(self.peerId), mine.get(mimic.peerId))
})
