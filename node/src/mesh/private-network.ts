/**
 * The cluster key on the wire (docs/architecture.md, "Cluster key"). Membership is proven once
 * per connection, and nothing is done per byte:
 *
 * 1. Before noise, each side proves it holds the key (the connection protector): both send
 *    a random nonce at once, then both an HMAC of the two nonces and their role under a key
 *    derived from the cluster key, and each checks the other's. A machine without the key
 *    sees random bytes and one MAC of them, so it learns nothing, not even that this is
 *    libp2p; a node with another key is told apart within a round trip, by a class
 *    (WrongClusterKeyError), not by a timeout or a message; one without a key hangs up on
 *    our nonce (UnexpectedEndError).
 * 2. Noise's prologue is another value derived from the key, so the noise handshake itself
 *    fails unless both sides hold it: a machine that relays the proofs between two members
 *    still cannot finish a handshake with either, so it runs nothing.
 *
 * After that the connection is the plain noise and yamux stack: one stream goes as fast
 * as it would without a cluster key.
 */
import { noise } from '@chainsafe/libp2p-noise'
import type { AbortOptions, ConnectionProtector, MessageStream } from '@libp2p/interface'
import { InvalidParametersError } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import { DeadlineError, UnexpectedEndError, WrongClusterKeyError, toError } from '../errors.ts'
import { noiseCrypto } from './noise-crypto.ts'

/** Each side's fresh random nonce: a proof is never valid for another connection. */
export const NONCE_BYTES = 32
/** HMAC-SHA256. */
export const PROOF_BYTES = 32

/**
 * What a peer may have sent before the exchange ends: the proof, and noise's first messages
 * that a dialer sends right behind it. More is a flood, refused before it is all buffered.
 */
const MAX_BUFFERED_BYTES = 64 * 1024

/** The exchange is two small messages each way, within two round trips; 3 s tolerates a busy event loop yet frees a stalled peer's slot before the 5 s upgrade timeout. */
export const PROOF_EXCHANGE_TIMEOUT_MS = 3_000

/**
 * Domain strings for the values derived from the key: each use gets its own, so no value
 * sent or used for one purpose is ever valid for another. A new version of the exchange
 * gets new strings.
 */
const PROOF_KEY_INFO = 'cloudai cluster key v1: connection proof key'
const PROLOGUE_INFO = 'cloudai cluster key v1: noise prologue'
/** Which side's proof: the two MACs over the same nonces differ, so one side's cannot be sent back as the other's. */
const DIALER_PROOF = new TextEncoder().encode('cloudai cluster key v1: dialer proof')
const LISTENER_PROOF = new TextEncoder().encode('cloudai cluster key v1: listener proof')

/** The 32 key bytes from a key file in the canonical form `swarm-key.ts` returns. */
function decodeKeyFile (file: Uint8Array): Uint8Array {
  const hex = new TextDecoder().decode(file).split('\n')[2] ?? ''
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw new InvalidParametersError('psk must be the bytes of a swarm key file (the third line holds 64 hex characters)')
  }
  return Buffer.from(hex, 'hex')
}

function derive (key: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', key, new Uint8Array(0), info, 32))
}

/** What each use of the cluster key is given: never the key itself. */
export interface ClusterSecrets {
  proofKey: Uint8Array
  prologue: Uint8Array
}

export function clusterSecrets (psk: Uint8Array): ClusterSecrets {
  const key = decodeKeyFile(psk)
  return { proofKey: derive(key, PROOF_KEY_INFO), prologue: derive(key, PROLOGUE_INFO) }
}

function proof (proofKey: Uint8Array, side: Uint8Array, dialerNonce: Uint8Array, listenerNonce: Uint8Array): Uint8Array {
  return createHmac('sha256', proofKey).update(side).update(dialerNonce).update(listenerNonce).digest()
}

class ClusterKeyProtector implements ConnectionProtector {
  readonly [Symbol.toStringTag] = 'cloudai/cluster-key'
  readonly #proofKey: Uint8Array
  readonly #timeoutMs: number

  constructor (proofKey: Uint8Array, timeoutMs: number) {
    this.#proofKey = proofKey
    this.#timeoutMs = timeoutMs
  }

  async protect (connection: MessageStream, options: AbortOptions = {}): Promise<MessageStream> {
    const remote = String((connection as { remoteAddr?: unknown }).remoteAddr ?? 'the peer')
    const deadline = AbortSignal.timeout(this.#timeoutMs)
    const signal = options.signal == null ? deadline : AbortSignal.any([options.signal, deadline])
    const bytes = byteStream(connection, { maxBufferSize: MAX_BUFFERED_BYTES })
    const dialer = connection.direction === 'outbound'
    // A peer that hangs up before its nonce holds no key (its noise reads ours as garbage) or
    // refuses connections (busy): not a different key. One that hangs up after its nonce
    // dropped us for its own reasons (a cloudai node sends its proof without waiting for ours).
    // The deadline and the caller's abort are told apart below.
    const read = async (count: number, what: string): Promise<Uint8Array> => (await bytes.read({ bytes: count, signal }).catch((err: unknown) => {
      if (signal.aborted) throw err
      throw new UnexpectedEndError(`${remote} closed the connection before sending ${what}: it is busy, or runs without a cluster key (--open)`, { cause: err })
    })).subarray()
    try {
      const ownNonce = randomBytes(NONCE_BYTES)
      // A node without the key reads our first byte as the varint length of a multistream-select
      // message. Kept within the 31 bytes that follow, that message arrives whole and is refused
      // at once; a larger length would make it wait for bytes that never come, until a timeout.
      ownNonce[0] = 1 + (ownNonce[0] % (NONCE_BYTES - 1))
      await bytes.write(ownNonce, { signal })
      const peerNonce = await read(NONCE_BYTES, 'its cluster-key nonce')
      const [dialerNonce, listenerNonce] = dialer ? [ownNonce, peerNonce] : [peerNonce, ownNonce]
      await bytes.write(proof(this.#proofKey, dialer ? DIALER_PROOF : LISTENER_PROOF, dialerNonce, listenerNonce), { signal })
      const expected = proof(this.#proofKey, dialer ? LISTENER_PROOF : DIALER_PROOF, dialerNonce, listenerNonce)
      if (!timingSafeEqual(await read(PROOF_BYTES, 'its proof of the cluster key'), expected)) {
        throw new WrongClusterKeyError(`${remote} holds a different cluster key (or none): copy swarm.key from a machine of the mesh`)
      }
    } catch (err) {
      const error = deadline.aborted && !(err instanceof WrongClusterKeyError)
        ? new DeadlineError(`${remote} did not finish proving it holds the cluster key within ${this.#timeoutMs} ms`)
        : toError(err)
      // Drop the peer here rather than trust every caller to: a stalled socket holds a slot.
      connection.abort(error)
      throw error
    }
    // unwrap() hands bytes that came after the proof (noise's first message) back to the connection.
    return bytes.unwrap()
  }
}

export interface PrivateNetworkInit {
  /** The cluster key file's bytes, as `loadSwarmKey(path).psk` returns them. */
  psk: Uint8Array
  /** How long a peer has to finish the proof exchange (PROOF_EXCHANGE_TIMEOUT_MS): a test that waits it out gives a short one. */
  proofTimeoutMs?: number
}

export interface PrivateNetwork {
  /** libp2p's `connectionProtector`: the proof exchange. */
  connectionProtector: () => ConnectionProtector
  /** libp2p's `connectionEncrypters`: noise, with the key's prologue. */
  connectionEncrypters: Array<ReturnType<typeof noise>>
}

/** The libp2p parts that make a connection need the cluster key. */
export function privateNetwork (init: PrivateNetworkInit): PrivateNetwork {
  const { proofKey, prologue } = clusterSecrets(init.psk)
  const timeoutMs = init.proofTimeoutMs ?? PROOF_EXCHANGE_TIMEOUT_MS
  return {
    connectionProtector: () => new ClusterKeyProtector(proofKey, timeoutMs),
    connectionEncrypters: [noise({ prologueBytes: prologue, crypto: noiseCrypto })]
  }
}
