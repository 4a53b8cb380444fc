/**
 * The private network's streaming cipher. The protector between libp2p nodes (transfers,
 * interop with @libp2p/pnet, wrong keys, stalled peers) is tested in test/sim/heavy/private-network.test.ts.
 */
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import fc from 'fast-check'
import { Uint8ArrayList } from 'uint8arraylist'
import { XSalsa20Stream } from '../../node/src/mesh/private-network.ts'

describe('private network', () => {
  it('keystream is the same whatever the chunking, and matches the xsalsa20 package', () => {
    const reference = createRequire(import.meta.url)('xsalsa20') as (nonce: Uint8Array, key: Uint8Array) => { update: (input: Uint8Array) => Uint8Array }
    const cuts = fc.array(fc.nat(), { maxLength: 12 })
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 24, maxLength: 24 }),
      fc.uint8Array({ maxLength: 1500 }), cuts, cuts, fc.boolean(), (key, nonce, data, ours, theirs, asList) => {
        const split = (points: number[]): Uint8Array[] => {
          const at = [0, ...points.map((p) => p % (data.length + 1)).sort((x, y) => x - y), data.length]
          return at.slice(1).map((end, i) => data.subarray(at[i], end))
        }
        const stream = new XSalsa20Stream(key, nonce)
        // A Uint8ArrayList (what sendData gets) must count as its bytes in order.
        const streamed = Buffer.concat(split(ours).map((chunk) => stream.update(asList
          ? new Uint8ArrayList(chunk.subarray(0, chunk.length >> 1), chunk.subarray(chunk.length >> 1))
          : chunk)))
        const xor = reference(nonce, key)
        const theirsOut = Buffer.concat(split(theirs).map((chunk) => xor.update(chunk)))
        const oneShot = Buffer.from(xsalsa20(key, nonce, data))
        assert.ok(streamed.equals(oneShot), 'chunked equals one-shot')
        assert.ok(theirsOut.equals(oneShot), 'the xsalsa20 package agrees')
      }), { numRuns: 500 })
  })
})
