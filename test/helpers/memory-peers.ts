import { generateKeyPair } from '@libp2p/crypto/keys'
import { UnsupportedProtocolError, type AbortOptions, type Connection, type PeerId, type Stream, type StreamHandler } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { StreamDialer, StreamRegistrar } from '../../node/src/protocol/peer-streams.ts'

/**
 * Peers joined by in-memory streams, as js-libp2p tests its own protocols: each dial is a
 * `streamPair` from @libp2p/utils (two muxed streams over an in-memory connection), its far
 * end handed to the handler the dialed peer registered. The protocols run as they do over
 * libp2p (the same Stream interface: backpressure, close, reset), without sockets,
 * handshakes or libp2p's per-connection stream limits, which the sim layer covers.
 */
export interface MemoryPeer extends StreamRegistrar, StreamDialer {
  readonly peerId: PeerId
  /** The streams this peer opened to `peer`, whatever became of them. */
  streamsTo: (peer: PeerId) => Stream[]
}

/** The peers of one test: a dial reaches a peer of the same network, by ID or by a /p2p/ address. */
export class MemoryNetwork {
  private readonly handlers = new Map<string, Map<string, StreamHandler>>()

  async peer (): Promise<MemoryPeer> {
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const handlers = new Map<string, StreamHandler>()
    this.handlers.set(peerId.toString(), handlers)
    const opened: Array<{ to: string, stream: Stream }> = []
    return {
      peerId,
      handle: async (protocols, handler) => {
        for (const protocol of [protocols].flat()) handlers.set(protocol, handler)
      },
      dialProtocol: async (target, protocols, options) => {
        const stream = await this.dial(peerId, target, [protocols].flat(), options)
        opened.push({ to: peerOf(target), stream })
        return stream
      },
      streamsTo: peer => opened.filter(({ to }) => to === peer.toString()).map(({ stream }) => stream)
    }
  }

  private async dial (from: PeerId, target: PeerId | Multiaddr | Multiaddr[], protocols: string[], options?: AbortOptions): Promise<Stream> {
    options?.signal?.throwIfAborted()
    const to = peerOf(target)
    const handlers = this.handlers.get(to)
    if (handlers == null) throw new Error(`no memory peer ${to}`)
    const protocol = protocols.find(p => handlers.has(p))
    // As libp2p's multistream-select answers a protocol the peer does not handle.
    if (protocol == null) throw new UnsupportedProtocolError(`${to} does not handle ${protocols.join(', ')}`)
    const [outbound, inbound] = await streamPair({ protocol })
    // As libp2p does once multistream-select has agreed on it.
    outbound.protocol = protocol
    inbound.protocol = protocol
    // The handlers read only the remote peer of the connection a stream came on.
    const connection = { remotePeer: from } as unknown as Connection
    // As libp2p does: a handler that fails has its stream aborted.
    Promise.resolve(handlers.get(protocol)!(inbound, connection)).catch((err: Error) => { inbound.abort(err) })
    return outbound
  }
}

function peerOf (target: PeerId | Multiaddr | Multiaddr[]): string {
  if (!Array.isArray(target) && !('getComponents' in target)) return target.toString()
  const addr = [target].flat()[0]
  const id = addr.getComponents().find(component => component.name === 'p2p')?.value
  if (id == null) throw new Error(`${addr.toString()} names no peer`)
  return peerIdFromString(id).toString()
}
