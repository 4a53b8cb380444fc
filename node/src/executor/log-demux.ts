import { Writable } from 'node:stream'

/** A log event must fit one wire frame of the task protocol (docs/architecture.md, "Protocols": 64 KiB per log chunk). */
export const MAX_LOG_CHUNK_BYTES = 64 * 1024
/** Docker's multiplexed stream: [type, 0, 0, 0, size uint32 BE] before each payload. */
const HEADER_BYTES = 8
/** Stream type 2 is stderr; 1 is stdout (0, stdin, and 3, engine errors, never carry container stdout). */
const STDERR_TYPE = 2

export type LogStream = 'stdout' | 'stderr'
export type LogSink = (stream: LogStream, chunk: Uint8Array) => void | Promise<void>

/**
 * Splits Docker's multiplexed attach stream (`Tty: false`) into stdout and stderr pieces.
 * Consecutive payload bytes of one stream that arrive together are joined (up to
 * MAX_LOG_CHUNK_BYTES), so many tiny writes cost few sink calls. `write` completes only
 * after the sink's promise settles: piped into this, the attach stream pauses while the
 * observer is busy.
 */
export class DockerLogDemuxer extends Writable {
  /** When bytes last arrived or a sink call last finished; tells a stuck engine from a slow observer. */
  lastProgressAt = Date.now()
  private readonly sink: LogSink
  private readonly header = Buffer.alloc(HEADER_BYTES)
  private headerFill = 0
  private remaining = 0
  private current: LogStream = 'stdout'
  private pending: Buffer[] = []
  private pendingBytes = 0
  private pendingStream: LogStream = 'stdout'

  constructor (sink: LogSink) {
    super({ highWaterMark: MAX_LOG_CHUNK_BYTES })
    this.sink = sink
  }

  override _write (chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.lastProgressAt = Date.now()
    this.consume(chunk).then(() => { callback() }, (err: unknown) => {
      callback(err instanceof Error ? err : new Error(String(err)))
    })
  }

  private async consume (data: Buffer): Promise<void> {
    let offset = 0
    while (offset < data.length) {
      if (this.remaining === 0) {
        const take = Math.min(HEADER_BYTES - this.headerFill, data.length - offset)
        data.copy(this.header, this.headerFill, offset, offset + take)
        this.headerFill += take
        offset += take
        if (this.headerFill < HEADER_BYTES) break
        this.headerFill = 0
        this.current = this.header[0] === STDERR_TYPE ? 'stderr' : 'stdout'
        this.remaining = this.header.readUInt32BE(4)
        continue
      }
      const take = Math.min(this.remaining, data.length - offset)
      await this.add(this.current, data.subarray(offset, offset + take))
      this.remaining -= take
      offset += take
    }
    await this.flush()
  }

  private async add (stream: LogStream, piece: Buffer): Promise<void> {
    if (stream !== this.pendingStream) {
      await this.flush()
      this.pendingStream = stream
    }
    let rest = piece
    while (rest.length > 0) {
      const room = MAX_LOG_CHUNK_BYTES - this.pendingBytes
      this.pending.push(rest.subarray(0, room))
      this.pendingBytes += Math.min(room, rest.length)
      rest = rest.subarray(room)
      if (this.pendingBytes === MAX_LOG_CHUNK_BYTES) await this.flush()
    }
  }

  private async flush (): Promise<void> {
    if (this.pendingBytes === 0) return
    // Joined into a fresh buffer, so the sink may keep the chunk.
    const chunk = Buffer.concat(this.pending, this.pendingBytes)
    this.pending = []
    this.pendingBytes = 0
    await this.sink(this.pendingStream, chunk)
    this.lastProgressAt = Date.now()
  }
}
