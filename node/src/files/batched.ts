/** Bytes gathered per chunk: a tar of small files comes as many tiny chunks, each of which would cost a frame, a write and a wake-up downstream. */
export const BATCH_BYTES = 256 * 1024

/**
 * The same bytes in chunks of about BATCH_BYTES: small chunks are gathered (and passed on
 * once enough arrived, or at the end), large ones pass as they are. Holds at most one batch.
 */
export async function * batched (source: AsyncIterable<Uint8Array>, size = BATCH_BYTES): AsyncGenerator<Uint8Array> {
  let held: Uint8Array[] = []
  let heldBytes = 0
  for await (const chunk of source) {
    if (heldBytes === 0 && chunk.byteLength >= size) {
      yield chunk
      continue
    }
    held.push(chunk)
    heldBytes += chunk.byteLength
    if (heldBytes >= size) {
      yield Buffer.concat(held, heldBytes)
      held = []
      heldBytes = 0
    }
  }
  if (heldBytes > 0) yield Buffer.concat(held, heldBytes)
}
