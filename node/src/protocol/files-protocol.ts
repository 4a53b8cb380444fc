import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Readable } from 'node:stream'
import { FilesReply, FilesRequest, type OutputSetSummary } from '../../../protocols/files.ts'
import { CloudaiError, NoOutputsError, NotSubmitterError, ProtocolError, TaskNotFoundError, toError } from '../errors.ts'
import { decodeChunkFrame, encodeChunkFrame } from './files-chunk-frames.ts'
import { FramedStream } from './framing.ts'
import type { StreamDialer, StreamRegistrar } from './peer-streams.ts'
import { StallWatchdog } from './stall-watchdog.ts'
import { checkTaskId, MAX_ATTEMPT } from './task-messages.ts'

export const FILES_PROTOCOL = '/cloudai/files/1.0.0'

/** Archive bytes per frame: big enough that framing costs nothing, small enough to stay well inside the muxer's window. */
export const MAX_FILES_CHUNK_BYTES = 256 * 1024
const MAX_FILES_FRAME_BYTES = MAX_FILES_CHUNK_BYTES + 1024
/**
 * What the receiving end reads ahead of its consumer (disk, engine, HTTP client): the sender
 * keeps a window in flight while a chunk is written onward, instead of waiting a round trip
 * per window (3.5x the throughput here). Per stream at most this plus two muxer windows
 * (mesh/limits.ts) wait in memory.
 */
const FILES_READ_AHEAD_BYTES = 1024 * 1024
/** The request and its answer (the output summaries: at most 64 sets of short text). */
const FILES_REQUEST_TIMEOUT_MS = 10_000
/** A transfer that moves nothing for this long (either side) is cut off. */
export const FILES_IDLE_TIMEOUT_MS = 60_000
/** Transfers one connection may carry at once: a task's inputs and a download or two, for many tasks. */
const FILES_MAX_STREAMS = 64
/** Output sets in one answer (the spec allows 64). */
const REPLY_LIMITS = { accepted: { outputs: 64 } }

/** What a node serves on the files protocol; each side checks who asks. */
export interface FilesHost {
  /** As a task's submitter: its inputs as a tar, for the worker of that attempt only. */
  inputs: (requester: string, taskId: string, attempt: number) => Promise<Readable>
  /** As a task's worker: the outputs it kept, for the task's submitter only. */
  outputs: (requester: string, taskId: string) => Promise<{ sets: OutputSetSummary[], archive: Readable }>
  onBadRequest?: (remote: PeerId, err: Error) => void
}

/** A refusal both sides know, told to the asker as its own class. */
const REFUSALS: Array<{ code: string, make: (message: string) => Error, is: (err: Error) => boolean }> = [
  { code: 'NOT_FOUND', make: message => new TaskNotFoundError(message), is: err => err instanceof TaskNotFoundError },
  { code: 'FORBIDDEN', make: message => new NotSubmitterError(message), is: err => err instanceof NotSubmitterError },
  { code: 'NO_OUTPUTS', make: message => new NoOutputsError(message), is: err => err instanceof NoOutputsError }
]

async function sendArchive (framed: FramedStream, archive: Readable): Promise<void> {
  // One deadline for the whole transfer, refreshed per frame: a timeout signal per frame
  // cost hundreds of timers and listeners a second.
  const idle = new StallWatchdog(FILES_IDLE_TIMEOUT_MS)
  try {
    for await (const chunk of archive) {
      const bytes = chunk as Uint8Array<ArrayBuffer>
      for (let at = 0; at < bytes.byteLength; at += MAX_FILES_CHUNK_BYTES) {
        await framed.writeFrame(encodeChunkFrame(bytes.subarray(at, at + MAX_FILES_CHUNK_BYTES), false), idle.signal)
        idle.progress()
      }
    }
    await framed.writeFrame(encodeChunkFrame(new Uint8Array(0), true), idle.signal)
  } finally {
    idle.stop()
  }
}

async function serveFiles (stream: Stream, connection: Connection, host: FilesHost): Promise<void> {
  const framed = new FramedStream(stream, MAX_FILES_FRAME_BYTES, FILES_READ_AHEAD_BYTES)
  const requester = connection.remotePeer.toString()
  let archive: Readable | undefined
  try {
    const request = await framed.read(FilesRequest, AbortSignal.timeout(FILES_REQUEST_TIMEOUT_MS))
    if ((request.fetchInputs == null) === (request.fetchOutputs == null)) throw new ProtocolError('a files request must carry exactly one of fetchInputs, fetchOutputs')
    let reply: FilesReply
    try {
      if (request.fetchInputs != null) {
        const attempt = request.fetchInputs.attempt
        if (attempt < 1 || attempt > MAX_ATTEMPT) throw new ProtocolError(`attempt ${attempt} is out of range`)
        archive = await host.inputs(requester, checkTaskId(request.fetchInputs.taskId), attempt)
        reply = { accepted: { archiveBytes: 0, outputs: [] } }
      } else {
        const kept = await host.outputs(requester, checkTaskId(request.fetchOutputs?.taskId ?? ''))
        archive = kept.archive
        reply = { accepted: { archiveBytes: 0, outputs: kept.sets } }
      }
    } catch (err) {
      const error = toError(err)
      const known = REFUSALS.find(refusal => refusal.is(error))
      if (known == null) throw error
      reply = { error: { code: known.code, message: error.message } }
    }
    await framed.write(reply, FilesReply, AbortSignal.timeout(FILES_REQUEST_TIMEOUT_MS))
    if (archive != null) await sendArchive(framed, archive)
    await framed.close(AbortSignal.timeout(FILES_IDLE_TIMEOUT_MS))
  } catch (err) {
    const error = toError(err)
    archive?.destroy()
    host.onBadRequest?.(connection.remotePeer, error)
    stream.abort(error)
  }
}

export async function registerFilesProtocol (libp2p: StreamRegistrar, host: FilesHost): Promise<void> {
  await libp2p.handle(FILES_PROTOCOL, async (stream, connection) => {
    await serveFiles(stream, connection, host)
  }, { maxInboundStreams: FILES_MAX_STREAMS, maxOutboundStreams: FILES_MAX_STREAMS })
}

/** The archive's bytes as they arrive, each read with its own deadline; the stream is reset if the reader stops early. */
async function * archiveChunks (framed: FramedStream, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  let ended = false
  // One deadline, refreshed per frame (not a timeout signal and its composite per frame).
  const idle = new StallWatchdog(FILES_IDLE_TIMEOUT_MS, signal)
  try {
    while (true) {
      idle.progress()
      const chunk = decodeChunkFrame(await framed.readFrame(idle.signal))
      yield * chunk.parts
      if (chunk.end) break
    }
    ended = true
    await framed.close(AbortSignal.timeout(FILES_REQUEST_TIMEOUT_MS))
  } finally {
    idle.stop()
    if (!ended) framed.stream.abort(new CloudaiError('the archive was not read to its end'))
  }
}

async function ask (libp2p: StreamDialer, peer: PeerId, request: FilesRequest, signal?: AbortSignal): Promise<{ outputs: OutputSetSummary[], archive: AsyncIterable<Uint8Array> }> {
  const stream = await libp2p.dialProtocol(peer, FILES_PROTOCOL, { signal })
  const framed = new FramedStream(stream, MAX_FILES_FRAME_BYTES, FILES_READ_AHEAD_BYTES)
  try {
    const deadline = AbortSignal.timeout(FILES_REQUEST_TIMEOUT_MS)
    await framed.write(request, FilesRequest, deadline)
    const reply = await framed.read(FilesReply, deadline, REPLY_LIMITS)
    if (reply.error != null) {
      const known = REFUSALS.find(refusal => refusal.code === reply.error?.code)
      throw known != null ? known.make(reply.error.message) : new ProtocolError(`the peer refused: ${reply.error.code}: ${reply.error.message}`)
    }
    if (reply.accepted == null) throw new ProtocolError('the peer answered a files request with neither an error nor an acceptance')
    return { outputs: reply.accepted.outputs, archive: archiveChunks(framed, signal) }
  } catch (err) {
    stream.abort(toError(err))
    throw err
  }
}

/** Ask a task's submitter for its inputs (this node is the worker of `attempt`). */
export async function fetchInputsFromPeer (libp2p: StreamDialer, submitter: PeerId, taskId: string, attempt: number, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
  return (await ask(libp2p, submitter, { fetchInputs: { taskId, attempt } }, signal)).archive
}

/** Ask the worker of a task this node submitted for the outputs it kept. */
export async function fetchOutputsFromPeer (libp2p: StreamDialer, worker: PeerId, taskId: string, signal?: AbortSignal): Promise<{ outputs: OutputSetSummary[], archive: AsyncIterable<Uint8Array> }> {
  return await ask(libp2p, worker, { fetchOutputs: { taskId } }, signal)
}
