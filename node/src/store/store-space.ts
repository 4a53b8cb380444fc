import { statfsSync } from 'node:fs'
import { StoreFullError } from '../errors.ts'
import { formatBytes } from '../units.ts'

/**
 * Free disk the store keeps for the events that end tasks: once less is free, it takes no new
 * task and no more output, so that every running task's last event and its master's record of
 * it (a few pages of the write-ahead log each, for up to the 1,000 queued and all running
 * tasks) still fit.
 */
export const STORE_HEADROOM_BYTES = 8 * 1024 * 1024

/** How soon a write the disk refused is tried again: room comes back when a person or a prune frees it, and each try is one small write. */
export const STORE_RETRY_MS = 5_000

/** SQLite's primary result code for a write the disk had no room for (SQLITE_FULL). */
const SQLITE_FULL = 13

/** Whether `err` is SQLite saying the disk is full (extended codes carry the primary one in the low byte). */
export function isDiskFull (err: unknown): boolean {
  const errcode = (err as { errcode?: unknown } | undefined)?.errcode
  return typeof errcode === 'number' && (errcode & 0xff) === SQLITE_FULL
}

/** How much room the disk under the store has, and the error that says it has too little. */
export class StoreSpace {
  private readonly dir: string

  constructor (dir: string) {
    this.dir = dir
  }

  /** Bytes a new write may use: free on the disk plus the store's own free pages (pruned history). */
  available (reusableBytes: number): number {
    const disk = statfsSync(this.dir)
    return disk.bavail * disk.bsize + reusableBytes
  }

  /** Throws StoreFullError when less than the headroom is available: new tasks and output wait for room. */
  requireHeadroom (reusableBytes: number): void {
    const available = this.available(reusableBytes)
    if (available < STORE_HEADROOM_BYTES) throw this.full(`only ${formatBytes(available)} is free`)
  }

  /** The error for a write the disk refused (SQLite's SQLITE_FULL), or for too little headroom. */
  full (why: string, cause?: unknown): StoreFullError {
    return new StoreFullError(`the disk of ${this.dir} is full (${why}; ${formatBytes(STORE_HEADROOM_BYTES)} is kept for the events that end running tasks): free space there, or remove old history with "cloudai prune --older-than 7d"; tasks are taken again once there is room`, { cause })
  }
}
