import { Readable } from 'node:stream'

/** What one batch gathers before it is handed on: a few network frames' worth. */
export const UPLOAD_BATCH_BYTES = 512 * 1024

/**
 * `source`'s chunks as a Node stream for an HTTP upload (the engine's load), handed over
 * in batches of about `batchBytes`: all of a batch's chunks are pushed at once, so the
 * HTTP request, which corks its socket for the rest of the turn at its first write, sends
 * them in one system call instead of one per chunk as they trickled in (a chunk per noise
 * message, 64 KiB). Nothing is copied. Backpressure holds: the next batch is gathered only
 * when the reader wants more. An error of the source destroys the stream with it; a
 * stream destroyed early stops the source.
 */
export function batchedReadable (source: AsyncIterable<Uint8Array>, batchBytes = UPLOAD_BATCH_BYTES): Readable {
  const chunks = source[Symbol.asyncIterator]()
  let gathering = false
  return new Readable({
    highWaterMark: batchBytes,
    read () {
      if (gathering) return
      gathering = true
      void (async () => {
        const batch: Uint8Array[] = []
        let bytes = 0
        let ended = false
        while (bytes < batchBytes) {
          const next = await chunks.next()
          if (next.done === true) {
            ended = true
            break
          }
          if (next.value.byteLength === 0) continue
          batch.push(next.value)
          bytes += next.value.byteLength
        }
        gathering = false
        for (const chunk of batch) this.push(chunk)
        if (ended) this.push(null)
      })().catch(err => {
        gathering = false
        this.destroy(err instanceof Error ? err : new Error(String(err)))
      })
    },
    destroy (err, callback) {
      void chunks.return?.(undefined)?.catch(() => {})
      callback(err)
    }
  })
}
