import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { NodeRequest, NodeResponse } from '../../../protocols/node.ts'
import { ProtocolError, toError } from '../errors.ts'
import { FramedStream } from './framing.ts'
import { STATUS_DECODE_LIMITS, encodeStatus, validateStatus, type PeerStatus } from './node-messages.ts'

export const NODE_PROTOCOL = '/cloudai/node/1.0.0'

/** A Status with the largest member list fits several times over. */
export const MAX_NODE_FRAME_BYTES = 256 * 1024
/** A whole request/response on a LAN takes milliseconds; a peer slower than this is treated as unreachable. */
export const NODE_REQUEST_TIMEOUT_MS = 5_000
/** Concurrent node-protocol streams per connection: a handful of probes, never thousands. */
export const NODE_MAX_INBOUND_STREAMS = 32
export const NODE_MAX_OUTBOUND_STREAMS = 32

export interface NodeProtocolHandlers {
  /** This node's status, as answered to `remote`. */
  status: (remote: PeerId) => Promise<PeerStatus>
  /** Called when a peer sent something we refused, for logs. */
  onBadRequest?: (remote: PeerId, err: Error) => void
}

/** Serve one request on an inbound stream, then close it. Any failure aborts the stream. */
async function serveRequest (stream: Stream, connection: Connection, handlers: NodeProtocolHandlers): Promise<void> {
  const signal = AbortSignal.timeout(NODE_REQUEST_TIMEOUT_MS)
  const framed = new FramedStream(stream, MAX_NODE_FRAME_BYTES)
  try {
    const request = await framed.read(NodeRequest, signal)
    if (request.status == null) {
      await framed.write({ error: { code: 'UNKNOWN_REQUEST', message: 'this node does not know that request; is it running an older version?' } }, NodeResponse, signal)
    } else {
      const status = encodeStatus(await handlers.status(connection.remotePeer))
      await framed.write({ status }, NodeResponse, signal)
    }
    await stream.close({ signal })
  } catch (err) {
    const error = toError(err)
    handlers.onBadRequest?.(connection.remotePeer, error)
    stream.abort(error)
  }
}

export async function registerNodeProtocol (libp2p: Libp2p, handlers: NodeProtocolHandlers): Promise<void> {
  await libp2p.handle(NODE_PROTOCOL, async (stream, connection) => {
    await serveRequest(stream, connection, handlers)
  }, {
    maxInboundStreams: NODE_MAX_INBOUND_STREAMS,
    maxOutboundStreams: NODE_MAX_OUTBOUND_STREAMS
  })
}

export interface StatusReply {
  status: PeerStatus
  /** Round-trip time of the request on an open stream, in milliseconds. */
  rttMs: number
}

/** Ask a peer (by ID or address) for its Status. Throws on any failure, with the stream aborted. */
export async function requestStatus (libp2p: Libp2p, peer: PeerId | Multiaddr, options: { signal?: AbortSignal } = {}): Promise<StatusReply> {
  const signal = AbortSignal.any([AbortSignal.timeout(NODE_REQUEST_TIMEOUT_MS), ...(options.signal != null ? [options.signal] : [])])
  const stream = await libp2p.dialProtocol(peer, NODE_PROTOCOL, { signal })
  const framed = new FramedStream(stream, MAX_NODE_FRAME_BYTES)
  try {
    const started = performance.now()
    await framed.write({ status: {} }, NodeRequest, signal)
    const response = await framed.read(NodeResponse, signal, { status: STATUS_DECODE_LIMITS })
    const rttMs = performance.now() - started
    if (response.error != null) {
      throw new ProtocolError(`the peer refused the request: ${response.error.code}: ${response.error.message.slice(0, 200)}`)
    }
    if (response.status == null) throw new ProtocolError('the peer answered without a status')
    const status = validateStatus(response.status)
    await stream.close({ signal })
    return { status, rttMs }
  } catch (err) {
    const error = toError(err)
    stream.abort(error)
    throw error
  }
}
