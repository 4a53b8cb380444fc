import type { CandidateStatus } from './placement.ts'

/** A probe's answer older than this tells no more than membership's own refresh does. */
const KEEP_MS = 30_000

/**
 * The last status each peer answered a placement probe with. Membership refreshes a peer's
 * status every few seconds; during a burst of placements the probes are far fresher (they
 * show other masters' tasks too), so whom to probe next is ranked by them.
 */
export class ProbedStatuses {
  private readonly byPeer = new Map<string, { status: CandidateStatus, at: number }>()

  answered (status: CandidateStatus, at = Date.now()): void {
    this.byPeer.set(status.peerId, { status, at })
  }

  /**
   * `candidates` (membership's view) with each peer's status replaced by its probed one when
   * that is newer. Only peers among `candidates` are kept: the map is bounded by the members.
   */
  freshest (candidates: CandidateStatus[]): CandidateStatus[] {
    const oldest = Date.now() - KEEP_MS
    const seen = new Set<string>()
    const out = candidates.map(peer => {
      seen.add(peer.peerId)
      const probed = this.byPeer.get(peer.peerId)
      // A linked peer's status is current however old its last change: no answer is newer.
      if (peer.linked === true || probed == null || probed.at < oldest || probed.at <= (peer.seenAt ?? 0)) return peer
      return { ...probed.status, seenAt: probed.at }
    })
    for (const [peerId, probed] of this.byPeer) if (!seen.has(peerId) || probed.at < oldest) this.byPeer.delete(peerId)
    return out
  }
}
