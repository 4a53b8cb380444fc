import { setFlagsFromString } from 'node:v8'

/**
 * V8's garbage collection tuned for moving data: call once, first thing in the process.
 *
 * A transfer of task files or images allocates buffers by the gigabyte in libraries this
 * project does not write (each socket read, each noise message sealed or opened), while the
 * JavaScript heap stays small (about 25 MiB). By default V8 weighs that buffer memory
 * against its own limit, derived from that small heap, so a node moving 512 MiB each way ran
 * over a hundred full collections (one every 10–20 MiB), on a machine where dockerd needs
 * the same cores. Counted within the heap's global limit instead, the buffers that die young
 * are freed by the cheap young-generation collections: a third as many full collections, a
 * worker's CPU for 1 GiB in and out about a fifth lower, its peak RSS about 70 MiB higher
 * and not growing with the size of the transfer.
 */
export function tuneGarbageCollection (): void {
  setFlagsFromString('--external-memory-accounted-in-global-limit')
}
