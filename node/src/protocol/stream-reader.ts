import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { ProtocolError } from '../errors.ts'

/**
 * Bytes a peer may still send once we stopped reading: its last Ack (or a Cancel) may cross
 * our answer on the wire; anything more is a peer that will not stop, and is reset.
 */
export const MAX_TRAILING_BYTES = 4 * 1024

type Chunk = Uint8Array | Uint8ArrayList

/**
 * A stream's bytes as they arrive, with bounded buffering. Once `readAheadBytes` wait to be
 * read the stream is paused, so the rest waits in the stream's own read buffer, which the
 * muxer's window and the read-buffer limit bound (mesh/limits.ts). Once `stop()` is called
 * nothing more is read: a peer that sends past MAX_TRAILING_BYTES after that is reset.
 *
 * Read-ahead matters for bulk transfers: a paused yamux stream sends no window updates, so a
 * reader that pauses on every chunk turns the window into stop-and-wait (the sender idles
 * until the reader has emptied its queue and a round trip has passed). With read-ahead the
 * sender keeps a window in flight while the reader works; the queue holds at most
 * `readAheadBytes` plus one dispatch (at most a window), and while paused at most one more
 * window waits in the stream's own buffer.
 *
 * The stream's own async iterator misses a remote close that happened before reading began
 * (common: the peer answers during protocol negotiation and closes at once) and then waits
 * until our deadline; this reader checks the close state as well as waiting for events.
 */
export class StreamReader {
  private readonly stream: Stream
  private readonly queue: Chunk[] = []
  private queuedBytes = 0
  private readonly readAheadBytes: number
  private failure: Error | undefined
  private stopped = false
  private trailingBytes = 0
  private resuming = false
  private pauseAfterResume = false
  private wake = (): void => {}

  /** `readAheadBytes`: what may wait to be read before the stream is paused (0: pause on every chunk). */
  constructor (stream: Stream, readAheadBytes = 0) {
    this.stream = stream
    this.readAheadBytes = readAheadBytes
    const onMessage = (evt: StreamMessageEvent): void => { this.received(evt.data) }
    const onChange = (): void => { this.wake() }
    const onClose = (evt: StreamCloseEvent): void => {
      this.failure = evt.error
      this.wake()
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('remoteCloseWrite', onChange)
      stream.removeEventListener('end', onChange)
      stream.removeEventListener('close', onClose)
    }
    stream.addEventListener('message', onMessage)
    stream.addEventListener('remoteCloseWrite', onChange)
    stream.addEventListener('end', onChange)
    stream.addEventListener('close', onClose)
  }

  /** The chunks in order, ending when the remote closes its write side or `stop()` is called. */
  async * chunks (): AsyncGenerator<Chunk> {
    while (!this.stopped) {
      const chunk = this.queue.shift()
      if (chunk != null) {
        this.queuedBytes -= chunk.byteLength
        // Half the read-ahead left: let the sender go on while this chunk is worked on.
        if (this.readAheadBytes > 0 && this.queuedBytes <= this.readAheadBytes / 2) this.setPaused(false)
        yield chunk
      } else if (this.failure != null) {
        throw this.failure
      } else if (this.stream.readBufferLength === 0 && (this.stream.remoteWriteStatus === 'closed' || this.stream.readStatus === 'closed' || this.stream.status !== 'open')) {
        return
      } else {
        const woken = new Promise<void>(resolve => { this.wake = resolve })
        this.setPaused(false)
        await woken
      }
    }
  }

  /** Read nothing more: drop what waits, and reset the stream if the peer goes on sending. */
  stop (): void {
    this.stopped = true
    this.queue.length = 0
    this.queuedBytes = 0
    this.setPaused(false) // what still arrives is counted (and dropped), not left to fill the buffer
    this.wake()
  }

  private received (data: Chunk): void {
    if (!this.stopped) {
      this.queue.push(data)
      this.queuedBytes += data.byteLength
      if (!this.full()) {
        this.wake()
        return
      }
      // A chunk can arrive from inside `resume()`, which after dispatching it un-pauses the
      // muxer's flow control (yamux's sendResume): a pause made in between would be undone,
      // and the sender would go on unchecked until the read buffer overflows. So inside a
      // resume, the pause waits until it has returned.
      if (this.resuming) this.pauseAfterResume = true
      else this.setPaused(true)
      this.wake()
      return
    }
    this.trailingBytes += data.byteLength
    if (this.trailingBytes > MAX_TRAILING_BYTES) {
      this.stream.abort(new ProtocolError(`the peer sent more than ${MAX_TRAILING_BYTES} bytes after the exchange was over`))
    }
  }

  /** Enough waits to be read: the sender must wait. */
  private full (): boolean {
    return this.readAheadBytes > 0 ? this.queuedBytes > this.readAheadBytes : this.queue.length > 0
  }

  private setPaused (paused: boolean): void {
    const { readStatus } = this.stream
    if (paused && readStatus === 'readable') {
      this.stream.pause()
    } else if (!paused && readStatus === 'paused') {
      this.resuming = true
      try {
        this.stream.resume()
      } finally {
        this.resuming = false
      }
      if (this.pauseAfterResume) {
        this.pauseAfterResume = false
        if (this.full() && !this.stopped) this.setPaused(true)
      }
    }
  }
}
