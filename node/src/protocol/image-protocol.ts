import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { ImageCredit, ImageReply, ImageRequest, ImageWant } from '../../../protocols/image.ts'
import { ImageTransferBrokenError, ImageTransferError, ProtocolError, toError } from '../errors.ts'
import { decodeChunkFrame, encodeChunkFrame, type ChunkFrame } from './files-chunk-frames.ts'
import { FramedStream } from './framing.ts'
import { FairShare } from './fair-share.ts'
import { StallWatchdog } from './stall-watchdog.ts'
import { TransferWaits } from './transfer-waits.ts'
import type { StreamDialer, StreamRegistrar } from './peer-streams.ts'
import { checkTaskId, IMAGE_ID_PATTERN, MAX_IMAGE_GRANT_LENGTH } from './task-messages.ts'

export const IMAGE_PROTOCOL = '/cloudai/image/1.0.0'

/** Data travels in chunks of at most this much: large enough to keep a LAN link full, small enough to bound a frame. */
export const IMAGE_CHUNK_BYTES = 256 * 1024
/** A chunk plus its field tags; an offer with the most layers an engine stacks (128 diff IDs) fits many times. */
export const MAX_IMAGE_FRAME_BYTES = IMAGE_CHUNK_BYTES + 1024
/** An image has at most 128 layers (overlay2); a little room for other engines. */
export const MAX_OFFERED_LAYERS = 256
/** Request, offer and want are small and answered at once on a LAN. */
export const IMAGE_HANDSHAKE_TIMEOUT_MS = 10_000
/** While data flows, this long without a chunk (either way: unread by the worker, unsent by the holder) ends the transfer. */
export const IMAGE_STALL_TIMEOUT_MS = 30_000
/**
 * Data the holder may send ahead of what the worker has handed on to its engine. The
 * muxer's window does not bound what a paused reader buffers here, and the stream's read
 * buffer (mesh/limits.ts, 2 MiB) resets a stream past it: so the worker grants credit as it
 * consumes, and this much in flight (under that buffer with room to spare) still keeps a LAN
 * link busy.
 */
export const IMAGE_CREDIT_BYTES = 4 * 1024 * 1024
// The worker reads ahead as much as it granted (FramedStream's read-ahead): a holder within
// its credit never makes it pause the stream, and a paused yamux stream sends no window
// updates, which turned each window into a round trip of stop-and-wait.
/** The most credit a holder takes from one message (a worker's first grant or a later one): more is a protocol error. */
export const MAX_IMAGE_CREDIT_BYTES = 16 * 1024 * 1024
/** The worker grants credit in steps of at least this much: one small frame per MiB (each costs both sides a noise message). */
export const IMAGE_CREDIT_STEP_BYTES = 1024 * 1024
/** Transfers one connection may carry at once: one per image a worker fetches from this peer. */
export const IMAGE_MAX_INBOUND_STREAMS = 8
export const IMAGE_MAX_OUTBOUND_STREAMS = 8

const REPLY_LIMITS = { offer: { diffIds: MAX_OFFERED_LAYERS, layerSizes: MAX_OFFERED_LAYERS } }
const WANT_LIMITS = { haveLayers: MAX_OFFERED_LAYERS }
const DIFF_ID_PATTERN = /^sha256:[a-f0-9]{64}$/
/** A peer ID as text is about 52 characters; the field is read only as text. */
const MAX_SUBMITTER_LENGTH = 128

export interface ImageOffer {
  /** The image's layers, base first. */
  diffIds: string[]
  /** The image's size in the holder's engine. */
  sizeBytes: number
  /** Each layer's size at the places of `diffIds`, or empty when the holder cannot tell (progress only). */
  layerSizes: number[]
}

/** A request for another member's task: that member (the task's submitter) and its grant. */
export interface OnBehalfOf {
  submitter: string
  grant: string
}

/** The holder's answer to a request: an offer, or why not. */
export type OfferDecision = { offer: ImageOffer } | { refusal: { code: string, message: string } }

/** What a node that serves images provides; the protocol checks the wire, the host decides. */
export interface ImageHost {
  /** Whether `remote` may have `imageId` for its task `taskId`, and the image's layers if so. */
  offer(remote: string, taskId: string, imageId: string, onBehalfOf?: OnBehalfOf): Promise<OfferDecision>
  /**
   * The export of an offered image, leaving out the layers (indices into the offer) the
   * asker holds. Called as soon as the offer is sent, before the asker has said which
   * layers it holds (`heldLayers` resolves then): an engine stages its whole export before
   * the first byte, and that can start while the offer and the answer travel.
   */
  export(imageId: string, offer: ImageOffer, heldLayers: Promise<number[]>, signal: AbortSignal, remote: string): Promise<AsyncIterable<Uint8Array>>
  /** The transfer ended early: the asker went away, or the export failed. */
  onFailure?(remote: string, err: Error): void
  /** The whole export was sent: its bytes, and how long the sending waited on each hop (ms). */
  onSent?(remote: string, imageId: string, bytes: number, waitsMs: Record<string, number>): void
}

/**
 * The engine's export re-cut into pieces of exactly IMAGE_CHUNK_BYTES (the last one
 * shorter), each a list of views of the engine's own chunks: nothing is copied. An engine
 * hands its export over in chunks of 16-64 KiB: gathered, they make a quarter or less of
 * the frames, credit messages and socket writes; and equal pieces make taking turns piece
 * by piece (FairShare) a fair share of bytes.
 */
export async function * equalPieces (source: AsyncIterable<Uint8Array>, size = IMAGE_CHUNK_BYTES): AsyncGenerator<Uint8ArrayList> {
  let piece = new Uint8ArrayList()
  for await (const chunk of source) {
    let at = 0
    while (at < chunk.byteLength) {
      const take = Math.min(size - piece.byteLength, chunk.byteLength - at)
      piece.append(chunk.subarray(at, at + take))
      at += take
      if (piece.byteLength === size) {
        yield piece
        piece = new Uint8ArrayList()
      }
    }
  }
  if (piece.byteLength > 0) yield piece
}

async function serveImage (stream: Stream, connection: Connection, host: ImageHost, share: FairShare): Promise<void> {
  const framed = new FramedStream(stream, MAX_IMAGE_FRAME_BYTES)
  const remote = connection.remotePeer.toString()
  const transfer = new AbortController()
  try {
    const handshake = AbortSignal.timeout(IMAGE_HANDSHAKE_TIMEOUT_MS)
    const request = await framed.read(ImageRequest, handshake)
    const taskId = checkTaskId(request.taskId)
    if (!IMAGE_ID_PATTERN.test(request.imageId)) throw new ProtocolError(`"${request.imageId.slice(0, 80)}" is not an image ID`)
    if (request.submitter.length > MAX_SUBMITTER_LENGTH || request.grant.length > MAX_IMAGE_GRANT_LENGTH) throw new ProtocolError('the request\'s submitter or grant is too long')
    const onBehalfOf = request.submitter !== '' ? { submitter: request.submitter, grant: request.grant } : undefined
    let decision = await host.offer(remote, taskId, request.imageId, onBehalfOf)
    if ('offer' in decision && request.maxBytes > 0 && decision.offer.sizeBytes > request.maxBytes) {
      decision = { refusal: { code: 'TOO_LARGE', message: `the image is ${decision.offer.sizeBytes} bytes, more than the asking node's limit of ${request.maxBytes} (its policy imageTransfer.maxSize)` } }
    }
    await framed.write<ImageReply>(decision, ImageReply, handshake)
    if ('refusal' in decision) {
      await framed.close(handshake)
      return
    }
    const wanted = framed.read(ImageWant, handshake, WANT_LIMITS)
    const layers = decision.offer.diffIds.length
    const heldLayers = wanted.then(want => {
      if (want.haveLayers.some(index => index >= layers)) throw new ProtocolError('the asker claims a layer the image does not have')
      return [...new Set(want.haveLayers)]
    })
    heldLayers.catch(() => {})
    const exporting = host.export(request.imageId, decision.offer, heldLayers, transfer.signal, remote)
    exporting.catch(() => {})
    const want = await wanted
    const exported = await exporting
    const credit = new Credit(Math.min(want.creditBytes, MAX_IMAGE_CREDIT_BYTES))
    const granting = readCredit(framed, credit, transfer.signal)
    granting.catch(err => { credit.fail(toError(err)) })
    const stall = new StallWatchdog(IMAGE_STALL_TIMEOUT_MS, transfer.signal)
    const waits = new TransferWaits()
    const pieces = equalPieces(exported)
    let sent = 0
    try {
      let mark = performance.now()
      while (true) {
        const next = await pieces.next()
        mark = waits.add('export', mark)
        if (next.done === true) break
        const piece = next.value
        // Credit first: a transfer waiting for its asker takes no turn from the others.
        await credit.take(piece.byteLength, stall.signal)
        mark = waits.add('credit', mark)
        await share.acquire(stall.signal)
        mark = waits.add('turn', mark)
        let more: boolean
        try {
          more = framed.sendFrame(encodeChunkFrame(piece, false))
        } finally {
          // The turn ends once the piece is handed to the muxer: waiting for this link to
          // drain comes after it, so a slow worker holds up no other.
          share.release()
        }
        if (!more) await framed.drained(stall.signal)
        mark = waits.add('send', mark)
        sent += piece.byteLength
        stall.progress()
      }
      await framed.writeFrame(encodeChunkFrame(new Uint8Array(0), true), stall.signal)
      await framed.close(stall.signal)
      host.onSent?.(remote, request.imageId, sent, waits.totals())
    } finally {
      stall.stop()
      // Ends the engine's export at once when the transfer failed mid-way.
      await pieces.return(undefined).catch(() => {})
    }
  } catch (err) {
    const error = toError(err)
    host.onFailure?.(remote, error)
    stream.abort(error)
  } finally {
    // Ends the engine's export too when the asker went away mid-way.
    transfer.abort()
  }
}

/** What the worker has allowed the holder to send and it has not sent yet. */
class Credit {
  private available: number
  private failure: Error | undefined
  private wake = (): void => {}

  constructor (initial: number) {
    this.available = initial
  }

  grant (bytes: number): void {
    this.available += bytes
    this.wake()
  }

  fail (err: Error): void {
    this.failure = err
    this.wake()
  }

  /** Wait until `bytes` may be sent, then count them as sent; a worker that grants nothing until `signal` ends the transfer. */
  async take (bytes: number, signal: AbortSignal): Promise<void> {
    while (this.available < bytes) {
      if (this.failure != null) throw this.failure
      if (signal.aborted) throw new ProtocolError(`the asker granted no credit for ${IMAGE_STALL_TIMEOUT_MS / 1000} s`)
      // The signal lives as long as the transfer: each wait takes its listener off again.
      await new Promise<void>(resolve => {
        const done = (): void => { signal.removeEventListener('abort', done); resolve() }
        this.wake = done
        signal.addEventListener('abort', done, { once: true })
      })
    }
    this.available -= bytes
  }
}

/** The worker's credit messages, for as long as the transfer lasts; a worker that grants more than MAX is a protocol error. */
async function readCredit (framed: FramedStream, credit: Credit, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const message = await framed.read(ImageCredit, signal)
    if (message.bytes <= 0 || message.bytes > MAX_IMAGE_CREDIT_BYTES) throw new ProtocolError(`a credit of ${message.bytes} bytes is out of range`)
    credit.grant(message.bytes)
  }
}

export async function registerImageProtocol (libp2p: StreamRegistrar, host: ImageHost, share = new FairShare()): Promise<void> {
  // One share for all of this node's exports: workers fetching at once get equal bytes.
  await libp2p.handle(IMAGE_PROTOCOL, async (stream, connection) => {
    await serveImage(stream, connection, host, share)
  }, { maxInboundStreams: IMAGE_MAX_INBOUND_STREAMS, maxOutboundStreams: IMAGE_MAX_OUTBOUND_STREAMS })
}

/** An offer received; `receive` asks for the layers the asker lacks and yields the archive. */
export interface ImageSession {
  offer: ImageOffer
  /**
   * The holder's export without the layers at `heldLayers`, chunk by chunk as it arrives:
   * the next chunk is read only when the consumer asks, so a slow engine slows the holder.
   * Throws ImageTransferError past `maxBytes`, on a stall, or when the stream ends without
   * the end mark; the stream is closed after the end mark, aborted otherwise.
   */
  receive(heldLayers: number[], maxBytes: number, signal: AbortSignal, waits?: TransferWaits): AsyncIterable<Uint8Array>
  abort(err: Error): void
}

/** Ask `peer` for an image a task of its own names; a refusal throws ImageTransferError with the holder's reason. */
export async function requestImage (libp2p: StreamDialer, peer: PeerId, request: { taskId: string, imageId: string, maxBytes: number, submitter?: string, grant?: string }, signal: AbortSignal): Promise<ImageSession> {
  const handshake = AbortSignal.any([AbortSignal.timeout(IMAGE_HANDSHAKE_TIMEOUT_MS), signal])
  const stream = await libp2p.dialProtocol(peer, IMAGE_PROTOCOL, { signal: handshake })
  const framed = new FramedStream(stream, MAX_IMAGE_FRAME_BYTES, IMAGE_CREDIT_BYTES)
  let reply: ImageReply
  try {
    await framed.write({ submitter: '', grant: '', ...request }, ImageRequest, handshake)
    reply = await framed.read(ImageReply, handshake, REPLY_LIMITS)
    if (reply.refusal != null) {
      await framed.close(handshake).catch(() => {})
      throw new ImageTransferError(`the peer refused to send the image: ${reply.refusal.message.slice(0, 300)} (${reply.refusal.code.slice(0, 40)})`)
    }
    if (reply.offer == null) throw new ProtocolError('the peer answered without an offer or a refusal')
    if (reply.offer.diffIds.length === 0 || !reply.offer.diffIds.every(id => DIFF_ID_PATTERN.test(id))) throw new ProtocolError('the peer offered an image without valid layer IDs')
  } catch (err) {
    const error = toError(err)
    stream.abort(error)
    throw error
  }
  // Sizes that do not match the layers are not used (they only feed progress).
  const layerSizes = reply.offer.layerSizes.length === reply.offer.diffIds.length ? reply.offer.layerSizes : []
  const offer = { diffIds: reply.offer.diffIds, sizeBytes: reply.offer.sizeBytes, layerSizes }
  return {
    offer,
    abort: err => { stream.abort(err) },
    receive: (heldLayers, maxBytes, life, waits = new TransferWaits()) => (async function * () {
      let complete = false
      const stall = new StallWatchdog(IMAGE_STALL_TIMEOUT_MS, life)
      try {
        await framed.write({ haveLayers: heldLayers, creditBytes: IMAGE_CREDIT_BYTES }, ImageWant, AbortSignal.any([AbortSignal.timeout(IMAGE_HANDSHAKE_TIMEOUT_MS), life]))
        let received = 0
        let ungranted = 0
        let mark = performance.now()
        while (true) {
          let chunk: ChunkFrame
          stall.progress()
          try {
            chunk = decodeChunkFrame(await framed.readFrame(stall.signal))
          } catch (err) {
            life.throwIfAborted()
            throw new ImageTransferBrokenError(`the image transfer broke off after ${received} bytes: ${toError(err).message}`, { cause: err })
          }
          mark = waits.add('network', mark)
          received += chunk.bytes
          if (received > maxBytes) throw new ImageTransferError(`the peer sent more than ${maxBytes} bytes, this node's limit for one image (policy imageTransfer.maxSize)`)
          // The frame's data by reference, in the pieces it arrived in (noise messages).
          for (const part of chunk.parts) yield part
          mark = waits.add('engine', mark)
          if (chunk.end) break
          // Taken by the consumer (the engine): the holder may send as much again.
          ungranted += chunk.bytes
          if (ungranted >= IMAGE_CREDIT_STEP_BYTES) {
            await framed.write({ bytes: ungranted }, ImageCredit, stall.signal)
            ungranted = 0
            mark = waits.add('credit', mark)
          }
        }
        await framed.close(AbortSignal.timeout(IMAGE_HANDSHAKE_TIMEOUT_MS))
        complete = true
      } finally {
        stall.stop()
        // Also when the consumer stopped reading (the archive was refused): the holder stops exporting.
        if (!complete) stream.abort(new ImageTransferError('the image transfer was stopped'))
      }
    })()
  }
}
