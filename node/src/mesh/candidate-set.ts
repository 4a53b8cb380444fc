import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Candidates held at once: a LAN mesh has at most a few hundred nodes; past this it is a flood. */
export const MAX_CANDIDATES = 1_024
/** Candidates one source holds (mDNS, one member's hints, connections): a full member hint list fits, and a flooding source displaces only its own. */
export const MAX_CANDIDATES_PER_SOURCE = 256
/** A candidate not heard of again and not probed within this long is dropped: a real node is announced again (mDNS, peer exchange). */
export const CANDIDATE_TTL_MS = 60_000
/** A candidate whose probe failed while something answered (overload, a restart) is retried this many times, with doubling delays. */
export const CANDIDATE_RETRIES = 5
export const CANDIDATE_RETRY_BASE_MS = 1_000

/** How long candidates live and how often a failed one is retried (the defaults above; tests shorten them). */
export interface CandidateTiming {
  ttlMs: number
  retries: number
  retryBaseMs: number
}

export const DEFAULT_CANDIDATE_TIMING: CandidateTiming = {
  ttlMs: CANDIDATE_TTL_MS,
  retries: CANDIDATE_RETRIES,
  retryBaseMs: CANDIDATE_RETRY_BASE_MS
}
/**
 * Candidates dropped unprobed are remembered (a hash of the ID each, oldest forgotten first),
 * and one heard of again goes first in its source: a flood rarely repeats itself, while a real
 * node answers every mDNS query. At 2,000 fakes a second this remembers the last 4 s.
 */
export const PASSED_OVER_MEMORY = 8_192

/** A peer heard of but not yet a member: a probe (a Status request) decides. */
export interface Candidate {
  peerId: PeerId
  /** Where it was heard of: `discovery` (mDNS and other new peers), `connection`, `hint:<member>`. */
  source: string
  /** Addresses to dial, from a member's hint (mDNS puts its own in the peer store). */
  addrs: Multiaddr[]
  /** When a source last told of it (ms since the epoch). */
  heardAt: number
  /** Not probed before this (ms since the epoch): a discovery tie-break, or a retry's delay. */
  dueAt: number
  failures: number
  probing: boolean
  /** It was dropped unprobed before and heard of again: probed before the rest of its source. */
  heardAgain: boolean
}

export interface Offered {
  admitted: boolean
  /** Candidates dropped to make room. */
  dropped: Candidate[]
}

/**
 * The peers this node has heard of and will probe: the probe queue. Bounded in total and per
 * source, aged out, and served round robin across sources, so that a flood from one source
 * (mDNS needs no key; a hostile member's hints) delays only the candidates of that source.
 * Within a source, a candidate heard of again after it was dropped unprobed goes first, then
 * the oldest due one; when a source is full, its oldest waiting candidate makes room (one
 * heard of again last): the newest news is the likeliest to be current.
 */
export class CandidateSet {
  private readonly all = new Map<string, Candidate>()
  /** Per source, oldest first (Map order; hearing of a candidate again moves it to the end). */
  private readonly sources = new Map<string, Map<string, Candidate>>()
  /** The source of the last candidate handed out, for round robin. */
  private lastSource?: string
  /** Hashes of the IDs of candidates dropped unprobed, oldest first (PASSED_OVER_MEMORY). */
  private readonly passedOver = new Set<number>()

  constructor (private readonly timing: CandidateTiming = DEFAULT_CANDIDATE_TIMING) {}

  get size (): number {
    return this.all.size
  }

  get (key: string): Candidate | undefined {
    return this.all.get(key)
  }

  /**
   * Hear of a candidate from `source`. A known one is refreshed, and moves to the source with
   * fewer candidates, so a candidate many sources tell of is served by the least crowded.
   */
  offer (peerId: PeerId, source: string, addrs: Multiaddr[], now: number, delayMs: number): Offered {
    const key = peerId.toString()
    const known = this.all.get(key)
    if (known != null) {
      known.heardAt = now
      if (addrs.length > 0) known.addrs = addrs
      // A connection makes a waiting candidate due at once; a retry's delay stays.
      if (known.failures === 0) known.dueAt = Math.min(known.dueAt, now + delayMs)
      const from = this.sources.get(known.source)?.size ?? 0
      this.place(known, (this.sources.get(source)?.size ?? 0) < from ? source : known.source)
      return { admitted: true, dropped: [] }
    }
    const dropped: Candidate[] = []
    const crowded = (this.sources.get(source)?.size ?? 0) >= MAX_CANDIDATES_PER_SOURCE ? source : this.all.size >= MAX_CANDIDATES ? this.largestSource() : undefined
    if (crowded != null) {
      const oldest = this.oldestWaiting(crowded)
      // Every candidate of that source is being probed: there is no room until one ends.
      if (oldest == null) {
        this.passOver(key)
        return { admitted: false, dropped }
      }
      this.remove(oldest.peerId.toString())
      this.passOver(oldest.peerId.toString())
      dropped.push(oldest)
    }
    const heardAgain = this.passedOver.delete(idHash(key))
    const candidate: Candidate = { peerId, source, addrs, heardAt: now, dueAt: now + delayMs, failures: 0, probing: false, heardAgain }
    this.all.set(key, candidate)
    this.place(candidate, source)
    return { admitted: true, dropped }
  }

  /** The next candidate to probe, marked as probing: round robin across sources; within each, one heard of again, else the oldest due. */
  next (now: number): Candidate | undefined {
    const names = [...this.sources.keys()]
    const start = this.lastSource == null ? 0 : names.indexOf(this.lastSource) + 1
    for (let i = 0; i < names.length; i++) {
      const name = names[(start + i) % names.length]
      let oldestDue: Candidate | undefined
      let chosen: Candidate | undefined
      for (const candidate of this.sources.get(name)?.values() ?? []) {
        if (candidate.probing || candidate.dueAt > now) continue
        oldestDue ??= candidate
        if (candidate.heardAgain) {
          chosen = candidate
          break
        }
      }
      chosen ??= oldestDue
      if (chosen == null) continue
      chosen.probing = true
      this.lastSource = name
      return chosen
    }
    return undefined
  }

  /** When the earliest waiting candidate falls due, if any waits. */
  nextDueAt (): number | undefined {
    let earliest: number | undefined
    for (const candidate of this.all.values()) {
      if (!candidate.probing && (earliest == null || candidate.dueAt < earliest)) earliest = candidate.dueAt
    }
    return earliest
  }

  /** A failed probe: retry later (true), or give up after `timing.retries` (false: removed). */
  retryLater (key: string, now: number): boolean {
    const candidate = this.all.get(key)
    if (candidate == null) return false
    candidate.failures++
    if (candidate.failures > this.timing.retries) {
      this.remove(key)
      return false
    }
    candidate.probing = false
    candidate.dueAt = now + this.timing.retryBaseMs * 2 ** (candidate.failures - 1)
    return true
  }

  remove (key: string): void {
    const candidate = this.all.get(key)
    if (candidate == null) return
    this.all.delete(key)
    const lane = this.sources.get(candidate.source)
    lane?.delete(key)
    if (lane?.size === 0) this.sources.delete(candidate.source)
  }

  /** Drop the candidates no source told of within `timing.ttlMs` (never one being probed); returns them. */
  expire (now: number): Candidate[] {
    const stale = [...this.all.values()].filter(candidate => !candidate.probing && now - candidate.heardAt > this.timing.ttlMs)
    for (const candidate of stale) {
      this.remove(candidate.peerId.toString())
      this.passOver(candidate.peerId.toString())
    }
    return stale
  }

  clear (): void {
    this.all.clear()
    this.sources.clear()
    this.passedOver.clear()
  }

  private passOver (key: string): void {
    const hash = idHash(key)
    this.passedOver.delete(hash)
    this.passedOver.add(hash)
    for (const oldest of this.passedOver) {
      if (this.passedOver.size <= PASSED_OVER_MEMORY) break
      this.passedOver.delete(oldest)
    }
  }

  /** Put a candidate last in `source`'s order (its newest). */
  private place (candidate: Candidate, source: string): void {
    const key = candidate.peerId.toString()
    const previous = this.sources.get(candidate.source)
    previous?.delete(key)
    if (previous?.size === 0) this.sources.delete(candidate.source)
    candidate.source = source
    const lane = this.sources.get(source) ?? new Map<string, Candidate>()
    lane.set(key, candidate)
    this.sources.set(source, lane)
  }

  /** The oldest candidate of `source` not being probed, one heard of again only if no other waits. */
  private oldestWaiting (source: string): Candidate | undefined {
    let heardAgain: Candidate | undefined
    for (const candidate of this.sources.get(source)?.values() ?? []) {
      if (candidate.probing) continue
      if (!candidate.heardAgain) return candidate
      heardAgain ??= candidate
    }
    return heardAgain
  }

  private largestSource (): string | undefined {
    let largest: string | undefined
    for (const [name, lane] of this.sources) {
      if (largest == null || lane.size > (this.sources.get(largest)?.size ?? 0)) largest = name
    }
    return largest
  }
}

/** FNV-1a: a 32-bit hash of a peer ID, enough to recognise it again (a collision only lets a fake go first). */
function idHash (key: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193)
  return hash >>> 0
}
