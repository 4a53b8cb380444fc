/** Bytes gathered per chunk: a tar of small files comes as many tiny chunks, each of which would cost a frame, a write and a wake-up downstream. */
export const BATCH_BYTES = 256 * 1024
/**
 * Chunks at least this large pass as they are: gathering them would copy each (a large
 * file's content, at the size a disk read or a noise message, just under 64 KiB, gives) for no saving.
 */
export const PASS_THROUGH_BYTES = 32 * 1024

/**
 * The same bytes, small chunks gathered into chunks of about BATCH_BYTES (passed on once
 * enough arrived, before a large chunk, or at the end); chunks of PASS_THROUGH_BYTES or more
 * pass as they are. Holds at most one batch.
 */
export async function * batched (source: AsyncIterable<Uint8Array>, size = BATCH_BYTES): AsyncGenerator<Uint8Array> {
  let held: Uint8Array[] = []
  let heldBytes = 0
  for await (const chunk of source) {
    if (chunk.byteLength >= Math.min(size, PASS_THROUGH_BYTES)) {
      if (heldBytes > 0) yield Buffer.concat(held, heldBytes)
      held = []
      heldBytes = 0
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
