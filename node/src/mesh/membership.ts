import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { NotMemberError, PeerUnreachableError, WrongClusterKeyError, toError } from '../errors.ts'
import { requestStatus } from '../protocol/node-protocol.ts'
import type { MemberHint, PeerStatus } from '../protocol/node-messages.ts'
import { nameRefusals } from './peer-names.ts'

/** How often every known member is asked for its Status (load, health, liveness). */
export const DEFAULT_REFRESH_INTERVAL_MS = 10_000
/** A member unreachable for this long is forgotten; mDNS or peer exchange brings it back. */
export const FORGET_AFTER_MS = 10 * 60_000
/**
 * When two peers discover each other at once, the one with the smaller ID dials and
 * the other waits this long for that connection, so each pair opens one connection.
 */
export const DISCOVERY_YIELD_MS = 1_500
/** A candidate whose first probe failed (overload, a restart) is retried this many times, with doubling delays. */
export const CANDIDATE_RETRIES = 5
export const CANDIDATE_RETRY_BASE_MS = 1_000
/**
 * Probes (each may dial: a TCP, private-network, noise and yamux handshake) run at most this
 * many at a time. Starting every probe at once when a node hears of 50 peers makes each
 * handshake take longer than its deadline, and the retries then make it worse.
 */
export const MAX_CONCURRENT_PROBES = 8
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

/** Dial failures that mean no process listens there (down, not refusing): not a refusal. */
const NOBODY_THERE = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|no valid addresses|NoValidAddressesError/

export interface MembershipInit {
  libp2p: Libp2p
  log: Logger
  /** The name this node advertises: a member that copies it does not get it. */
  selfName: string
  refreshIntervalMs?: number
  /** Addresses to keep dialing whenever they are not connected (`--bootstrap`). */
  bootstrap?: Multiaddr[]
  /** Called when a peer becomes a member or a member becomes reachable again. */
  onJoin?: (member: Member) => void
  /** Called when a member stops answering. */
  onLeave?: (member: Member, reason: string) => void
}

/**
 * Who is in the mesh. Discovery (mDNS, peer exchange, bootstrap, `connect`) only
 * yields candidates; a candidate becomes a member when it answers Status, which
 * needs the cluster key. Every answer also carries the members the peer knows,
 * and those are probed at once, so one contact is enough to learn the whole mesh.
 */
export class Membership {
  private readonly libp2p: Libp2p
  private readonly log: Logger
  private readonly init: MembershipInit
  private readonly members = new Map<string, Member>()
  private readonly probes = new Map<string, Promise<Member | undefined>>()
  /** Failed probes in a row, per peer (candidates and connected members). */
  private readonly failures = new Map<string, number>()
  private readonly pending = new Set<NodeJS.Timeout>()
  private readonly refusedPeers = new Map<string, RefusedPeer>()
  private activeProbes = 0
  private readonly waitingProbes: Array<() => void> = []
  private readonly listeners: Array<[string, (evt: any) => void]> = []
  private timer?: NodeJS.Timeout
  private stopped = true

  constructor (init: MembershipInit) {
    this.libp2p = init.libp2p
    this.log = init.log
    this.init = init
  }

  start (): void {
    this.stopped = false
    // mDNS repeats every answer; a member that is known and reachable needs no new probe.
    this.listen('peer:discovery', evt => { this.discovered(evt.detail.id) })
    this.listen('peer:connect', evt => { this.probeIfUnknown(evt.detail) })
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
    for (const timer of this.pending) clearTimeout(timer)
    this.pending.clear()
    for (const [type, listener] of this.listeners) this.libp2p.removeEventListener(type as any, listener)
    this.listeners.length = 0
  }

  list (): Member[] {
    return [...this.members.values()]
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
    const since = Date.now() - FORGET_AFTER_MS
    return [...this.refusedPeers.values()].filter(peer => peer.at >= since)
  }

  /** The reachable members with their addresses, for this node's Status answer. */
  hints (): MemberHint[] {
    return this.list()
      .filter(member => member.reachable)
      .map(member => ({ peerId: member.peerId, addrs: member.addrs }))
  }

  /** Dial an address, then admit the peer behind it. Throws with the dial's error. */
  async connect (addr: Multiaddr): Promise<Member> {
    const connection = await this.libp2p.dial(addr).catch((err: unknown) => {
      // With different keys, the other side usually resets the connection (libp2p reports an
      // encryption failure) but sometimes reads the garbage as a long message and waits: a timeout.
      // libp2p does not export these error classes: it identifies its errors by name.
      const name = toError(err).name
      if (name === 'EncryptionFailedError') {
        throw new WrongClusterKeyError(`${addr.toString()} refused the handshake: it holds a different cluster key (or none); copy swarm.key from a machine of the mesh`)
      }
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new PeerUnreachableError(`${addr.toString()} did not complete the handshake in time: it is unreachable, or it holds a different cluster key`)
      }
      throw err
    })
    const member = await this.probe(connection.remotePeer)
    if (member != null) return member
    if (this.libp2p.getConnections(connection.remotePeer).length === 0) {
      // The handshake passed (same cluster key), then the other side hung up: its gater.
      throw new NotMemberError(`${addr.toString()} holds the cluster key but closed the connection: its policy's members leave this node out; add ${this.libp2p.peerId.toString()} to "members" in its policy.json`)
    }
    throw new Error(`${connection.remotePeer.toString()} answered the dial but not the Status request: is it a cloudai node?`)
  }

  private discovered (peerId: PeerId): void {
    if (this.libp2p.peerId.toString() < peerId.toString()) this.probeIfUnknown(peerId)
    else this.later(DISCOVERY_YIELD_MS, () => { this.probeIfUnknown(peerId) })
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

  private probeIfUnknown (peerId: PeerId): void {
    if (this.members.get(peerId.toString())?.reachable !== true) void this.probe(peerId)
  }

  /** Ask a peer for its Status and record the answer. One probe per peer at a time. */
  async probe (peerId: PeerId): Promise<Member | undefined> {
    if (this.stopped || peerId.equals(this.libp2p.peerId)) return undefined
    const key = peerId.toString()
    const running = this.probes.get(key)
    if (running != null) return running
    const probe = this.runProbe(peerId).finally(() => this.probes.delete(key))
    this.probes.set(key, probe)
    return probe
  }

  private async probeSlot (): Promise<() => void> {
    if (this.activeProbes >= MAX_CONCURRENT_PROBES) {
      await new Promise<void>(resolve => { this.waitingProbes.push(resolve) })
    }
    this.activeProbes++
    return () => {
      this.activeProbes--
      this.waitingProbes.shift()?.()
    }
  }

  private async runProbe (peerId: PeerId): Promise<Member | undefined> {
    const key = peerId.toString()
    const release = await this.probeSlot()
    try {
      if (this.stopped) return undefined
      const { status, rttMs } = await requestStatus(this.libp2p, peerId)
      if (this.stopped) return undefined
      const previous = this.members.get(key)
      const member: Member = {
        peerId,
        status,
        addrs: await this.addressesOf(peerId),
        rttMs,
        lastSeen: Date.now(),
        reachable: true
      }
      this.members.set(key, member)
      this.failures.delete(key)
      this.refusedPeers.delete(key)
      if (previous?.reachable !== true) this.init.onJoin?.(member)
      this.learn(status.members)
      return member
    } catch (err) {
      const member = this.members.get(key)
      if (member == null) {
        // The dial itself failed, yet something answered there: as it does with another cluster key.
        if (this.libp2p.getConnections(peerId).length === 0 && !NOBODY_THERE.test(toError(err).message)) await this.noteRefusal(peerId)
        this.retryCandidate(peerId, toError(err))
      } else if (this.libp2p.getConnections(peerId).length === 0 || (this.failures.get(key) ?? 0) + 1 >= PROBE_FAILURES_UNREACHABLE) {
        this.markUnreachable(member, toError(err).message)
      } else {
        // Still connected: one slow answer is not yet a lost member.
        this.failures.set(key, (this.failures.get(key) ?? 0) + 1)
      }
      return undefined
    } finally {
      release()
    }
  }

  private async noteRefusal (peerId: PeerId): Promise<void> {
    const addrs = await this.libp2p.peerStore.get(peerId).then(peer => peer.addresses.map(address => address.multiaddr.toString()), () => [])
    this.refusedPeers.set(peerId.toString(), { peerId: peerId.toString(), addrs, at: Date.now() })
  }

  private retryCandidate (peerId: PeerId, err: Error): void {
    const key = peerId.toString()
    const failures = (this.failures.get(key) ?? 0) + 1
    this.log.debug({ peer: key, failures, err: err.message }, 'candidate did not answer Status')
    if (failures > CANDIDATE_RETRIES) {
      // Likely not a member (another cluster key); rediscovery or a hint starts over.
      this.failures.delete(key)
      return
    }
    this.failures.set(key, failures)
    this.later(CANDIDATE_RETRY_BASE_MS * 2 ** (failures - 1), () => { this.probeIfUnknown(peerId) })
  }

  /** Peer exchange: probe every member a peer told us about that we do not know yet (with the same tie-break as mDNS). */
  private learn (hints: MemberHint[]): void {
    for (const hint of hints) {
      if (hint.peerId.equals(this.libp2p.peerId) || this.members.get(hint.peerId.toString())?.reachable === true || this.probes.has(hint.peerId.toString())) continue
      void this.libp2p.peerStore.merge(hint.peerId, { multiaddrs: hint.addrs })
        .then(() => { this.discovered(hint.peerId) })
        .catch(err => { this.log.debug({ peer: hint.peerId.toString(), err: toError(err).message }, 'could not use a member hint') })
    }
  }

  /** The peer's listen addresses (from identify); until identify has run, the address we reached it on. */
  private async addressesOf (peerId: PeerId): Promise<Multiaddr[]> {
    const known = await this.libp2p.peerStore.get(peerId).then(peer => peer.addresses.map(address => address.multiaddr), () => [])
    if (known.length > 0) return known
    return this.libp2p.getConnections(peerId).filter(c => c.direction === 'outbound').map(connection => connection.remoteAddr)
  }

  private markUnreachable (member: Member, reason: string): void {
    if (!member.reachable) return
    member.reachable = false
    member.unreachableSince = Date.now()
    this.init.onLeave?.(member, reason)
  }

  /**
   * Probe every member once per interval, each at a random moment within it: probes of
   * many members spread out instead of arriving at the same instant.
   */
  private refresh (): void {
    const now = Date.now()
    const interval = this.init.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS
    for (const member of this.list()) {
      if (!member.reachable && now - (member.unreachableSince ?? now) > FORGET_AFTER_MS) {
        this.members.delete(member.peerId.toString())
        continue
      }
      this.later(Math.random() * interval, () => { void this.probe(member.peerId) })
    }
    this.dialBootstrap()
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
