import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import { Uint8ArrayList } from 'uint8arraylist'
import { DeadlineError, ProtocolError, UnexpectedEndError, toError } from '../errors.ts'
import { StreamReader } from './stream-reader.ts'

/**
 * A varint longer than this cannot describe a frame we accept; reading stops at once
 * instead of buffering an endless prefix (`lpStream` from @libp2p/utils would).
 */
const MAX_LENGTH_PREFIX_BYTES = 4

/** What protons generates for each message: encode to bytes, decode with limits. */
export interface MessageCodec<T> {
  encode(message: Partial<T>): Uint8Array
  decode(bytes: Uint8Array | Uint8ArrayList, options?: { limits?: any }): T
}

/**
 * A signal that never aborts, for a wait that lasts as long as it must (a long-lived stream's
 * next frame; a shared drain that each writer races with its own deadline). Waits on it add
 * no listener.
 */
export const NO_DEADLINE = new AbortController().signal

/**
 * Resolve with `promise`, or reject with a DeadlineError as soon as `signal` aborts.
 * The losing promise rejects later (when the caller aborts the stream): that
 * rejection is expected and must not surface as an unhandled one.
 */
export async function raceSignal<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  // Nothing to race: listeners on one shared signal cost a scan of all the others at each add.
  if (signal === NO_DEADLINE) return await promise
  promise.catch(() => {})
  if (signal.aborted) throw new DeadlineError()
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(new DeadlineError()) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    if (onAbort != null) signal.removeEventListener('abort', onAbort)
  }
}

/**
 * What a stream's write buffer may hold before its writers wait: with the largest frame on
 * top (1 MiB), well inside the muxer's limit (mesh/limits.ts, 4 MiB), past which it resets
 * the stream.
 */
export const WRITE_BUFFER_HIGH_WATER_BYTES = 1024 * 1024
/**
 * The frames of one turn sent together (`coalesce`) up to this much; the rest go in the
 * next send, which waits for room like any other.
 */
const MAX_BATCH_BYTES = 256 * 1024

/**
 * Resolve at the stream's next 'drain' event. Listens for the event itself: `onDrain()`
 * (libp2p utils 7.4) resolves at once after the first drain of a stream's life, which would
 * let a steady writer fill the write buffer until the muxer resets the stream.
 */
async function nextDrain (stream: Stream, signal: AbortSignal): Promise<void> {
  let cleanup = (): void => {}
  const ready = new Promise<void>((resolve, reject) => {
    const onDrain = (): void => { cleanup(); resolve() }
    const onClose = (evt: Event): void => { cleanup(); reject((evt as Event & { error?: Error }).error ?? new UnexpectedEndError('the stream closed while a write waited')) }
    cleanup = () => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
    }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
  })
  try {
    await raceSignal(ready, signal)
  } finally {
    cleanup()
  }
}

/**
 * Resolve once the stream's write buffer is down to WRITE_BUFFER_HIGH_WATER_BYTES. A 'drain'
 * event alone does not say so: the muxer tells every stream when the connection drained,
 * though this stream's window may still be shut (its reader slow), and a writer that sent
 * again at each such event filled the buffer until the muxer reset the stream.
 */
async function roomIn (stream: Stream, signal: AbortSignal): Promise<void> {
  while (stream.writeBufferLength > WRITE_BUFFER_HIGH_WATER_BYTES) {
    // Nothing holds the buffer back: the stream sends it in a moment (a drain's send runs next).
    if (!stream.writableNeedsDrain) await raceSignal(new Promise(resolve => { setImmediate(resolve) }), signal)
    else await nextDrain(stream, signal)
  }
}


/** Decode one frame with limits; any failure is a ProtocolError. */
export function decodeFrame<T> (codec: MessageCodec<T>, frame: Uint8ArrayList, limits?: Record<string, unknown>): T {
  try {
    return codec.decode(frame, { limits })
  } catch (err) {
    throw new ProtocolError(`undecodable message: ${toError(err).message}`, { cause: err })
  }
}

/**
 * Length-prefixed protobuf messages over a libp2p stream, with a frame size limit, bounded
 * buffering (`StreamReader`) and a deadline on every read and write. Success ends with
 * `close()`, which reads nothing more; after any error the caller must `abort()` the
 * stream: a pending read is only released by that.
 */
export class FramedStream {
  readonly stream: Stream
  private readonly reader: StreamReader
  private readonly frames: AsyncGenerator<Uint8ArrayList>
  /** The peer ended its side inside a frame (a frame cut short), not between frames. */
  endedInsideFrame = false
  /** Set while a send waits for the stream to drain: other writers wait for it too. */
  private draining?: Promise<void>
  private readonly coalesce: boolean
  /** The frames written in this turn (`coalesce`), and when they are sent. */
  private batch?: { frames: Uint8ArrayList, sent: Promise<void> }

  /**
   * `readAheadBytes`: see StreamReader (0, the default: the stream pauses while a chunk waits to
   * be read). `coalesce`: a stream many writers share (a task stream) sends what they write in
   * one turn of the event loop together, a turn later: one muxer frame, one encryption and one
   * socket write where each writer's frame would have cost its own.
   */
  constructor (stream: Stream, maxFrameBytes: number, readAheadBytes = 0, coalesce = false) {
    this.coalesce = coalesce
    this.stream = stream
    this.reader = new StreamReader(stream, readAheadBytes)
    this.frames = lp.decode(this.reader.chunks(), { maxDataLength: maxFrameBytes, maxLengthLength: MAX_LENGTH_PREFIX_BYTES })
  }

  /**
   * The exchange is over: read nothing more (a peer that keeps sending is reset, see
   * MAX_TRAILING_BYTES) and close our write side once what we sent has gone out.
   */
  async close (signal: AbortSignal): Promise<void> {
    this.reader.stop()
    await this.stream.close({ signal })
  }

  async read<T> (codec: MessageCodec<T>, signal: AbortSignal, limits?: Record<string, unknown>): Promise<T> {
    return decodeFrame(codec, await this.readFrame(signal), limits)
  }

  /** The next whole frame, undecoded (for a caller that wants to look at a frame that fails to decode). */
  async readFrame (signal: AbortSignal): Promise<Uint8ArrayList> {
    let next: IteratorResult<Uint8ArrayList>
    try {
      next = await raceSignal(this.frames.next(), signal)
    } catch (err) {
      const error = toError(err)
      if (error instanceof DeadlineError) throw error
      // it-length-prefixed does not export its error classes: it identifies them by name.
      if (error.name === 'UnexpectedEOFError') {
        this.endedInsideFrame = true
        throw new UnexpectedEndError()
      }
      throw new ProtocolError(`unreadable frame: ${error.message}`, { cause: error })
    }
    if (next.done === true) throw new UnexpectedEndError()
    return next.value
  }

  async write<T> (message: T, codec: MessageCodec<T>, signal: AbortSignal): Promise<void> {
    await this.writeAll([message], codec, signal)
  }

  /**
   * Several messages, each its own frame, in one send: one muxer frame (and one encryption,
   * one socket write) instead of one per message.
   */
  async writeAll<T> (messages: T[], codec: MessageCodec<T>, signal: AbortSignal): Promise<void> {
    await this.writeFrame(messages.length === 1
      ? lp.encode.single(codec.encode(messages[0]))
      : new Uint8ArrayList(...messages.map(message => lp.encode.single(codec.encode(message)))), signal)
  }

  /**
   * Frames already encoded with their length prefixes (a caller that encodes without copying).
   * Writers that share the stream (one per task on a task stream) wait their turn while it
   * drains, so together they never hold more than one frame past the muxer's mark: each
   * sending on its own would fill the write buffer until the muxer resets the stream.
   */
  async writeFrame (frame: Uint8Array | Uint8ArrayList, signal: AbortSignal): Promise<void> {
    if (!this.coalesce) {
      await this.send(frame, signal)
      return
    }
    // Appended in the caller's turn, so the frames keep the order their writers called in.
    if (this.batch == null || this.batch.frames.byteLength >= MAX_BATCH_BYTES) {
      const frames = new Uint8ArrayList()
      const batch = {
        frames,
        sent: new Promise<void>(resolve => { setImmediate(resolve) }).then(async () => {
          if (this.batch === batch) this.batch = undefined
          await this.send(frames, NO_DEADLINE)
        })
      }
      this.batch = batch
    }
    const { sent } = this.batch
    this.batch.frames.append(frame)
    await raceSignal(sent, signal)
  }

  /**
   * Hand an encoded frame to the stream at once; false when the stream wants no more until
   * it drains (`drained`). For a caller that must not wait while it holds something, such
   * as a turn other senders wait for; never on a stream whose writers coalesce, where it
   * would pass the frames waiting in the batch.
   */
  sendFrame (frame: Uint8Array | Uint8ArrayList): boolean {
    try {
      return this.stream.send(frame)
    } catch (err) {
      throw toError(err)
    }
  }

  /** Resolves once the stream can take more (`roomIn`), after a `sendFrame` that returned false. */
  async drained (signal: AbortSignal): Promise<void> {
    try {
      if (this.stream.writableNeedsDrain && this.stream.writeBufferLength <= WRITE_BUFFER_HIGH_WATER_BYTES) await nextDrain(this.stream, signal)
      await roomIn(this.stream, signal)
    } catch (err) {
      throw toError(err)
    }
  }

  private async send (frame: Uint8Array | Uint8ArrayList, signal: AbortSignal): Promise<void> {
    try {
      while (this.draining != null) await raceSignal(this.draining, signal)
      if (!this.stream.send(frame)) {
        const draining = this.drained(NO_DEADLINE)
        this.draining = draining
        draining.then(() => { if (this.draining === draining) this.draining = undefined }, () => {})
        await raceSignal(draining, signal)
      }
    } catch (err) {
      throw toError(err)
    }
  }
}
