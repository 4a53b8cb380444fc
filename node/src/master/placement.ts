import { CloudaiError } from '../errors.ts'
import type { PeerStatus } from '../protocol/node-messages.ts'
import type { ResourceAmounts } from '../resources.ts'
import { formatBytes } from '../units.ts'

/** How many candidates are probed per task placed: the power of two choices (Sparrow). */
export const PROBES_PER_TASK = 2

export type PlacementPolicy = 'spread' | 'binpack'

/** What placement knows of a peer: its last Status (from membership, or a fresh probe). */
export type CandidateStatus = { peerId: string } & Pick<PeerStatus, 'name' | 'capacity' | 'allocated' | 'running' | 'queued' | 'labels' | 'executorHealthy' | 'executorDetail'>

export interface PlacementRequest {
  need: ResourceAmounts
  policy: PlacementPolicy
  /** Labels a worker must carry (`--constraint key=value`). */
  constraints: Record<string, string>
  /** How many copies to place (`--count`): one probe round serves the batch. */
  count: number
  /** Peers not to use (the workers of earlier attempts). */
  exclude: Set<string>
  /**
   * What the master knows that a probe's answer may not show yet: its own placements that
   * had not reached the worker when the probe was sent. Applied just before choosing.
   */
  adjust?: (peer: CandidateStatus, probedAt: number) => CandidateStatus
  /** Told of the choices in the same turn they are made, before any other placement chooses. */
  onChosen?: (choices: Choice[]) => void
}

export interface Excluded {
  peerId: string
  name: string
  reason: string
}

export interface ProbedCandidate extends CandidateStatus {
  /** Lower is better; how the policy ranked it before anything was placed. */
  score: number
  fitsNow: boolean
}

export interface Choice {
  peerId: string
  name: string
  reason: string
}

export interface Placement {
  /** One per copy asked for, in order. */
  choices: Choice[]
  /** The candidates probed, best first, for `--explain` and for trying the next one after a refusal. */
  probed: ProbedCandidate[]
  excluded: Excluded[]
}

/** No peer can take the task: the message lists each one's reason. */
export class NoPlacementError extends CloudaiError {
  override readonly code = 'NO_PLACEMENT'
  readonly excluded: Excluded[]
  constructor (message: string, excluded: Excluded[]) {
    super(message)
    this.excluded = excluded
  }
}

/** Why this peer can never run the task, or undefined if it could. */
export function exclusionReason (peer: CandidateStatus, request: PlacementRequest): string | undefined {
  if (request.exclude.has(peer.peerId)) return 'an earlier attempt of this task ran there'
  if (!peer.executorHealthy) return `its executor is unhealthy (${peer.executorDetail})`
  for (const [key, value] of Object.entries(request.constraints)) {
    const has = peer.labels[key]
    if (has !== value) return has == null ? `it has no label ${key} (needs ${key}=${value})` : `its label ${key} is ${has}, not ${value}`
  }
  const { need } = request
  const has = peer.capacity
  const short: string[] = []
  if (need.gpus > has.gpus) short.push(`${need.gpus} GPU, it has ${has.gpus}`)
  if (need.cpu > has.cpu) short.push(`${need.cpu} CPU, it has ${has.cpu}`)
  if (need.memoryBytes > has.memoryBytes) short.push(`${formatBytes(need.memoryBytes)} memory, it has ${formatBytes(has.memoryBytes)}`)
  if (need.storageBytes > has.storageBytes) short.push(`${formatBytes(need.storageBytes)} storage, it has ${formatBytes(has.storageBytes)}`)
  return short.length > 0 ? `the task needs ${short.join('; ')}` : undefined
}

function fitsNow (peer: CandidateStatus, need: ResourceAmounts): boolean {
  const { capacity: cap, allocated: held } = peer
  // A queue means the node is full for now, whatever the numbers say: a newcomer waits behind it.
  return peer.queued === 0 &&
    held.cpu + need.cpu <= cap.cpu + 1e-9 &&
    held.memoryBytes + need.memoryBytes <= cap.memoryBytes &&
    held.storageBytes + need.storageBytes <= cap.storageBytes &&
    held.gpus + need.gpus <= cap.gpus
}

/** The busiest of a node's resources once `need` is added, 0 (idle) to 1 (full). */
function loadAfter (peer: CandidateStatus, need: ResourceAmounts): number {
  const share = (held: number, add: number, cap: number): number => (cap > 0 ? (held + add) / cap : 0)
  const { capacity: cap, allocated: held } = peer
  return Math.max(share(held.cpu, need.cpu, cap.cpu), share(held.memoryBytes, need.memoryBytes, cap.memoryBytes), share(held.gpus, need.gpus, cap.gpus))
}

/**
 * Lower is better. Any node the task fits on now beats any node where it would queue (and a
 * shorter queue beats a longer one); among those it fits on, `spread` prefers the least
 * loaded after placing it, `binpack` the most loaded, keeping other nodes free.
 */
export function score (peer: CandidateStatus, need: ResourceAmounts, policy: PlacementPolicy): number {
  if (!fitsNow(peer, need)) return 2 + peer.queued
  const load = loadAfter(peer, need)
  return policy === 'spread' ? load : 1 - load
}

/** A candidate's status with one more task of `need` on it: running if it fits now, else queued. */
export function withTask<T extends CandidateStatus> (peer: T, need: ResourceAmounts): T {
  const copy = { ...peer, allocated: { ...peer.allocated } }
  book(copy, need)
  return copy
}

/** Count `need` against a candidate as if placed there, so the next copy of a batch sees it. */
function book (peer: CandidateStatus, need: ResourceAmounts): void {
  if (!fitsNow(peer, need)) {
    peer.queued++
    return
  }
  peer.allocated = {
    cpu: peer.allocated.cpu + need.cpu,
    memoryBytes: peer.allocated.memoryBytes + need.memoryBytes,
    storageBytes: peer.allocated.storageBytes + need.storageBytes,
    gpus: peer.allocated.gpus + need.gpus
  }
  peer.running++
}

function shuffle<T> (items: T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/**
 * Choose workers for `request.count` copies of a task (docs/architecture.md, "Roles"): leave out the peers
 * that can never run it (each with its reason), probe the fresh Status of a random few of
 * the rest (PROBES_PER_TASK per copy), and choose by the policy. The worker's own admission
 * still decides, so concurrent masters never oversubscribe it.
 */
export async function place (candidates: CandidateStatus[], request: PlacementRequest, probe: (peer: CandidateStatus) => Promise<CandidateStatus>): Promise<Placement> {
  const excluded: Excluded[] = []
  const eligible: CandidateStatus[] = []
  for (const peer of candidates) {
    const reason = exclusionReason(peer, request)
    if (reason != null) excluded.push({ peerId: peer.peerId, name: peer.name, reason })
    else eligible.push(peer)
  }
  const sample = shuffle(eligible).slice(0, Math.max(1, PROBES_PER_TASK * request.count))
  const answers = await Promise.all(sample.map(async peer => {
    const probedAt = Date.now()
    return await probe(peer).then(status => ({ status, probedAt }), (err: Error) => ({ peer, err }))
  }))
  const probed: ProbedCandidate[] = []
  for (const answer of answers) {
    if ('err' in answer) {
      excluded.push({ peerId: answer.peer.peerId, name: answer.peer.name, reason: `it did not answer a status probe (${answer.err.message})` })
      continue
    }
    // A fresh answer may show what the membership view did not (a full disk, a new label).
    const status = request.adjust?.(answer.status, answer.probedAt) ?? answer.status
    const reason = exclusionReason(status, request)
    if (reason != null) excluded.push({ peerId: status.peerId, name: status.name, reason })
    else probed.push({ ...status, score: score(status, request.need, request.policy), fitsNow: fitsNow(status, request.need) })
  }
  if (probed.length === 0) {
    const why = excluded.length > 0 ? excluded.map(peer => `  ${peer.name} (${peer.peerId}): ${peer.reason}`).join('\n') : '  no peers are known (see "cloudai peers")'
    throw new NoPlacementError(`no peer can run this task:\n${why}`, excluded)
  }
  probed.sort((a, b) => a.score - b.score)
  const booked = probed.map(peer => ({ ...peer, allocated: { ...peer.allocated } }))
  const choices: Choice[] = []
  for (let copy = 0; copy < request.count; copy++) {
    const best = booked.reduce((a, b) => (score(b, request.need, request.policy) < score(a, request.need, request.policy) ? b : a))
    const fits = fitsNow(best, request.need)
    choices.push({
      peerId: best.peerId,
      name: best.name,
      reason: fits
        ? `${request.policy === 'spread' ? 'least' : 'most'} loaded of ${booked.length} probed that fit now (${Math.round(loadAfter(best, request.need) * 100)}% after placing)`
        : `no probed peer has room now; shortest queue of ${booked.length} probed (${best.queued} waiting)`
    })
    book(best, request.need)
  }
  request.onChosen?.(choices)
  return { choices, probed, excluded }
}
