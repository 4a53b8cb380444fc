import type { ResourceAmounts } from '../resources.ts'
import { withTask, type CandidateStatus } from './placement.ts'

/** Placements older than this are assumed to show in any status by now (or to have failed). */
const FORGET_AFTER_MS = 30_000

interface Pending {
  taskId: string
  need: ResourceAmounts
  /** When the worker's first event for it arrived: a status probed after this includes it. */
  admittedAt?: number
  chosenAt: number
}

/**
 * The placements this master made that a worker's status may not show yet. A burst of
 * `auto` tasks probes before any of them has reached a worker: every probe answers "idle",
 * and without this every choice would be a coin flip between identical-looking peers.
 */
export class PendingPlacements {
  private readonly byPeer = new Map<string, Pending[]>()
  private readonly peerOf = new Map<string, string>()

  chosen (peerId: string, taskId: string, need: ResourceAmounts): void {
    this.forgetOld()
    const list = this.byPeer.get(peerId) ?? []
    list.push({ taskId, need, chosenAt: Date.now() })
    this.byPeer.set(peerId, list)
    this.peerOf.set(taskId, peerId)
  }

  /** The worker sent the task's first event: statuses probed from now on count it themselves. */
  admitted (taskId: string): void {
    const peerId = this.peerOf.get(taskId)
    const entry = peerId != null ? this.byPeer.get(peerId)?.find(pending => pending.taskId === taskId) : undefined
    if (entry != null && entry.admittedAt == null) entry.admittedAt = Date.now()
  }

  /** The task ended: nothing of it is left to count, whenever the status was probed. */
  ended (taskId: string): void {
    const peerId = this.peerOf.get(taskId)
    if (peerId == null) return
    this.peerOf.delete(taskId)
    const kept = (this.byPeer.get(peerId) ?? []).filter(pending => pending.taskId !== taskId)
    if (kept.length > 0) this.byPeer.set(peerId, kept)
    else this.byPeer.delete(peerId)
  }

  /** `peer`'s status as probed at `probedAt`, plus what this master placed there that it cannot have counted yet. */
  adjust (peer: CandidateStatus, probedAt: number): CandidateStatus {
    let status = peer
    for (const pending of this.byPeer.get(peer.peerId) ?? []) {
      if (pending.admittedAt == null || pending.admittedAt > probedAt) status = withTask(status, pending.need)
    }
    return status
  }

  private forgetOld (): void {
    const before = Date.now() - FORGET_AFTER_MS
    for (const [peerId, list] of this.byPeer) {
      const kept = list.filter(pending => pending.chosenAt >= before)
      for (const gone of list.filter(pending => pending.chosenAt < before)) this.peerOf.delete(gone.taskId)
      if (kept.length > 0) this.byPeer.set(peerId, kept)
      else this.byPeer.delete(peerId)
    }
  }
}
