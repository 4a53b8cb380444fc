import { peerIdFromMultihash } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import * as Digest from 'multiformats/hashes/digest'
import { MemberSummary, Status, type NodeRequest, type PeerHint, type Resources } from '../../../protocols/node.ts'
import { ProtocolError } from '../errors.ts'
import type { ResourceAmounts } from '../resources.ts'
import { IMAGE_ID_PATTERN } from './task-messages.ts'

/** A peer exchange answer lists at most this many members: a LAN mesh, not the internet. */
export const MAX_MEMBER_HINTS = 256
/** Addresses per member hint: a node's interfaces and ports, generously. */
export const MAX_ADDRS_PER_HINT = 16
/** Image IDs a node advertises (its most recently used): enough to place by, a few KiB per Status. */
export const MAX_ADVERTISED_IMAGES = 32
/** Labels a node may advertise. */
export const MAX_LABELS = 64
/** Longest name, version, label or detail string we accept from a peer. */
export const MAX_TEXT_LENGTH = 256

/** Decode limits for a Status (protons checks counts before allocating). */
export const STATUS_DECODE_LIMITS = {
  members: MAX_MEMBER_HINTS,
  members$: { addrs: MAX_ADDRS_PER_HINT, status: { labels: MAX_LABELS } },
  listenAddrs: MAX_ADDRS_PER_HINT,
  labels: MAX_LABELS,
  imageIds: MAX_ADVERTISED_IMAGES
}

/**
 * How many bytes of one Status its hints' statuses may take (labels make a status long):
 * past it, hints go without one, and the asker lists those members once it reached them.
 */
export const HINT_STATUS_BUDGET_BYTES = 96 * 1024

export interface MemberHint {
  peerId: PeerId
  addrs: Multiaddr[]
  /** The member's status as the hinting node last heard it (without its own hints); absent: not told. */
  status?: PeerStatus
}

/** A peer's Status after validation: every field checked, IDs and addresses parsed. */
export interface PeerStatus {
  name: string
  version: string
  capacity: ResourceAmounts
  allocated: ResourceAmounts
  running: number
  queued: number
  labels: Record<string, string>
  executorHealthy: boolean
  executorDetail: string
  storageEnforced: boolean
  members: MemberHint[]
  /** Image IDs its engine holds, the most recently used first (at most MAX_ADVERTISED_IMAGES); undefined reads as none. */
  imageIds?: string[]
  /** The addresses it listens on (at most MAX_ADDRS_PER_HINT); undefined or empty: not told (an older node). */
  listenAddrs?: Multiaddr[]
}

function checkText (value: string, field: string, { allowEmpty = true } = {}): string {
  if (value.length > MAX_TEXT_LENGTH) throw new ProtocolError(`${field} is longer than ${MAX_TEXT_LENGTH} characters`)
  if (!allowEmpty && value.length === 0) throw new ProtocolError(`${field} is empty`)
  return value
}

function checkAmount (value: number, field: string, whole: boolean): number {
  if (!Number.isFinite(value) || value < 0 || (whole && !Number.isSafeInteger(value))) {
    throw new ProtocolError(`${field} is not a valid amount (${value})`)
  }
  return value
}

function checkResources (resources: Resources | undefined, field: string): ResourceAmounts {
  if (resources == null) throw new ProtocolError(`${field} is missing`)
  return {
    cpu: checkAmount(resources.cpu, `${field}.cpu`, false),
    memoryBytes: checkAmount(resources.memoryBytes, `${field}.memoryBytes`, true),
    storageBytes: checkAmount(resources.storageBytes, `${field}.storageBytes`, true),
    gpus: checkAmount(resources.gpus, `${field}.gpus`, true)
  }
}

/**
 * Every Status answer repeats the same member hints; parsing them again (peer ID, base58,
 * multiaddrs) for each answer was a visible share of a busy node's CPU. Parsed hints are
 * kept here, keyed by their bytes; the cache is emptied whenever it reaches its limit.
 */
const HINT_CACHE_LIMIT = 4_096
const hintCache = new Map<string, MemberHint | null>()

/** Parse one member hint; a hint that does not parse is dropped, not fatal (hints are only hints). */
function parseHint (peerIdBytes: Uint8Array, addrBytes: Uint8Array[]): MemberHint | undefined {
  const key = [peerIdBytes, ...addrBytes].map(bytes => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')).join(' ')
  const cached = hintCache.get(key)
  if (cached !== undefined) return cached ?? undefined
  let hint: MemberHint | null
  try {
    hint = { peerId: peerIdFromMultihash(Digest.decode(peerIdBytes)), addrs: addrBytes.map(bytes => multiaddr(bytes)) }
  } catch {
    hint = null
  }
  if (hintCache.size >= HINT_CACHE_LIMIT) hintCache.clear()
  hintCache.set(key, hint)
  return hint ?? undefined
}

/** Validate the fields a Status and a hint's MemberSummary share. Throws ProtocolError naming the bad field. */
function validateSummary (status: MemberSummary): Omit<PeerStatus, 'members'> {
  // fromEntries, not assignment: a label named __proto__ must stay a label.
  const labels: Record<string, string> = Object.fromEntries([...status.labels].map(([key, value]) =>
    [checkText(key, 'label key', { allowEmpty: false }), checkText(value, `label ${key}`)]))
  return {
    name: checkText(status.name, 'name', { allowEmpty: false }),
    version: checkText(status.version, 'version'),
    capacity: checkResources(status.capacity, 'capacity'),
    allocated: checkResources(status.allocated, 'allocated'),
    running: checkAmount(status.running, 'running', true),
    queued: checkAmount(status.queued, 'queued', true),
    labels,
    executorHealthy: status.executorHealthy,
    executorDetail: checkText(status.executorDetail, 'executorDetail'),
    storageEnforced: status.storageEnforced
  }
}

/** A member hint with the status it carries; a status that does not validate is dropped, the hint kept. */
function parseHintWithStatus (hint: PeerHint): MemberHint | undefined {
  const parsed = parseHint(hint.peerId, hint.addrs)
  if (parsed == null || hint.status == null) return parsed
  try {
    // A hint carries no image IDs: none are known yet, as `peers --json` shows them.
    return { ...parsed, status: { ...validateSummary(hint.status), members: [], imageIds: [] } }
  } catch {
    return parsed
  }
}

/** Validate a decoded Status from a peer. Throws ProtocolError naming the bad field. */
export function validateStatus (status: Status): PeerStatus {
  return {
    ...validateSummary(status),
    members: status.members.flatMap(hint => parseHintWithStatus(hint) ?? []),
    // Hints only, like member hints: one that is not an image ID is dropped.
    imageIds: status.imageIds.filter(id => IMAGE_ID_PATTERN.test(id)),
    // Like a hint's addresses: one that does not parse is dropped, not the status.
    listenAddrs: status.listenAddrs.flatMap(bytes => parseAddr(bytes) ?? [])
  }
}

/** An address that parses and names something (empty bytes parse as "/", which dials nowhere). */
function parseAddr (bytes: Uint8Array): Multiaddr | undefined {
  try {
    const addr = multiaddr(bytes)
    return addr.getComponents().length > 0 ? addr : undefined
  } catch {
    return undefined
  }
}

/** The wire form of this node's own status. */
export function encodeStatus (status: PeerStatus): Status {
  return {
    ...encodeSummary(status),
    imageIds: (status.imageIds ?? []).slice(0, MAX_ADVERTISED_IMAGES),
    listenAddrs: (status.listenAddrs ?? []).slice(0, MAX_ADDRS_PER_HINT).map(addr => addr.bytes),
    members: encodeHints(status.members)
  }
}

/** Member hints on the wire, their statuses while HINT_STATUS_BUDGET_BYTES lasts. */
function encodeHints (hints: MemberHint[]): PeerHint[] {
  let budget = HINT_STATUS_BUDGET_BYTES
  return hints.slice(0, MAX_MEMBER_HINTS).map(hint => {
    const encoded: PeerHint = {
      peerId: hint.peerId.toMultihash().bytes,
      addrs: hint.addrs.slice(0, MAX_ADDRS_PER_HINT).map(addr => addr.bytes)
    }
    if (hint.status == null) return encoded
    const summary = encodeSummary(hint.status)
    const size = MemberSummary.encode(summary).byteLength
    if (size > budget) return encoded
    budget -= size
    return { ...encoded, status: summary }
  })
}

function encodeSummary (status: PeerStatus): MemberSummary {
  return {
    name: status.name,
    version: status.version,
    capacity: status.capacity,
    allocated: status.allocated,
    running: status.running,
    queued: status.queued,
    labels: new Map(Object.entries(status.labels)),
    executorHealthy: status.executorHealthy,
    executorDetail: status.executorDetail,
    storageEnforced: status.storageEnforced
  }
}

export { Status }

/** At most one field of a NodeRequest may be set (none: a request this version does not know). */
export function checkOneOfRequest (request: NodeRequest): void {
  const set = [request.status, request.attach, request.cancel].filter(field => field != null).length
  if (set > 1) throw new ProtocolError(`a node request must carry one of status, attach, cancel (it carries ${set})`)
}
