import { Status } from '../../../protocols/node.ts'
import { encodeStatus, type PeerStatus } from './node-messages.ts'

/** How often a node looks whether its status changed while status links listen: the delay before peers see a change. */
export const STATUS_CHECK_INTERVAL_MS = 500

/**
 * This node's status changes, for the status links (`node-protocol.ts`): while anyone
 * listens, the status is read once per interval, whoever listens, and listeners hear of it
 * only when it differs from the last one they heard of. Member hints are left out of the
 * comparison and of what is pushed: a link's first message carries them, and a node that
 * joins later reaches every member itself. A quiet mesh therefore exchanges nothing.
 */
export class StatusFeed {
  private readonly read: () => PeerStatus
  private readonly intervalMs: number
  private readonly listeners = new Set<(status: PeerStatus) => void>()
  private timer?: NodeJS.Timeout
  private last?: Buffer

  constructor (read: () => PeerStatus, intervalMs = STATUS_CHECK_INTERVAL_MS) {
    this.read = read
    this.intervalMs = intervalMs
  }

  /** The status now, with member hints: a link's first message. */
  current (): PeerStatus {
    return this.read()
  }

  /** Hear of changes (without member hints) until the returned function is called. */
  listen (onChange: (status: PeerStatus) => void): () => void {
    this.listeners.add(onChange)
    if (this.timer == null) {
      this.last = undefined
      this.check(true)
      this.timer = setInterval(() => { this.check(false) }, this.intervalMs)
      this.timer.unref()
    }
    return () => {
      this.listeners.delete(onChange)
      if (this.listeners.size === 0) this.stop()
    }
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.listeners.clear()
  }

  private check (quiet: boolean): void {
    const status = { ...this.read(), members: [] }
    const encoded = Buffer.from(Status.encode(encodeStatus(status)))
    const changed = this.last != null && !encoded.equals(this.last)
    this.last = encoded
    if (!changed || quiet) return
    for (const listener of [...this.listeners]) listener(status)
  }
}
