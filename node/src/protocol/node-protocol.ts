import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { NodeRequest, NodeResponse, type ErrorReply, type Status } from '../../../protocols/node.ts'
import { NotSubmitterError, ProtocolError, TaskNotFoundError, UnexpectedEndError, toError } from '../errors.ts'
import { FramedStream, NO_DEADLINE } from './framing.ts'
import type { StreamDialer, StreamRegistrar } from './peer-streams.ts'
import { STATUS_DECODE_LIMITS, checkOneOfRequest, encodeStatus, validateStatus, type PeerStatus } from './node-messages.ts'
import type { EventLog, NodeHost, StatusLinkHost, TaskStanding } from './task-host.ts'
import { readTaskEvents, streamTaskEvents, type TaskSession } from './task-protocol.ts'
import { checkTaskId, isTerminal, type TaskState } from './task-messages.ts'
import { sharedDeadline } from './shared-deadline.ts'

export const NODE_PROTOCOL = '/cloudai/node/1.0.0'

/** A Status with the largest member list fits several times over; so does a task event (64 KiB of log). */
export const MAX_NODE_FRAME_BYTES = 256 * 1024
/** A whole request/response on a LAN takes milliseconds; a peer slower than this is treated as unreachable. */
export const NODE_REQUEST_TIMEOUT_MS = 5_000
/**
 * Concurrent node-protocol streams per connection: a handful of probes, plus one Attach per
 * task a master follows here after a reconnect (as many as the task protocol allows).
 */
export const NODE_MAX_INBOUND_STREAMS = 32 + 256
export const NODE_MAX_OUTBOUND_STREAMS = 32 + 256

/** The wire codes of the refusals an asker should hear about (not protocol violations), both ways. */
const NOT_FOUND = 'NOT_FOUND'
const FORBIDDEN = 'FORBIDDEN'

function refusal (err: Error): ErrorReply | undefined {
  if (err instanceof TaskNotFoundError) return { code: NOT_FOUND, message: err.message }
  if (err instanceof NotSubmitterError) return { code: FORBIDDEN, message: err.message }
  return undefined
}

/** A refusal as the asker's own error: the same class the serving node threw. */
function refused (code: string, message: string): Error {
  if (code === NOT_FOUND) return new TaskNotFoundError(message)
  if (code === FORBIDDEN) return new NotSubmitterError(message)
  return new ProtocolError(`the peer refused the request: ${code}: ${message}`)
}

/** Serve one request on an inbound stream, then close it (an Attach, once the task has ended). Any failure aborts the stream. */
async function serveRequest (stream: Stream, connection: Connection, handlers: NodeHost, timeoutMs: number): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs)
  const framed = new FramedStream(stream, MAX_NODE_FRAME_BYTES)
  const remote = connection.remotePeer
  try {
    const request = await framed.read(NodeRequest, signal, REQUEST_DECODE_LIMITS)
    checkOneOfRequest(request)
    if (request.status?.link === true && handlers.links != null) {
      await serveLink(framed, remote, request.status.sender, handlers.links, timeoutMs, signal)
      return
    }
    let response: NodeResponse
    let attached: { task: EventLog, fromSeq: number } | undefined
    try {
      if (request.status == null && request.attach == null && request.cancel == null) {
        // What a newer peer's request looks like to us: all its fields are unknown here.
        response = { error: { code: 'UNKNOWN_REQUEST', message: 'this node does not know that request; is it running an older version?' } }
      } else if (request.status != null) {
        response = { status: encodeStatus(await handlers.status(remote)) }
      } else if (request.attach != null) {
        const task = handlers.attach(remote, checkTaskId(request.attach.taskId))
        attached = { task, fromSeq: Math.max(1, request.attach.fromSeq) }
        response = { attached: { state: task.state, lastSeq: task.lastSeq } }
      } else {
        const outcome = handlers.cancel(remote, checkTaskId(request.cancel?.taskId ?? ''))
        response = { cancelled: { state: outcome.state, lastSeq: outcome.lastSeq } }
      }
    } catch (err) {
      const error = refusal(toError(err))
      if (error == null) throw err
      response = { error }
    }
    await framed.write(response, NodeResponse, signal)
    if (attached != null) await streamTaskEvents(framed, attached.task, attached.fromSeq)
    else await framed.close(signal)
  } catch (err) {
    const error = toError(err)
    handlers.onBadRequest?.(remote, error)
    stream.abort(error)
  }
}

/** A request's own Status (a link's `sender`) is held to the same limits as an answer's. */
const REQUEST_DECODE_LIMITS = { status: { sender: STATUS_DECODE_LIMITS } }

/**
 * Status frames one side of a link may send within LINK_RATE_WINDOW_MS: a node sends one per
 * change, at most one per STATUS_CHECK_INTERVAL_MS; more is a peer making us decode for nothing.
 */
const LINK_MAX_FRAMES_PER_WINDOW = 20
const LINK_RATE_WINDOW_MS = 5_000

/** Counts a link's frames; throws once the peer sends faster than a node would. */
function linkRate (): () => void {
  let windowStart = performance.now()
  let frames = 0
  return () => {
    const now = performance.now()
    if (now - windowStart > LINK_RATE_WINDOW_MS) {
      windowStart = now
      frames = 0
    }
    if (++frames > LINK_MAX_FRAMES_PER_WINDOW) throw new ProtocolError(`the peer sent more than ${LINK_MAX_FRAMES_PER_WINDOW} status frames within ${LINK_RATE_WINDOW_MS} ms on a status link`)
  }
}


/**
 * Push this node's status changes to `send` until `stop`; a write that fails ends the link
 * through `fail`.
 */
function pushChanges (feed: StatusLinkHost['feed'], send: (status: Status, signal: AbortSignal) => Promise<void>, timeoutMs: number, fail: (err: Error) => void): () => void {
  return feed.listen(status => {
    send(encodeStatus(status), sharedDeadline(timeoutMs)).catch((err: unknown) => { fail(toError(err)) })
  })
}

/** The serving side of a status link: the asker's status in, ours out, then both sides' changes until either ends it. */
async function serveLink (framed: FramedStream, remote: PeerId, sender: Status | undefined, links: StatusLinkHost, timeoutMs: number, signal: AbortSignal): Promise<void> {
  if (sender == null) throw new ProtocolError('a status link starts with the asker\'s own status')
  const end = (err: Error = new Error('the status link was replaced by a newer one')): void => { framed.stream.abort(err) }
  const peer = links.opened(remote, validateStatus(sender), () => { end() })
  let stopPushing = (): void => {}
  try {
    await framed.write({ status: encodeStatus(links.feed.current()) }, NodeResponse, signal)
    stopPushing = pushChanges(links.feed, async (status, deadline) => { await framed.write({ status }, NodeResponse, deadline) }, timeoutMs, end)
    const counted = linkRate()
    for (;;) {
      const next = await framed.read(NodeRequest, NO_DEADLINE, REQUEST_DECODE_LIMITS)
      counted()
      if (next.status?.sender == null) throw new ProtocolError('a status link carries only the asker\'s status')
      peer.status(validateStatus(next.status.sender))
    }
  } catch (err) {
    // The asker closing its side is how a link ends well.
    if (!(err instanceof UnexpectedEndError)) throw err
    await framed.close(AbortSignal.timeout(timeoutMs)).catch(() => {})
  } finally {
    stopPushing()
    peer.ended()
  }
}

export interface NodeProtocolOptions {
  /** How long a peer has to send its request (NODE_REQUEST_TIMEOUT_MS): a test that waits it out gives a short one. */
  requestTimeoutMs?: number
}

export async function registerNodeProtocol (libp2p: StreamRegistrar, handlers: NodeHost, options: NodeProtocolOptions = {}): Promise<void> {
  const timeoutMs = options.requestTimeoutMs ?? NODE_REQUEST_TIMEOUT_MS
  await libp2p.handle(NODE_PROTOCOL, async (stream, connection) => {
    await serveRequest(stream, connection, handlers, timeoutMs)
  }, {
    maxInboundStreams: NODE_MAX_INBOUND_STREAMS,
    maxOutboundStreams: NODE_MAX_OUTBOUND_STREAMS
  })
}

/** Send one request and read the answer; the caller closes the stream, or goes on with it (Attach). */
async function request (libp2p: StreamDialer, peer: PeerId | Multiaddr, message: NodeRequest, signal?: AbortSignal, timeoutMs = NODE_REQUEST_TIMEOUT_MS): Promise<{ response: NodeResponse, framed: FramedStream, rttMs: number }> {
  const deadline = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal != null ? [signal] : [])])
  const stream = await libp2p.dialProtocol(peer, NODE_PROTOCOL, { signal: deadline })
  const framed = new FramedStream(stream, MAX_NODE_FRAME_BYTES)
  try {
    const started = performance.now()
    await framed.write(message, NodeRequest, deadline)
    const response = await framed.read(NodeResponse, deadline, { status: STATUS_DECODE_LIMITS })
    const rttMs = performance.now() - started
    if (response.error != null) {
      throw refused(response.error.code.slice(0, 40), response.error.message.slice(0, 300))
    }
    return { response, framed, rttMs }
  } catch (err) {
    const error = toError(err)
    stream.abort(error)
    throw error
  }
}

export interface StatusReply {
  status: PeerStatus
  /** Round-trip time of the request on an open stream, in milliseconds. */
  rttMs: number
}

/**
 * Ask a peer (by ID or address) for its Status, within `timeoutMs` (NODE_REQUEST_TIMEOUT_MS
 * unless given). Throws on any failure, with the stream aborted.
 */
export async function requestStatus (libp2p: StreamDialer, peer: PeerId | Multiaddr, options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<StatusReply> {
  const { response, framed, rttMs } = await request(libp2p, peer, { status: {} }, options.signal, options.timeoutMs)
  try {
    if (response.status == null) throw new ProtocolError('the peer answered without a status')
    const status = validateStatus(response.status)
    await framed.close(AbortSignal.timeout(NODE_REQUEST_TIMEOUT_MS))
    return { status, rttMs }
  } catch (err) {
    const error = toError(err)
    framed.stream.abort(error)
    throw error
  }
}

/** An open status link, from the side that opened it. */
export interface StatusLink {
  /** The peer's status when the link opened, with its member hints. */
  status: PeerStatus
  rttMs: number
  /** Resolves when the link has ended, for whatever reason (an older peer ends it at once). */
  ended: Promise<void>
  /** End the link. */
  end: () => void
}

/**
 * Open a status link to `peer` (see StatusRequest in node.proto): send this node's status,
 * read the peer's, then send this node's changes and hand the peer's to `onStatus` until
 * either side ends it. Throws as `requestStatus` does when the first exchange fails.
 */
export async function openStatusLink (libp2p: StreamDialer, peer: PeerId | Multiaddr, feed: StatusLinkHost['feed'], onStatus: (status: PeerStatus) => void, options: { timeoutMs?: number } = {}): Promise<StatusLink> {
  const timeoutMs = options.timeoutMs ?? NODE_REQUEST_TIMEOUT_MS
  const { response, framed, rttMs } = await request(libp2p, peer, { status: { link: true, sender: encodeStatus(feed.current()) } }, undefined, timeoutMs)
  let status: PeerStatus
  try {
    if (response.status == null) throw new ProtocolError('the peer answered without a status')
    status = validateStatus(response.status)
  } catch (err) {
    const error = toError(err)
    framed.stream.abort(error)
    throw error
  }
  const end = (err: Error = new Error('status link ended')): void => { framed.stream.abort(err) }
  const stopPushing = pushChanges(feed, async (sender, deadline) => { await framed.write({ status: { link: true, sender } }, NodeRequest, deadline) }, timeoutMs, end)
  const ended = (async () => {
    try {
      const counted = linkRate()
      for (;;) {
        const next = await framed.read(NodeResponse, NO_DEADLINE, { status: STATUS_DECODE_LIMITS })
        counted()
        if (next.status == null) throw new ProtocolError('a status link carries only the peer\'s status')
        onStatus(validateStatus(next.status))
      }
    } catch (err) {
      end(toError(err))
    } finally {
      stopPushing()
    }
  })()
  return { status, rttMs, ended, end: () => { end() } }
}

/** Follow a task we submitted to `peer` from `fromSeq` on (after a reconnect or a restart). */
export async function attachToPeer (libp2p: StreamDialer, peer: PeerId, taskId: string, from: number, signal?: AbortSignal): Promise<TaskSession> {
  const fromSeq = Math.max(1, from) // as the worker reads it
  const { response, framed } = await request(libp2p, peer, { attach: { taskId, fromSeq } }, signal)
  if (response.attached == null) {
    const error = new ProtocolError('the peer answered an Attach without attaching')
    framed.stream.abort(error)
    throw error
  }
  return readTaskEvents(framed, taskId, fromSeq, signal)
}

/** Cancel a task we submitted to `peer`; says how it stands (it may have ended already). */
export async function cancelOnPeer (libp2p: StreamDialer, peer: PeerId, taskId: string, signal?: AbortSignal): Promise<TaskStanding> {
  const { response, framed } = await request(libp2p, peer, { cancel: { taskId } }, signal)
  try {
    if (response.cancelled == null) throw new ProtocolError('the peer answered a Cancel without saying how the task stands')
    await framed.close(AbortSignal.timeout(NODE_REQUEST_TIMEOUT_MS))
    const { state, lastSeq } = response.cancelled
    return { state: state as TaskState, cancelled: !isTerminal(state), lastSeq }
  } catch (err) {
    const error = toError(err)
    framed.stream.abort(error)
    throw error
  }
}
