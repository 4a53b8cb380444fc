/**
 * The private-network layer (docs/architecture.md, "Mesh"): every TCP connection is XOR-ed with an XSalsa20
 * keystream keyed by the cluster key, before noise, so a machine without `swarm.key` cannot
 * even start a handshake. The wire format is the one of `@libp2p/pnet` (and of kubo's
 * pnet): each side sends a random 24-byte nonce in the clear, then everything it writes is
 * XOR-ed with XSalsa20(key, its own nonce), one continuous keystream per direction.
 *
 * Why not `@libp2p/pnet` itself: it encrypts with the npm package `xsalsa20`, whose
 * WebAssembly code shares one `WebAssembly.Memory` (640 KiB, at most 1000 pages) between all
 * instances and caches a view of it per instance. One write larger than that memory (pnet
 * encrypts the whole pending write list at once) grows it and detaches every other
 * instance's view; from then on each switch to another connection end grows it again, by
 * at least a page, until `Memory.grow()` throws: in a socket 'data' handler that ends the
 * process. Two nodes in one process die after a few tens of MiB on one stream. It also
 * never frees an instance's slot when a connection ends. `@noble/ciphers` is plain
 * JavaScript with no shared state, so none of this applies.
 */
import type { AbortOptions, ConnectionProtector, Logger, MessageStream, MultiaddrConnection } from '@libp2p/interface'
import { InvalidParametersError } from '@libp2p/interface'
import { AbstractMultiaddrConnection, byteStream } from '@libp2p/utils'
import type { SendResult } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import { hexToBytes } from '@noble/ciphers/utils.js'
import type { Uint8ArrayList } from 'uint8arraylist'
import { CloudaiError, DeadlineError, toError } from '../errors.ts'

/** XSalsa20's extended nonce; also what each side sends first, in the clear. */
export const NONCE_BYTES = 24

/** 24 bytes sent as soon as TCP connects arrive within one LAN round trip; 3 s tolerates a busy event loop yet frees a stalled peer's slot before the 5 s upgrade timeout. */
export const NONCE_EXCHANGE_TIMEOUT_MS = 3_000

/** Salsa20 works on 64-byte blocks; the keystream position is (block, offset in block). */
const BLOCK_BYTES = 64

/**
 * noble's block counter stops at 2^32 - 1 (pnet's carries on into 64 bits), so one direction
 * of one connection can carry about 256 GiB; past that we close the connection, and a new
 * one starts with new nonces.
 */
const MAX_BLOCKS = 2 ** 32 - 1

/** One direction of a connection used up its keystream (see MAX_BLOCKS). */
export class KeystreamExhaustedError extends CloudaiError {
  override readonly code = 'KEYSTREAM_EXHAUSTED'
  constructor (message = 'this connection carried 256 GiB in one direction, the most one nonce allows; reconnect to continue') {
    super(message)
  }
}

/**
 * An XSalsa20 keystream that continues across calls: chunks of any length, on any
 * boundary, give the same bytes as one call over their concatenation.
 */
export class XSalsa20Stream {
  readonly #key: Uint8Array
  readonly #nonce: Uint8Array
  /** The block that holds the next unused keystream byte. */
  #block = 0
  /** How many bytes of that block are already used. */
  #offset = 0

  constructor (key: Uint8Array, nonce: Uint8Array) {
    this.#key = Uint8Array.from(key)
    this.#nonce = Uint8Array.from(nonce)
  }

  /** XOR `data` with the next `data.byteLength` keystream bytes; returns a new buffer. */
  update (data: Uint8Array | Uint8ArrayList): Uint8Array {
    if (data.byteLength === 0) return new Uint8Array(0)
    const end = this.#offset + data.byteLength
    if (this.#block + Math.ceil(end / BLOCK_BYTES) > MAX_BLOCKS) throw new KeystreamExhaustedError()
    // The work buffer starts at the current block's first byte, so noble sees whole,
    // 4-byte aligned blocks (its fast path) starting at `#block`; the first `#offset`
    // bytes are keystream we used already, and are cut off below.
    const work = new Uint8Array(end)
    let at = this.#offset
    for (const chunk of data instanceof Uint8Array ? [data] : data) {
      work.set(chunk, at)
      at += chunk.byteLength
    }
    xsalsa20(this.#key, this.#nonce, work, work, this.#block)
    const out = work.subarray(this.#offset)
    this.#block += Math.floor(end / BLOCK_BYTES)
    this.#offset = end % BLOCK_BYTES
    return out
  }
}

/** The 32 key bytes from a key file in the canonical form `swarm-key.ts` returns. */
function decodeKeyFile (file: Uint8Array): Uint8Array {
  const hex = new TextDecoder().decode(file).split('\n')[2] ?? ''
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw new InvalidParametersError('psk must be the bytes of a swarm key file (the third line holds 64 hex characters)')
  }
  return hexToBytes(hex)
}

/** The raw connection seen through the keystreams: what noise runs on. */
class EncryptedConnection extends AbstractMultiaddrConnection {
  readonly #raw: MessageStream
  readonly #outbound: XSalsa20Stream
  readonly #inbound: XSalsa20Stream

  constructor (raw: MessageStream, remoteAddr: Multiaddr, outbound: XSalsa20Stream, inbound: XSalsa20Stream, log: Logger) {
    super({ remoteAddr, direction: raw.direction, log })
    this.#raw = raw
    this.#outbound = outbound
    this.#inbound = inbound
    raw.addEventListener('message', (evt) => {
      let plain: Uint8Array
      try {
        plain = this.#inbound.update(evt.data)
      } catch (err) {
        // Thrown from an event handler this would be uncaught and end the process.
        this.abort(toError(err))
        return
      }
      this.onData(plain)
    })
    raw.addEventListener('drain', () => { this.onMuxerDrain() })
    raw.addEventListener('remoteCloseWrite', () => { this.onRemoteCloseWrite() })
    raw.addEventListener('close', (evt) => {
      if (evt.error == null) this.onTransportClosed()
      else if (evt.local === true) this.abort(evt.error)
      else this.onRemoteReset()
    })
  }

  // Each call encrypts the whole pending write list into one fresh buffer: with a stateless
  // cipher a large write costs only its own size, and touches no other connection.
  sendData (data: Uint8ArrayList): SendResult {
    const cipherText = this.#outbound.update(data)
    return { sentBytes: data.byteLength, canSendMore: this.#raw.send(cipherText) }
  }

  async sendClose (options?: AbortOptions): Promise<void> {
    await this.#raw.close(options)
  }

  sendReset (err: Error): void {
    this.#raw.abort(err)
  }

  sendPause (): void {
    this.#raw.pause()
  }

  sendResume (): void {
    this.#raw.resume()
  }
}

class PrivateNetworkProtector implements ConnectionProtector {
  readonly [Symbol.toStringTag] = 'cloudai/private-network'
  readonly #key: Uint8Array
  readonly #nonceTimeoutMs: number

  constructor (key: Uint8Array, nonceTimeoutMs: number) {
    this.#key = key
    this.#nonceTimeoutMs = nonceTimeoutMs
  }

  async protect (connection: MessageStream, options: AbortOptions = {}): Promise<MessageStream> {
    const remoteAddr = (connection as Partial<MultiaddrConnection>).remoteAddr
    if (remoteAddr == null) throw new InvalidParametersError('the private network protects transport connections, which have a remote address')
    const log = connection.log.newScope('pnet')
    const deadline = AbortSignal.timeout(this.#nonceTimeoutMs)
    const signal = options.signal == null ? deadline : AbortSignal.any([options.signal, deadline])
    const localNonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES))
    const bytes = byteStream(connection)
    let remoteNonce: Uint8Array
    try {
      const [received] = await Promise.all([
        bytes.read({ bytes: NONCE_BYTES, signal }),
        bytes.write(localNonce, { signal })
      ])
      remoteNonce = received.subarray()
    } catch (err) {
      const error = deadline.aborted
        ? new DeadlineError(`${remoteAddr.toString()} did not send its ${NONCE_BYTES}-byte private-network nonce within ${this.#nonceTimeoutMs} ms`)
        : toError(err)
      // Drop the peer here rather than trust every caller to: a stalled socket holds a slot.
      connection.abort(error)
      throw error
    }
    log('exchanged nonces')
    // unwrap() hands bytes that came after the nonce back to the connection; they reach
    // EncryptedConnection's 'message' listener and are decrypted like the rest.
    return new EncryptedConnection(bytes.unwrap(), remoteAddr,
      new XSalsa20Stream(this.#key, localNonce), new XSalsa20Stream(this.#key, remoteNonce), log)
  }
}

export interface PrivateNetworkInit {
  /** The cluster key file's bytes, as `loadSwarmKey(path).psk` returns them. */
  psk: Uint8Array
  /** How long a peer has to send its nonce (NONCE_EXCHANGE_TIMEOUT_MS): a test that waits it out gives a short one. */
  nonceTimeoutMs?: number
}

/** The `connectionProtector` for libp2p: wire-compatible with `@libp2p/pnet`'s `preSharedKey`. */
export function privateNetwork (init: PrivateNetworkInit): () => ConnectionProtector {
  const key = decodeKeyFile(init.psk)
  const nonceTimeoutMs = init.nonceTimeoutMs ?? NONCE_EXCHANGE_TIMEOUT_MS
  return () => new PrivateNetworkProtector(key, nonceTimeoutMs)
}
