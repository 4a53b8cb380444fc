import { ProtocolError } from '../errors.ts'
import { LogStream, type LogChunk, type TaskEvent } from '../../../protocols/task.ts'

/** What one log event carries at most, counting its segments (`outputCost` less the event's own overhead): one frame of the task protocol holds it. */
export const MAX_LOG_CHUNK_BYTES = 64 * 1024
/**
 * An upper bound on what one segment adds to an encoded event (its tag, length, stream and
 * length fields): a task that switches streams at every byte pays for each switch, so its
 * log limit and its frames hold what the bytes really cost to store and send.
 */
export const SEGMENT_COST_BYTES = 8
/**
 * An upper bound on what an event costs beyond its task id and output: its row's key and
 * header in the store and the encoded event's other fields. The task id is counted twice
 * (the row's key and the encoded event).
 */
export const EVENT_COST_BYTES = 64
/** Segments one event may carry: each holds a byte at least, and all of them fit MAX_LOG_CHUNK_BYTES. */
export const MAX_LOG_SEGMENTS = Math.floor(MAX_LOG_CHUNK_BYTES / (SEGMENT_COST_BYTES + 1))

/** Decode limits for a TaskEvent (protons checks counts before allocating). */
export const TASK_EVENT_LIMITS = { log: { segments: MAX_LOG_SEGMENTS } }

/** One stream's bytes, as the task wrote them. */
export interface OutputPiece {
  stream: LogStream
  data: Uint8Array
}

/** A log chunk's output in order, a piece per segment (one piece for a chunk without segments). */
export function outputPieces (chunk: LogChunk): OutputPiece[] {
  if (chunk.segments.length === 0) return [{ stream: chunk.stream, data: chunk.data }]
  const pieces: OutputPiece[] = []
  let offset = 0
  for (const segment of chunk.segments) {
    pieces.push({ stream: segment.stream, data: chunk.data.subarray(offset, offset + segment.length) })
    offset += segment.length
  }
  return pieces
}

/**
 * One chunk for pieces of output in order: adjacent pieces of one stream are joined, and a
 * chunk of one stream has no segments (the form every reader knows).
 */
export function logChunk (pieces: OutputPiece[]): LogChunk {
  const segments: Array<{ stream: LogStream, length: number }> = []
  let total = 0
  for (const piece of pieces) {
    if (piece.data.byteLength === 0) continue
    total += piece.data.byteLength
    const last = segments.at(-1)
    if (last?.stream === piece.stream) last.length += piece.data.byteLength
    else segments.push({ stream: piece.stream, length: piece.data.byteLength })
  }
  const data = new Uint8Array(total)
  let offset = 0
  for (const piece of pieces) {
    data.set(piece.data, offset)
    offset += piece.data.byteLength
  }
  const stream = segments[0]?.stream ?? LogStream.STDOUT
  return { stream, data, segments: segments.length > 1 ? segments : [] }
}

/** What a chunk of `dataBytes` in `segments` segments costs in an event (0 or 1 segment: none extra). */
export function chunkCost (dataBytes: number, segments: number): number {
  return dataBytes + (segments > 1 ? segments * SEGMENT_COST_BYTES : 0)
}

/**
 * What an event costs to store, for the output limit: its output with its segments, and the
 * event's own overhead. An upper bound, the same on the worker and the master.
 */
export function eventCost (event: TaskEvent): number {
  const output = event.log != null ? chunkCost(event.log.data.byteLength, event.log.segments.length) : 0
  return EVENT_COST_BYTES + 2 * event.taskId.length + output
}

/**
 * A log chunk from a peer, checked before it is believed: its segments, if any, each hold a
 * byte at least and together exactly its data, and it fits MAX_LOG_CHUNK_BYTES.
 */
export function checkLogChunk (chunk: LogChunk): void {
  if (chunk.segments.length === 1) throw new ProtocolError('a log chunk has a single segment (one stream is sent without segments)')
  if (chunkCost(chunk.data.byteLength, chunk.segments.length) > MAX_LOG_CHUNK_BYTES) {
    throw new ProtocolError(`a log chunk carries more than ${MAX_LOG_CHUNK_BYTES} bytes with its segments`)
  }
  if (chunk.segments.length === 0) return
  let total = 0
  for (const segment of chunk.segments) {
    if (segment.length < 1) throw new ProtocolError('a log segment is empty')
    total += segment.length
  }
  if (total !== chunk.data.byteLength) throw new ProtocolError(`a log chunk's segments hold ${total} bytes, its data ${chunk.data.byteLength}`)
}

/**
 * The longest prefix of `pieces` that costs at most `maxCost` as one chunk (`chunkCost`):
 * what is kept of output that reaches the limit, so the kept output stays an exact prefix.
 */
export function prefixWithin (pieces: OutputPiece[], maxCost: number): OutputPiece[] {
  const kept: OutputPiece[] = []
  let bytes = 0
  for (const piece of pieces) {
    // With this piece, the chunk has one more segment (pieces of one stream are joined already).
    const room = maxCost - chunkCost(bytes, kept.length + 1)
    if (room <= 0) break
    if (piece.data.byteLength <= room) {
      kept.push(piece)
      bytes += piece.data.byteLength
      continue
    }
    kept.push({ stream: piece.stream, data: piece.data.subarray(0, room) })
    break
  }
  return kept
}
