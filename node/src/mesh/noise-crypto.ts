import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'

const CHACHA20_POLY1305 = 'chacha20-poly1305'
const TAG_BYTES = 16
/** Below this, the default's WebAssembly cipher is cheaper than setting up node's (the default's own threshold). */
const SMALL_MESSAGE_BYTES = 1200

/**
 * Each session key, prepared once. Noise keeps one key per direction for a connection's
 * life and passes the same array with every message; the default implementation hands the
 * raw bytes to `createCipheriv`, which prepares a key object anew for each message (a tenth
 * of a bulk transfer's CPU here).
 */
const prepared = new WeakMap<Uint8Array, KeyObject>()

function keyOf (k: Uint8Array): KeyObject {
  let key = prepared.get(k)
  if (key === undefined) {
    key = createSecretKey(k)
    prepared.set(k, key)
  }
  return key
}

/** What noise passes and takes: its own copy of uint8arraylist, a type apart from ours though the same class at run time. */
type NoiseBytes = ReturnType<ICryptoInterface['chaCha20Poly1305Encrypt']>

function piecesOf (data: Uint8Array | Iterable<Uint8Array>): Iterable<Uint8Array> {
  return data instanceof Uint8Array ? [data] : data
}

/**
 * Noise's default crypto, except that large messages (node's cipher; small ones keep the
 * default's WebAssembly one) are sealed and opened with prepared keys, and a message's
 * ciphertext and tag are handed on as the pieces the cipher made instead of being copied
 * into one buffer. Same algorithms, same bytes on the wire.
 */
export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
    if (plaintext.byteLength < SMALL_MESSAGE_BYTES) return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    const cipher = createCipheriv(CHACHA20_POLY1305, keyOf(k), nonce, { authTagLength: TAG_BYTES })
    cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
    const output = new Uint8ArrayList()
    for (const piece of piecesOf(plaintext)) output.append(cipher.update(piece))
    const final = cipher.final()
    if (final.byteLength > 0) output.append(final)
    output.append(cipher.getAuthTag())
    return output as unknown as NoiseBytes
  },
  chaCha20Poly1305Decrypt (ciphertext, nonce, ad, k, dst) {
    if (ciphertext.byteLength < SMALL_MESSAGE_BYTES) return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
    if (ciphertext.byteLength < TAG_BYTES) throw new Error('Invalid chacha20poly1305 decryption: shorter than its tag')
    const textBytes = ciphertext.byteLength - TAG_BYTES
    const decipher = createDecipheriv(CHACHA20_POLY1305, keyOf(k), nonce, { authTagLength: TAG_BYTES })
    decipher.setAAD(ad, { plaintextLength: textBytes })
    decipher.setAuthTag(ciphertext.subarray(textBytes))
    const text: Uint8Array | Iterable<Uint8Array> = ciphertext instanceof Uint8Array ? ciphertext.subarray(0, textBytes) : ciphertext.sublist(0, textBytes)
    const output = new Uint8ArrayList()
    for (const piece of piecesOf(text)) output.append(decipher.update(piece))
    const final = decipher.final()
    if (final.byteLength > 0) output.append(final)
    return output as unknown as NoiseBytes
  }
}
