import { chunkCost, MAX_LOG_CHUNK_BYTES, type OutputPiece } from '../protocol/task-output.ts'
import type { LogStream } from '../protocol/task-messages.ts'

/**
 * How long output waits for more before it is recorded: short enough that a person watching
 * sees no lag, long enough that a task writing small pieces (or switching between stdout and
 * stderr at every byte) fills events instead of making one per write.
 */
export const OUTPUT_DELAY_MS = 10

/** One stream's consecutive bytes, as they arrived. */
interface Run {
  stream: LogStream
  parts: Uint8Array[]
  bytes: number
}

/**
 * Output waiting to become one event: pieces of both streams in the order they were written,
 * handed on (`emit`) once they fill an event (MAX_LOG_CHUNK_BYTES with the cost of their
 * segments) or OUTPUT_DELAY_MS after the first of them, whichever comes first; `flush` hands
 * them on at once (before any other event, so that order holds). Holds at most one event's
 * bytes.
 */
export class OutputBatch {
  private readonly emit: (pieces: OutputPiece[]) => void
  private readonly delayMs: number
  private runs: Run[] = []
  private bytes = 0
  private timer?: NodeJS.Timeout

  constructor (emit: (pieces: OutputPiece[]) => void, delayMs = OUTPUT_DELAY_MS) {
    this.emit = emit
    this.delayMs = delayMs
  }

  add (stream: LogStream, data: Uint8Array): void {
    let rest = data
    while (rest.byteLength > 0) {
      const last = this.runs.at(-1)
      const joins = last?.stream === stream
      const room = MAX_LOG_CHUNK_BYTES - chunkCost(this.bytes, this.runs.length + (joins ? 0 : 1))
      if (room <= 0) {
        this.flush()
        continue
      }
      const piece = rest.subarray(0, room)
      rest = rest.subarray(piece.byteLength)
      if (joins) {
        last.parts.push(piece)
        last.bytes += piece.byteLength
      } else {
        this.runs.push({ stream, parts: [piece], bytes: piece.byteLength })
      }
      this.bytes += piece.byteLength
      if (chunkCost(this.bytes, this.runs.length) >= MAX_LOG_CHUNK_BYTES) this.flush()
    }
    if (this.runs.length > 0 && this.timer == null) {
      this.timer = setTimeout(() => { this.timer = undefined; this.flush() }, this.delayMs)
    }
  }

  /** Hand on what waits, if anything. */
  flush (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.runs.length === 0) return
    const pieces = this.runs.map(run => ({ stream: run.stream, data: run.parts.length === 1 ? run.parts[0] : Buffer.concat(run.parts, run.bytes) }))
    this.runs = []
    this.bytes = 0
    this.emit(pieces)
  }

  /** Drop what waits (the task ended without it: nothing may follow its terminal event). */
  discard (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.runs = []
    this.bytes = 0
  }
}
