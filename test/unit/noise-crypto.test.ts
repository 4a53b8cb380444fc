import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { noiseCrypto } from '../../node/src/mesh/noise-crypto.ts'

function bytesOf (data: Uint8Array | { subarray: () => Uint8Array }): Buffer {
  return Buffer.from(data.subarray())
}

test('sealed messages are byte for byte the default\'s, whole or in pieces, small or large, and open on either side', () => {
  const k = randomBytes(32)
  const ad = randomBytes(32)
  for (const size of [0, 100, 1199, 1200, 65_519]) {
    const nonce = randomBytes(12)
    const plaintext = randomBytes(size)
    const ours = bytesOf(noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k))
    assert.deepEqual(ours, bytesOf(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)), `size ${size}`)
    const pieces = new Uint8ArrayList(plaintext.subarray(0, size >> 1), plaintext.subarray(size >> 1))
    assert.deepEqual(bytesOf(noiseCrypto.chaCha20Poly1305Encrypt(pieces as any, nonce, ad, k)), ours, `size ${size} in pieces`)
    assert.deepEqual(bytesOf(noiseCrypto.chaCha20Poly1305Decrypt(ours, nonce, ad, k)), plaintext)
    const cut = new Uint8ArrayList(ours.subarray(0, 7), ours.subarray(7))
    assert.deepEqual(bytesOf(noiseCrypto.chaCha20Poly1305Decrypt(cut as any, nonce, ad, k)), plaintext)
    assert.deepEqual(bytesOf(defaultCrypto.chaCha20Poly1305Decrypt(ours, nonce, ad, k)), plaintext)
  }
})

test('a tampered message, another key or a message shorter than its tag is refused', () => {
  const k = randomBytes(32)
  const nonce = randomBytes(12)
  const ad = randomBytes(32)
  const sealed = bytesOf(noiseCrypto.chaCha20Poly1305Encrypt(randomBytes(4096), nonce, ad, k))
  const tampered = Buffer.from(sealed)
  tampered[100] ^= 1
  assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(tampered, nonce, ad, k))
  assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, randomBytes(32)))
  assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, randomBytes(32), k))
  assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(sealed.subarray(0, 10), nonce, ad, k))
})
