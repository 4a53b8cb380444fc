import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerStatus } from '../protocol/node-messages.ts'

/** Members known only from other members' hints, at most: beyond, the longest known goes. */
export const MAX_RELAYED_MEMBERS = 1_024
/** Members remembered as having told of one relayed member, at most (its latest tellers). */
export const MAX_TELLERS = 8
/**
 * How long a member known only from hints stays listed after the last hint of it, unless
 * this node's own probe settles it first (it joins, or answers that nothing listens there,
 * or refuses, or the candidate's retries run out). On a busy mesh of fifty the own probe of
 * every member can take most of a minute.
 */
export const RELAYED_TTL_MS = 120_000

/**
 * A member another member told of, with the status that member last heard from it over its
 * own link: listed ("via" the teller) until this node's own probe admits it or fails. It is
 * members' word: nothing is sent to it, placed on it or allowed to it on that word alone.
 */
export interface RelayedMember {
  peerId: PeerId
  status: PeerStatus
  addrs: Multiaddr[]
  /** The member whose hint told of it last. */
  via: PeerId
  /** When the last hint of it arrived (ms since the epoch). */
  heardAt: number
}

/**
 * The members this node lists on other members' word while its own probes of them run: a
 * mesh of fifty then lists everyone as soon as it reached a few, instead of after it
 * reached all fifty. Bounded in entries and in tellers per entry; an entry goes when its
 * last teller is lost to this node, when this node settles it itself, or after a time.
 */
export class RelayedMembers {
  private readonly entries = new Map<string, RelayedMember & { tellers: Map<string, PeerId> }>()

  /** A member `from` (reached by this node itself) gave a status for `peerId`. */
  heard (peerId: PeerId, status: PeerStatus, addrs: Multiaddr[], from: PeerId, now: number): void {
    const key = peerId.toString()
    const tellers = this.entries.get(key)?.tellers ?? new Map<string, PeerId>()
    tellers.delete(from.toString())
    tellers.set(from.toString(), from)
    if (tellers.size > MAX_TELLERS) tellers.delete(tellers.keys().next().value as string)
    // Deleted first, so that the map's order stays the order of the last hints.
    this.entries.delete(key)
    this.entries.set(key, { peerId, status, addrs, via: from, heardAt: now, tellers })
    if (this.entries.size > MAX_RELAYED_MEMBERS) this.entries.delete(this.entries.keys().next().value as string)
  }

  /** This node reached `peerId` itself or knows it is not there: members' word no longer counts. */
  settle (peerId: PeerId): void {
    this.entries.delete(peerId.toString())
  }

  /** This node lost `teller`: what only it told of goes; the rest is told by someone else still. */
  tellerLost (teller: PeerId): void {
    const lost = teller.toString()
    for (const [key, entry] of this.entries) {
      if (!entry.tellers.delete(lost)) continue
      if (entry.tellers.size === 0) this.entries.delete(key)
      else if (entry.via.equals(teller)) entry.via = [...entry.tellers.values()].at(-1) as PeerId
    }
  }

  /** Drop entries no hint repeated within RELAYED_TTL_MS. */
  expire (now: number): void {
    for (const [key, entry] of this.entries) if (now - entry.heardAt > RELAYED_TTL_MS) this.entries.delete(key)
  }

  list (): RelayedMember[] {
    return [...this.entries.values()].map(({ peerId, status, addrs, via, heardAt }) => ({ peerId, status, addrs, via, heardAt }))
  }

  clear (): void {
    this.entries.clear()
  }
}
