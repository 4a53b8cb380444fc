import { setFlagsFromString } from 'node:v8'

/**
 * V8's garbage collection tuned for moving data: call once, first thing in the process.
 *
 * A transfer of task files or images allocates buffers by the gigabyte in libraries this
 * project does not write (each socket read, each noise message sealed or opened), while the
 * JavaScript heap stays small (about 25 MiB). By default V8 weighs that buffer memory
 * against its own limit, derived from that small heap, so a node moving a gibibyte ran
 * about a hundred full collections per direction (one every 10–20 MiB) and spent a fifth of its CPU
 * in them, on a machine where dockerd needs the same cores. Counted within the heap's global limit
 * instead, the buffers that die young are freed by the cheap young-generation collections:
 * measured on 1 GiB in and out, the daemons' CPU fell by a third, with a peak RSS up to
 * about 80 MiB higher that does not grow with the size of the transfer.
 */
export function tuneGarbageCollection (): void {
  setFlagsFromString('--external-memory-accounted-in-global-limit')
}
