import { Status } from '../../../protocols/node.ts'
import { encodeStatus, type PeerStatus } from './node-messages.ts'

/** How often a node looks whether its status changed while status links listen: the delay before peers see a change. */
export const STATUS_CHECK_INTERVAL_MS = 500

/**
 * This node's status changes, for the status links (`node-protocol.ts`): while anyone
 * listens, the status is read once per interval, whoever listens, and listeners hear of it
 * only when it differs from the last one they heard of. A link's first message carries all
 * member hints; a push carries only the members that joined since the last check (a node
 * whose link opened before they joined learns of them at once, instead of waiting for mDNS,
 * which on a LAN of fifty nodes takes tens of seconds to tell everyone of everyone), and
 * members that leave are not pushed. A quiet mesh therefore exchanges nothing.
 */
export class StatusFeed {
  private readonly read: () => PeerStatus
  private readonly intervalMs: number
  private readonly listeners = new Set<(status: PeerStatus) => void>()
  private timer?: NodeJS.Timeout
  private last?: Buffer
  /** The members hinted at the last check: what joined since is pushed. */
  private lastMembers = new Set<string>()

  constructor (read: () => PeerStatus, intervalMs = STATUS_CHECK_INTERVAL_MS) {
    this.read = read
    this.intervalMs = intervalMs
  }

  /** The status now, with member hints: a link's first message. */
  current (): PeerStatus {
    return this.read()
  }

  /** Hear of changes (with only the members new since the last change) until the returned function is called. */
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
    const read = this.read()
    const status = { ...read, members: [] }
    const encoded = Buffer.from(Status.encode(encodeStatus(status)))
    const changed = this.last != null && !encoded.equals(this.last)
    this.last = encoded
    // A listener that joined since the last check had every hint in its link's first
    // message; one of these may repeat one of those, which costs the peer a lookup.
    const joined = read.members.filter(hint => !this.lastMembers.has(hint.peerId.toString()))
    this.lastMembers = new Set(read.members.map(hint => hint.peerId.toString()))
    if ((!changed && joined.length === 0) || quiet) return
    const pushed = { ...status, members: joined }
    for (const listener of [...this.listeners]) listener(pushed)
  }
}
