import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { DeadlineError, NotMemberError, PeerUnreachableError, WrongClusterKeyError, toError } from '../errors.ts'
import { openStatusLink, requestStatus } from '../protocol/node-protocol.ts'
import type { MemberHint, PeerStatus } from '../protocol/node-messages.ts'
import type { StatusLinkHost } from '../protocol/task-host.ts'
import { CandidateSet, type Candidate, type CandidateTiming } from './candidate-set.ts'
import { nameRefusals } from './peer-names.ts'
import { RefusedPeers, type RefusedPeer } from './refused-peers.ts'
import { RelayedMembers, type RelayedMember } from './relayed-members.ts'

/** How often a member without a status link (an older version, or one whose link ended) is asked for its Status. */
export const DEFAULT_REFRESH_INTERVAL_MS = 10_000
/** A member unreachable for this long is forgotten; mDNS or peer exchange brings it back. */
export const FORGET_AFTER_MS = 10 * 60_000
/**
 * When two peers discover each other at once, one of them (`isPairDialer`) dials and the
 * other waits at least this long for that connection, so each pair opens one connection.
 */
export const DISCOVERY_YIELD_MS = 1_500
/**
 * The longest the waiting side of a pair waits (`discoveryYieldMs`): past it, it dials
 * itself, in case the other side never heard of it.
 */
export const MAX_DISCOVERY_YIELD_MS = 15_000
/**
 * Probes (each may dial: a TCP, cluster-key proof, noise and yamux handshake) run at most this
 * many at a time. Starting every probe at once when a node hears of 50 peers makes each
 * handshake take longer than its deadline, and the retries then make it worse.
 */
export const MAX_CONCURRENT_PROBES = 8
/** How many of its probes' time the waiting side of a pair gives the dialer (`discoveryYieldMs`). */
const DIALER_ROUNDS = 4
/** The weight of the latest probe in the moving average of probe times. */
const PROBE_TIME_WEIGHT = 0.2
/** A member that is still connected counts as unreachable after this many failed probes in a row. */
export const PROBE_FAILURES_UNREACHABLE = 2

/** A peer that proved membership by answering Status over the cluster's encrypted transport. */
export interface Member {
  peerId: PeerId
  status: PeerStatus
  addrs: Multiaddr[]
  rttMs: number
  /** When the last Status answer arrived (ms since the epoch). */
  lastSeen: number
  reachable: boolean
  /** When the member stopped answering, while it is unreachable. */
  unreachableSince?: number
}

/** Dial failures that mean no process listens there (down, not refusing): not a refusal. */
const NOBODY_THERE = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|no valid addresses|NoValidAddressesError/
/** The machine answered that nothing listens on that port: a candidate not worth a retry (a node that starts announces itself). */
const NOTHING_LISTENS = /ECONNREFUSED/

export interface MembershipInit {
  libp2p: Libp2p
  log: Logger
  /** The name this node advertises: a member that copies it does not get it. */
  selfName: string
  refreshIntervalMs?: number
  /** How long candidates live and are retried (default: `DEFAULT_CANDIDATE_TIMING`). */
  candidateTiming?: CandidateTiming
  /** Addresses to keep dialing whenever they are not connected (`--bootstrap`). */
  bootstrap?: Multiaddr[]
  /** Whether this node's policy lets the peer join (its gater refuses the rest); default: any key holder. */
  mayJoin?: (peerId: string) => boolean
  /** Called when a peer becomes a member or a member becomes reachable again. */
  onJoin?: (member: Member) => void
  /** Called when a member stops answering. */
  onLeave?: (member: Member, reason: string) => void
  /** This node's status and its changes: with it, members are kept by status links instead of probes. */
  feed?: StatusLinkHost['feed']
}

/**
 * Who is in the mesh. Discovery (mDNS, peer exchange, connections) only yields candidates
 * (`candidate-set.ts`: bounded, served fairly across sources, aged out); a candidate becomes
 * a member when it exchanges Status, which needs the cluster key. The exchange opens a status
 * link that carries each side's later changes, so a quiet mesh exchanges nothing. The first
 * status each way carries the members the peer knows, and those become candidates at once,
 * so one contact is enough to learn the whole mesh. Members' probes (the refresh, `connect`,
 * bootstrap) and candidates take turns at the probe slots.
 */
export class Membership {
  private readonly libp2p: Libp2p
  private readonly log: Logger
  private readonly init: MembershipInit
  private readonly members = new Map<string, Member>()
  /** Members known only from members' hints, listed while this node's own probes of them run. */
  private readonly relayed = new RelayedMembers()
  /** The probe running (or waiting for a slot) per peer: one at a time. */
  private readonly probes = new Map<string, Promise<Member | undefined>>()
  /** Failed probes in a row, per member. */
  private readonly failures = new Map<string, number>()
  /** Timers of the members' refresh probes: one per member per interval. */
  private readonly pending = new Set<NodeJS.Timeout>()
  private readonly candidates: CandidateSet
  private readonly refusedPeers = new RefusedPeers()
  private activeProbes = 0
  /** How long a candidate's probe (dial, handshake, status link) takes here lately: a moving average. */
  private probeMs = DISCOVERY_YIELD_MS / 4
  /** Members' probes waiting for a slot, first come first served. */
  private readonly waitingProbes: Array<() => void> = []
  /** Whose turn the next free slot is when members' probes and candidates both wait. */
  private candidatesTurn = false
  private readonly listeners: Array<[string, (evt: any) => void]> = []
  /**
   * Live status links per member, opened by either side (`openStatusLink`, `linkHost`): a
   * linked member's changes arrive as they happen, so the refresh does not ask it.
   */
  private readonly links = new Map<string, Set<() => void>>()
  /** The link each peer opened to this node: a newer one replaces it. */
  private readonly inboundLinks = new Map<string, () => void>()
  private timer?: NodeJS.Timeout
  /** Wakes the dispatcher when the earliest waiting candidate falls due. */
  private dueTimer?: NodeJS.Timeout
  private stopped = true

  constructor (init: MembershipInit) {
    this.libp2p = init.libp2p
    this.log = init.log
    this.init = init
    this.candidates = new CandidateSet(init.candidateTiming)
  }

  start (): void {
    this.stopped = false
    // libp2p reports each peer new to its peer store: mDNS answers, identify, a hint being dialed.
    this.listen('peer:discovery', evt => { this.hear([evt.detail.id], 'discovery', () => [], this.tieBreak) })
    // The other side passed the handshake and dialed: it opens a status link in a moment,
    // so a connection that is only inbound is asked only if it has not, after about twice
    // as long as a probe takes here (a second link over it would only repeat the first).
    this.listen('peer:connect', evt => {
      const inboundOnly = this.libp2p.getConnections(evt.detail).every(c => c.direction === 'inbound')
      this.hear([evt.detail], 'connection', () => [], inboundOnly && this.init.feed != null ? () => this.linkYieldMs() : () => 0)
    })
    // A member's listen addresses, when a peer asks identify (none runs on connections).
    this.listen('peer:identify', evt => {
      const member = this.members.get(evt.detail.peerId.toString())
      if (member != null && evt.detail.listenAddrs.length > 0) member.addrs = evt.detail.listenAddrs
    })
    this.listen('peer:disconnect', evt => {
      const member = this.members.get(evt.detail.toString())
      if (member != null) this.markUnreachable(member, 'disconnected')
    })
    this.timer = setInterval(() => { this.refresh() }, this.init.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS)
    this.timer.unref()
    this.dialBootstrap()
  }

  stop (): void {
    this.stopped = true
    clearInterval(this.timer)
    clearTimeout(this.dueTimer)
    for (const timer of this.pending) clearTimeout(timer)
    this.pending.clear()
    this.candidates.clear()
    // Each waiting probe then sees `stopped` and ends (its slot was never counted).
    for (const waiting of this.waitingProbes.splice(0)) {
      this.activeProbes++
      waiting()
    }
    for (const [type, listener] of this.listeners) this.libp2p.removeEventListener(type as any, listener)
    this.listeners.length = 0
    for (const ends of this.links.values()) for (const end of ends) end()
    this.links.clear()
    this.inboundLinks.clear()
    this.relayed.clear()
  }

  list (): Member[] {
    return [...this.members.values()]
  }

  /** Members known only from other members' hints, not (yet) reached by this node. */
  relayedList (): RelayedMember[] {
    return this.relayed.list()
  }

  /** Whether a status link to the member is open: its status changes then arrive as they happen. */
  isLinked (peerId: string): boolean {
    return this.links.has(peerId)
  }

  /**
   * The members whose advertised name is refused (`peer-names.ts`), with the reason. Judged
   * against every member, reachable or not, so that a member cannot take the name or ID of
   * one that is briefly away.
   */
  nameRefusals (): Map<string, string> {
    const named = this.list().map(member => ({ peerId: member.peerId.toString(), name: member.status.name }))
    return nameRefusals({ peerId: this.libp2p.peerId.toString(), name: this.init.selfName }, named)
  }

  /** Discovered machines that refused the handshake lately, and have not joined since. */
  refused (): RefusedPeer[] {
    return this.refusedPeers.list(Date.now())
  }

  /**
   * The reachable members with their addresses and statuses, for this node's Status answer.
   * Only members this node reached itself: a hint passed on again could keep a member that
   * left listed from hand to hand.
   */
  hints (): MemberHint[] {
    return this.list()
      .filter(member => member.reachable)
      .map(member => ({ peerId: member.peerId, addrs: member.addrs, status: member.status }))
  }

  /** Dial an address, then admit the peer behind it. Throws with the dial's error. */
  async connect (addr: Multiaddr): Promise<Member> {
    const connection = await this.libp2p.dial(addr).catch((err: unknown) => {
      const error = toError(err)
      // The proof exchange tells a different key apart by its class. Noise failing (its
      // prologue comes from the key) means the same once the proofs passed: a machine that
      // relayed them, or one whose noise is not ours. libp2p does not export its error
      // classes: it identifies its errors by name.
      if (error instanceof WrongClusterKeyError || error.name === 'EncryptionFailedError') {
        throw new WrongClusterKeyError(`${addr.toString()} refused the handshake: it holds a different cluster key (or none); copy swarm.key from a machine of the mesh`)
      }
      if (error instanceof DeadlineError || error.name === 'TimeoutError' || error.name === 'AbortError') {
        throw new PeerUnreachableError(`${addr.toString()} did not complete the handshake in time: it is unreachable or too busy`)
      }
      throw error
    })
    const member = await this.probe(connection.remotePeer)
    if (member != null) return member
    if (this.libp2p.getConnections(connection.remotePeer).length === 0) {
      // The handshake passed (same cluster key), then the other side hung up: its gater.
      throw new NotMemberError(`${addr.toString()} holds the cluster key but closed the connection: its policy's members leave this node out; add ${this.libp2p.peerId.toString()} to "members" in its policy.json`)
    }
    throw new Error(`${connection.remotePeer.toString()} answered the dial but not the Status request: is it a cloudai node?`)
  }

  /** Ask a peer for its Status (a member's refresh, `connect`): in turn with candidates. One probe per peer at a time. */
  async probe (peerId: PeerId): Promise<Member | undefined> {
    if (this.stopped || peerId.equals(this.libp2p.peerId)) return undefined
    const running = this.probes.get(peerId.toString())
    if (running != null) return await running
    return await this.track(peerId, (async () => {
      const release = await this.probeSlot()
      try {
        if (this.stopped) return undefined
        return await this.ask(peerId)
      } catch (err) {
        await this.probeFailed(peerId, toError(err))
        return undefined
      } finally {
        release()
      }
    })())
  }

  private track (peerId: PeerId, probe: Promise<Member | undefined>): Promise<Member | undefined> {
    const key = peerId.toString()
    const tracked = probe.finally(() => this.probes.delete(key))
    this.probes.set(key, tracked)
    return tracked
  }

  /** Wait for a probe slot (MAX_CONCURRENT_PROBES); the returned function frees it. */
  private async probeSlot (): Promise<() => void> {
    await new Promise<void>(resolve => {
      this.waitingProbes.push(resolve)
      this.dispatch()
    })
    return this.releaser()
  }

  /** Frees a slot once. */
  private releaser (): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      this.activeProbes--
      this.dispatch()
    }
  }

  /**
   * Ask a peer for its Status and record it as a member; with a feed, by opening a status
   * link that keeps its status current. Throws what the request threw.
   */
  private async ask (peerId: PeerId): Promise<Member | undefined> {
    const key = peerId.toString()
    const known = this.members.get(key)
    if (known?.reachable === true && this.links.has(key)) return known
    const feed = this.init.feed
    if (feed == null) {
      const { status, rttMs } = await requestStatus(this.libp2p, peerId)
      return await this.admit(peerId, status, rttMs)
    }
    const link = await openStatusLink(this.libp2p, peerId, feed, status => { this.update(peerId, status) })
    if (this.stopped) {
      link.end()
      return undefined
    }
    const unlink = this.addLink(key, link.end)
    void link.ended.then(unlink)
    return await this.admit(peerId, link.status, link.rttMs)
  }

  /** Serving status links that peers open: what `registerNodeProtocol` takes as `links`. */
  linkHost (feed: StatusLinkHost['feed']): StatusLinkHost {
    return {
      feed,
      opened: (remote, status, end) => {
        const key = remote.toString()
        this.inboundLinks.get(key)?.()
        this.inboundLinks.set(key, end)
        const unlink = this.addLink(key, end)
        const rttMs = this.libp2p.getConnections(remote)[0]?.rtt ?? 0
        this.admit(remote, status, rttMs).catch(err => { this.log.debug({ peer: key, err: toError(err).message }, 'could not record a linked member') })
        return {
          status: next => { this.update(remote, next) },
          ended: () => {
            unlink()
            if (this.inboundLinks.get(key) === end) this.inboundLinks.delete(key)
          }
        }
      }
    }
  }

  /** Count a live link of `key`; the returned function uncounts it (once). */
  private addLink (key: string, end: () => void): () => void {
    const ends = this.links.get(key) ?? new Set<() => void>()
    ends.add(end)
    this.links.set(key, ends)
    return () => {
      ends.delete(end)
      if (ends.size === 0 && this.links.get(key) === ends) this.links.delete(key)
    }
  }

  /** A linked member's new status, and the members that joined it since its last (peer exchange). */
  private update (peerId: PeerId, status: PeerStatus): void {
    const member = this.members.get(peerId.toString())
    if (member == null || this.stopped) return
    if (status.members.length > 0) this.learn(status.members, peerId)
    // A push names only the members new to the peer; the status kept is without them.
    member.status = { ...status, members: [] }
    member.lastSeen = Date.now()
    if (!member.reachable) {
      member.reachable = true
      member.unreachableSince = undefined
      this.init.onJoin?.(member)
    }
  }

  /** Record a peer that answered (or sent) its Status as a member, and learn the members it told of. */
  private async admit (peerId: PeerId, status: PeerStatus, rttMs: number): Promise<Member | undefined> {
    const key = peerId.toString()
    const told = status.listenAddrs ?? []
    // Its own listen addresses come with its status (no identify runs on connections);
    // they enter the peer store so that later dials (a reconnect, a transfer) find it.
    if (told.length > 0) await this.libp2p.peerStore.merge(peerId, { multiaddrs: told }).catch(() => {})
    const addrs = told.length > 0 ? told : await this.addressesOf(peerId)
    if (this.stopped) return undefined
    const previous = this.members.get(key)
    const member: Member = {
      peerId,
      status,
      addrs: addrs.length > 0 ? addrs : (previous?.addrs ?? []),
      rttMs,
      lastSeen: Date.now(),
      reachable: true
    }
    this.members.set(key, member)
    this.relayed.settle(peerId)
    this.failures.delete(key)
    this.refusedPeers.forget(key)
    this.candidates.remove(key)
    if (previous?.reachable !== true) this.init.onJoin?.(member)
    this.learn(status.members, peerId)
    return member
  }

  private async probeFailed (peerId: PeerId, err: Error): Promise<void> {
    const key = peerId.toString()
    const member = this.members.get(key)
    const connected = this.libp2p.getConnections(peerId).length > 0
    // This node's own probe outweighs a member's word when it says something for sure: a
    // refusal, or nothing listening there. A probe too slow for its deadline says nothing.
    if (!connected && NOTHING_LISTENS.test(err.message)) this.relayed.settle(peerId)
    if (member == null) {
      // The dial itself failed, yet something answered there: as it does with another cluster key.
      if (!connected && !NOBODY_THERE.test(err.message)) {
        this.relayed.settle(peerId)
        await this.noteRefusal(peerId)
      }
    } else if (!connected || (this.failures.get(key) ?? 0) + 1 >= PROBE_FAILURES_UNREACHABLE) {
      this.markUnreachable(member, err.message)
    } else {
      // Still connected: one slow answer is not yet a lost member.
      this.failures.set(key, (this.failures.get(key) ?? 0) + 1)
    }
  }

  private async noteRefusal (peerId: PeerId): Promise<void> {
    const addrs = await this.libp2p.peerStore.get(peerId).then(peer => peer.addresses.map(address => address.multiaddr.toString()), () => [])
    this.refusedPeers.note(peerId.toString(), addrs, Date.now())
  }

  /**
   * Peers heard of (mDNS, a connection, a member's hints) become candidates, unless they are
   * this node or a reachable member, each probed after `delayOf` (a tie-break, or a wait
   * for the link the other side is opening).
   */
  private hear (peerIds: PeerId[], source: string, addrsOf: (i: number) => Multiaddr[], delayOf: (peerId: PeerId) => number): void {
    if (this.stopped) return
    const now = Date.now()
    peerIds.forEach((peerId, i) => {
      const key = peerId.toString()
      if (peerId.equals(this.libp2p.peerId) || this.members.get(key)?.reachable === true) return
      const { admitted, dropped } = this.candidates.offer(peerId, source, addrsOf(i), now, delayOf(peerId))
      for (const candidate of dropped) this.forget(candidate.peerId)
      if (!admitted) this.forget(peerId)
    })
    this.dispatch()
  }

  /**
   * When two peers discover each other at once, the pair's dialer (`isPairDialer`) probes
   * at once and the other waits for that connection (`discoveryYieldMs`).
   */
  private readonly tieBreak = (peerId: PeerId): number => isPairDialer(this.libp2p.peerId.toString(), peerId.toString()) ? 0 : this.discoveryYieldMs()

  /** How long a connection that is only inbound waits for the dialer's link: twice a probe's time here lately. */
  private linkYieldMs (): number {
    return Math.min(MAX_DISCOVERY_YIELD_MS, Math.max(DISCOVERY_YIELD_MS, 2 * this.probeMs))
  }

  /**
   * How long the waiting side of a pair waits for the dialer's connection: a few probes'
   * time as probes take on this machine now (the dialer may have a few rounds of
   * MAX_CONCURRENT_PROBES ahead of this one). A fixed wait shorter than that on a busy
   * machine made both sides dial, and the duplicate handshakes slowed every other one
   * down. Not this node's own queue: a flood of fake candidates would make it wait the
   * longest for real ones. Both sides run on machines alike, so this node's probe time
   * stands in for the dialer's.
   */
  private discoveryYieldMs (): number {
    return Math.min(MAX_DISCOVERY_YIELD_MS, Math.max(DISCOVERY_YIELD_MS, DIALER_ROUNDS * this.probeMs))
  }

  /**
   * Peer exchange: the members a linked member told us about become candidates, that
   * member's hints being their own source; those it gave a status for are listed as
   * relayed members until this node's own probe settles them.
   */
  private learn (hints: MemberHint[], from: PeerId): void {
    const now = Date.now()
    for (const hint of hints) {
      const key = hint.peerId.toString()
      if (hint.status == null || hint.peerId.equals(this.libp2p.peerId) || this.members.has(key) || this.init.mayJoin?.(key) === false) continue
      this.relayed.heard(hint.peerId, hint.status, hint.addrs, from, now)
    }
    this.hear(hints.map(hint => hint.peerId), `hint:${from.toString()}`, i => hints[i].addrs, this.tieBreak)
  }

  /**
   * Hand out the free probe slots. When members' probes (refresh, `connect`) and candidates
   * both wait, they take turns: a flood of candidates cannot stop members from being
   * checked, nor can a large mesh's refreshes keep candidates from ever being probed.
   */
  private dispatch (): void {
    if (this.stopped) return
    const now = Date.now()
    while (this.activeProbes < MAX_CONCURRENT_PROBES) {
      if (!this.startNext(now, this.candidatesTurn) && !this.startNext(now, !this.candidatesTurn)) break
    }
    clearTimeout(this.dueTimer)
    // With every slot taken, the next finished probe dispatches.
    const dueAt = this.activeProbes < MAX_CONCURRENT_PROBES ? this.candidates.nextDueAt() : undefined
    if (dueAt == null) return
    this.dueTimer = setTimeout(() => { this.dispatch() }, Math.max(0, dueAt - now))
    this.dueTimer.unref()
  }

  /** Start a waiting member's probe, or a due candidate's; false if there is none. */
  private startNext (now: number, candidate: boolean): boolean {
    if (!candidate) {
      const waiting = this.waitingProbes.shift()
      if (waiting == null) return false
      this.activeProbes++
      this.candidatesTurn = true
      waiting()
      return true
    }
    for (let next = this.candidates.next(now); next != null; next = this.candidates.next(now)) {
      const key = next.peerId.toString()
      if (this.probes.has(key) || this.members.get(key)?.reachable === true) {
        // A member's probe or `connect` asks it already, or it joined meanwhile.
        this.candidates.remove(key)
        continue
      }
      this.activeProbes++
      this.candidatesTurn = false
      void this.track(next.peerId, this.probeCandidate(next, this.releaser()))
      return true
    }
    return false
  }

  private async probeCandidate (candidate: Candidate, release: () => void): Promise<Member | undefined> {
    const { peerId } = candidate
    const key = peerId.toString()
    try {
      // A hint's addresses enter the peer store only to be dialed: held there earlier, a flood of hints would grow it.
      if (candidate.addrs.length > 0) await this.libp2p.peerStore.merge(peerId, { multiaddrs: candidate.addrs })
      const started = performance.now()
      const member = await this.ask(peerId)
      this.probeMs += (performance.now() - started - this.probeMs) * PROBE_TIME_WEIGHT
      return member
    } catch (err) {
      const error = toError(err)
      await this.probeFailed(peerId, error)
      this.log.debug({ peer: key, failures: candidate.failures + 1, err: error.message }, 'candidate did not answer Status')
      // Else it may be busy, restarting, or not yet known by address: retried, up to a limit.
      if (NOTHING_LISTENS.test(error.message) || !this.candidates.retryLater(key, Date.now())) {
        this.candidates.remove(key)
        this.forget(peerId)
      }
      return undefined
    } finally {
      release()
    }
  }

  /**
   * A candidate dropped: unless it is a member or connected, its peer store record goes too.
   * The store stays bounded, and a new announcement of the peer is news again (libp2p
   * reports only peers new to its store).
   */
  private forget (peerId: PeerId): void {
    this.relayed.settle(peerId)
    if (this.members.has(peerId.toString()) || this.libp2p.getConnections(peerId).length > 0) return
    this.libp2p.peerStore.delete(peerId).catch(err => { this.log.debug({ peer: peerId.toString(), err: toError(err).message }, 'could not forget a candidate') })
  }

  /** The peer's listen addresses in the peer store (mDNS, a hint), for an older peer that does not tell them; else the address we reached it on. */
  private async addressesOf (peerId: PeerId): Promise<Multiaddr[]> {
    const known = await this.libp2p.peerStore.get(peerId).then(peer => peer.addresses.map(address => address.multiaddr), () => [])
    if (known.length > 0) return known
    return this.libp2p.getConnections(peerId).filter(c => c.direction === 'outbound').map(connection => connection.remoteAddr)
  }

  private markUnreachable (member: Member, reason: string): void {
    if (!member.reachable) return
    member.reachable = false
    member.unreachableSince = Date.now()
    // What it told of is no longer backed by a member this node reaches.
    this.relayed.tellerLost(member.peerId)
    this.init.onLeave?.(member, reason)
  }

  /**
   * Probe every member once per interval, each at a random moment within it: probes of
   * many members spread out instead of arriving at the same instant. Candidates no source
   * told of lately age out.
   */
  private refresh (): void {
    const now = Date.now()
    const interval = this.init.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS
    for (const member of this.list()) {
      if (!member.reachable && now - (member.unreachableSince ?? now) > FORGET_AFTER_MS) {
        this.members.delete(member.peerId.toString())
        this.failures.delete(member.peerId.toString())
        continue
      }
      if (member.reachable && this.links.has(member.peerId.toString())) {
        // Its link is open: its changes arrive as they happen, and a dead connection closes
        // it. Its latency is what libp2p's ping measured last.
        member.lastSeen = now
        member.rttMs = this.libp2p.getConnections(member.peerId).find(c => c.rtt != null)?.rtt ?? member.rttMs
        continue
      }
      this.later(Math.random() * interval, () => { void this.probe(member.peerId) })
    }
    for (const candidate of this.candidates.expire(now)) this.forget(candidate.peerId)
    this.relayed.expire(now)
    this.dialBootstrap()
  }

  private later (delayMs: number, action: () => void): void {
    if (this.stopped) return
    const timer = setTimeout(() => {
      this.pending.delete(timer)
      if (!this.stopped) action()
    }, delayMs)
    timer.unref()
    this.pending.add(timer)
  }

  private dialBootstrap (): void {
    for (const addr of this.init.bootstrap ?? []) {
      const peerId = addr.getComponents().find(component => component.name === 'p2p')?.value
      if (peerId != null && this.libp2p.getConnections().some(c => c.remotePeer.toString() === peerId)) continue
      this.connect(addr).catch(err => {
        this.log.warn({ addr: addr.toString(), err: toError(err).message }, 'bootstrap peer unreachable; will retry')
      })
    }
  }

  private listen (type: string, listener: (evt: any) => void): void {
    this.libp2p.addEventListener(type as any, listener)
    this.listeners.push([type, listener])
  }
}

/**
 * Which side of a pair dials when both heard of the other: decided by a hash of the pair,
 * so that each node dials about half of its peers. By the smaller ID alone, the node with
 * the smallest ID would dial every peer and its queue would set the time the mesh takes
 * to form.
 */
export function isPairDialer (self: string, other: string): boolean {
  const [low, high] = self < other ? [self, other] : [other, self]
  let hash = 0x811c9dc5
  for (const text of [low, high]) for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  return ((hash >>> 0) & 1) === 0 ? self === low : self === high
}
