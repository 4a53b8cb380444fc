import { execFile } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const exec = promisify(execFile)

/** The largest piece written at once while filling: large enough to be quick, small enough to stop close to the target. */
const FILL_CHUNK_BYTES = 1024 * 1024
/** tmpfs hands out whole pages: the last pieces are this small, so a fill to zero really leaves nothing. */
const FILL_PAGE_BYTES = 4096
/** mount and umount are local and quick; a hang here is a bug, not a slow machine. */
const MOUNT_TIMEOUT_MS = 10_000

/** A small tmpfs that a test fills on purpose (a full disk, without touching the machine's own). Needs root. */
export interface SmallDisk {
  path: string
  /** Free bytes, as a program in it sees them. */
  free: () => number
  /** Write a filler file until at most `leaveBytes` are free (0: until the disk refuses another page). */
  fill: (leaveBytes: number) => void
  /** Remove the filler: the space comes back. */
  unfill: () => void
  /** Unmount and remove the mount point; call it after every process using the disk has exited. */
  remove: () => Promise<void>
}

export async function mountSmallDisk (bytes: number): Promise<SmallDisk> {
  const path = mkdtempSync(join(tmpdir(), 'cloudai-small-disk-'))
  await exec('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', path], { timeout: MOUNT_TIMEOUT_MS })
  const filler = join(path, 'filler')
  const free = (): number => {
    const stats = statfsSync(path)
    return stats.bavail * stats.bsize
  }
  return {
    path,
    free,
    fill: leaveBytes => {
      const fd = openSync(filler, 'a')
      try {
        // Bounded: each write takes at least a page, and the disk has bytes / FILL_PAGE_BYTES of them.
        for (let writes = 0; writes <= bytes / FILL_PAGE_BYTES; writes++) {
          const room = free() - leaveBytes
          if (room <= 0 && leaveBytes > 0) return
          const size = Math.max(FILL_PAGE_BYTES, Math.min(FILL_CHUNK_BYTES, room - (room % FILL_PAGE_BYTES)))
          try {
            writeSync(fd, Buffer.alloc(size))
          } catch (err: any) {
            if (err?.code !== 'ENOSPC') throw err
            if (size === FILL_PAGE_BYTES) return
          }
        }
      } finally {
        closeSync(fd)
      }
    },
    unfill: () => { unlinkSync(filler) },
    remove: async () => {
      await exec('umount', [path], { timeout: MOUNT_TIMEOUT_MS }).catch(async () => await exec('umount', ['-l', path], { timeout: MOUNT_TIMEOUT_MS }))
      rmSync(path, { recursive: true, force: true })
    }
  }
}
