/**
 * A machine that was discovered but refused the handshake: it holds another cluster key
 * (or none), or it is not cloudai. Kept so that "no such peer" can say why.
 */
export interface RefusedPeer {
  peerId: string
  addrs: string[]
  /** When it last refused (ms since the epoch). */
  at: number
}

/** Refusals remembered at once: enough to explain "no peer matches" (which names 5); a flood of them displaces the oldest. */
export const MAX_REFUSED_PEERS = 64
/** Addresses kept per refusing machine: the explanation shows one, preferring a non-loopback one. */
export const MAX_REFUSED_ADDRS = 4
/** A refusal older than this explains nothing any more: the machine may have been fixed, or be gone. */
export const REFUSAL_MEMORY_MS = 10 * 60_000

/** The machines that refused this node's handshake lately, newest last. */
export class RefusedPeers {
  /** Oldest first (Map order; a new refusal by the same peer moves it to the end). */
  private readonly peers = new Map<string, RefusedPeer>()

  get size (): number {
    return this.peers.size
  }

  note (peerId: string, addrs: string[], now: number): void {
    this.peers.delete(peerId)
    this.peers.set(peerId, { peerId, addrs: addrs.slice(0, MAX_REFUSED_ADDRS), at: now })
    this.expire(now)
    for (const oldest of this.peers.keys()) {
      if (this.peers.size <= MAX_REFUSED_PEERS) break
      this.peers.delete(oldest)
    }
  }

  /** The peer joined after all (a key was fixed): it no longer explains anything. */
  forget (peerId: string): void {
    this.peers.delete(peerId)
  }

  list (now: number): RefusedPeer[] {
    this.expire(now)
    return [...this.peers.values()]
  }

  private expire (now: number): void {
    for (const [peerId, peer] of this.peers) {
      if (now - peer.at <= REFUSAL_MEMORY_MS) break
      this.peers.delete(peerId)
    }
  }
}
