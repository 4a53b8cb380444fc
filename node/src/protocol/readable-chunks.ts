import type { Readable } from 'node:stream'
import { UnexpectedEndError } from '../errors.ts'

/** What a reader holds before it pauses its source: a few socket reads. */
export const READABLE_CHUNKS_HIGH_WATER_BYTES = 1024 * 1024

/**
 * A Node stream's chunks exactly as its source pushed them (an HTTP response's: one per
 * socket read), with backpressure: the stream is paused while `highWaterBytes` wait to be
 * taken. The stream's own async iterator reads whatever is buffered as one chunk, which
 * copies every chunk a second time whenever the reader is behind (that is, in a bulk
 * transfer, nearly always) and leaves that much more garbage. A stream that closes before
 * its end is an error; a reader that stops early destroys the stream.
 */
export async function * readableChunks (stream: Readable, highWaterBytes = READABLE_CHUNKS_HIGH_WATER_BYTES): AsyncGenerator<Uint8Array> {
  const queue: Uint8Array[] = []
  let queued = 0
  let ended = false
  let failure: Error | undefined
  let wake = (): void => {}
  const onData = (chunk: Uint8Array): void => {
    queue.push(chunk)
    queued += chunk.byteLength
    if (queued >= highWaterBytes) stream.pause()
    wake()
  }
  const onEnd = (): void => { ended = true; wake() }
  const onError = (err: Error): void => { failure ??= err; wake() }
  const onClose = (): void => {
    if (!ended) failure ??= new UnexpectedEndError('the stream closed before its end')
    wake()
  }
  stream.on('data', onData)
  stream.on('end', onEnd)
  stream.on('error', onError)
  stream.on('close', onClose)
  try {
    while (true) {
      const chunk = queue.shift()
      if (chunk !== undefined) {
        queued -= chunk.byteLength
        if (queued < highWaterBytes / 2 && stream.isPaused()) stream.resume()
        yield chunk
        continue
      }
      if (failure !== undefined) throw failure
      if (ended) return
      await new Promise<void>(resolve => { wake = resolve })
    }
  } finally {
    stream.off('data', onData)
    stream.off('end', onEnd)
    stream.off('error', onError)
    stream.off('close', onClose)
    if (!ended) stream.destroy()
  }
}
