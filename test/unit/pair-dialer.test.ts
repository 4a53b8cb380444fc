import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPairDialer } from '../../node/src/mesh/membership.ts'

test('exactly one side of every pair dials, and each node dials about half of its peers', async () => {
  const ids = await Promise.all(Array.from({ length: 40 }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()))
  for (const a of ids) {
    for (const b of ids) {
      if (a === b) continue
      assert.notEqual(isPairDialer(a, b), isPairDialer(b, a), `both or neither of ${a} and ${b} would dial`)
    }
  }
  const dials = ids.map(a => ids.filter(b => b !== a && isPairDialer(a, b)).length)
  // By the smaller ID alone the counts would be 0..39; balanced, none is near either end.
  assert.equal(dials.reduce((sum, n) => sum + n, 0), (ids.length * (ids.length - 1)) / 2)
  assert.ok(Math.max(...dials) < ids.length - 5, `one node dials ${Math.max(...dials)} of ${ids.length - 1} peers`)
  assert.ok(Math.min(...dials) > 4, `one node dials only ${Math.min(...dials)} of ${ids.length - 1} peers`)
})
