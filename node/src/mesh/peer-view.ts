import type { PeerStatus } from '../protocol/node-messages.ts'
import type { Member } from './membership.ts'
import type { RelayedMember } from './relayed-members.ts'

/** One row of `cloudai peers`: the peer's last Status and how it answers (JSON field names are part of the CLI contract). */
export interface PeerView extends Omit<PeerStatus, 'members'> {
  peerId: string
  /** Why this node refused the name the peer advertises (`peer-names.ts`); the peer is then reachable by ID only. */
  nameRefused?: string
  addrs: string[]
  reachable: boolean
  lastSeen: string
  unreachableSince?: string
  latencyMs: number
  /**
   * Set when this node has not reached the peer itself yet: the ID of the member that told
   * of it, whose status of it this is. Only members reached directly take tasks by name.
   */
  via?: string
}

export function toPeerView (member: Member, nameRefused?: string): PeerView {
  const { status } = member
  return {
    peerId: member.peerId.toString(),
    name: status.name,
    ...(nameRefused != null ? { nameRefused } : {}),
    addrs: member.addrs.map(addr => addr.toString()),
    version: status.version,
    capacity: status.capacity,
    allocated: status.allocated,
    running: status.running,
    queued: status.queued,
    labels: status.labels,
    executorHealthy: status.executorHealthy,
    executorDetail: status.executorDetail,
    storageEnforced: status.storageEnforced,
    imageIds: status.imageIds,
    reachable: member.reachable,
    lastSeen: new Date(member.lastSeen).toISOString(),
    ...(member.unreachableSince != null ? { unreachableSince: new Date(member.unreachableSince).toISOString() } : {}),
    latencyMs: Math.round(member.rttMs * 100) / 100
  }
}

/** A member known only from another member's hint: reachable as that member last saw it. */
export function relayedPeerView (relayed: RelayedMember): PeerView {
  const view = toPeerView({ ...relayed, rttMs: 0, lastSeen: relayed.heardAt, reachable: true })
  return { ...view, via: relayed.via.toString() }
}
