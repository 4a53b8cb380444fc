import { setFlagsFromString } from 'node:v8'

/**
 * V8 flags for a daemon that moves bulk data through buffers (images, files, output).
 *
 * Every socket read and every noise message the daemon seals or opens is a new buffer, so a
 * transfer allocates about twice its bytes outside the JavaScript heap. By default V8 counts
 * that buffer memory against the old generation's limit, which it sets at a small multiple
 * of the live heap: the daemon's heap is a few tens of MB, so a full mark-compact ran after
 * every 10-20 MB of buffers, about ten per 100 MB image on each side and a third of each
 * daemon's CPU time during a transfer, on machines where the engines doing the export and
 * the load need that CPU too. Counted against the heap's global limit instead, buffers
 * that are garbage a moment after they were used are collected far less often; the memory
 * this may hold a little longer is garbage of the transfers' own bounded in-flight data, and
 * V8 still collects it before the process nears its heap limit.
 */
export const DAEMON_V8_FLAGS = ['--external-memory-accounted-in-global-limit'] as const

/** Apply DAEMON_V8_FLAGS to this process (once, before the daemon starts moving data). */
export function tuneHeapForBulkTransfers (): void {
  for (const flag of DAEMON_V8_FLAGS) setFlagsFromString(flag)
}
