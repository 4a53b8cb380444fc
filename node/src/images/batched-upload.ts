import { Readable, type Writable } from 'node:stream'

/** What one batch gathers before it is written: a few network frames' worth. */
export const UPLOAD_BATCH_BYTES = 512 * 1024

/**
 * `source`'s chunks as the body of an HTTP upload (the engine's load), written in batches
 * of about `batchBytes`: every chunk of a batch is written in the same turn, so the HTTP
 * request, which corks its socket for the rest of a turn at its first write, sends them in
 * one system call instead of one per chunk as they trickled in (a chunk per noise message,
 * 64 KiB). A plain `pipe` cannot: the request's buffer is full after one such chunk, and
 * the pipe then waits for it to drain before it writes the next. Nothing is copied.
 *
 * dockerode sends a body by piping it into its request, so `pipe` is where the batches are
 * written; the next batch is gathered only once the request has drained (backpressure
 * reaches the source), so at most a batch waits in the request beyond its own buffer. A
 * failure of the source is this stream's 'error' (dockerode destroys the request on it);
 * a stream destroyed early stops the source.
 */
export class BatchedUpload extends Readable {
  private readonly chunks: AsyncIterator<Uint8Array>
  private readonly batchBytes: number

  constructor (source: AsyncIterable<Uint8Array>, batchBytes = UPLOAD_BATCH_BYTES) {
    super()
    this.chunks = source[Symbol.asyncIterator]()
    this.batchBytes = batchBytes
  }

  override pipe<T extends NodeJS.WritableStream> (destination: T): T {
    this.writeBatches(destination as unknown as Writable).catch(err => { this.destroy(err instanceof Error ? err : new Error(String(err))) })
    return destination
  }

  override _read (): void {
    // Read only through `pipe`: a reader that reads this stream directly gets each chunk as it comes.
    this.chunks.next().then(next => { this.push(next.done === true ? null : next.value) }, err => { this.destroy(err) })
  }

  override _destroy (err: Error | null, callback: (err?: Error | null) => void): void {
    void this.chunks.return?.(undefined)?.catch(() => {})
    callback(err)
  }

  private async writeBatches (destination: Writable): Promise<void> {
    while (!this.destroyed && !destination.destroyed) {
      const batch: Uint8Array[] = []
      let bytes = 0
      let ended = false
      while (bytes < this.batchBytes) {
        const next = await this.chunks.next()
        if (next.done === true) {
          ended = true
          break
        }
        if (next.value.byteLength === 0) continue
        batch.push(next.value)
        bytes += next.value.byteLength
      }
      if (this.destroyed || destination.destroyed) return
      let more = true
      for (const chunk of batch) more = destination.write(chunk)
      if (ended) {
        destination.end()
        // Nobody reads this stream itself: closing it says it is done.
        this.destroy()
        return
      }
      if (!more) await drainOf(destination)
    }
  }
}

/** The destination drained, or ended some other way (its end is then the request's own failure). */
async function drainOf (destination: Writable): Promise<void> {
  await new Promise<void>(resolve => {
    const done = (): void => {
      destination.off('drain', done)
      destination.off('close', done)
      destination.off('error', done)
      resolve()
    }
    destination.on('drain', done)
    destination.on('close', done)
    destination.on('error', done)
  })
}
