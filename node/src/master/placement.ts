import { CloudaiError } from '../errors.ts'
import type { PeerStatus } from '../protocol/node-messages.ts'
import { STATUS_CHECK_INTERVAL_MS } from '../protocol/status-feed.ts'
import type { ResourceAmounts } from '../resources.ts'
import { formatBytes } from '../units.ts'

/** How many candidates are probed per task placed on a large mesh: the power of two choices (Sparrow). */
export const PROBES_PER_TASK = 2
/**
 * Up to this many eligible peers, every one is probed: on a LAN of a few machines two random
 * probes often miss the one idle machine, and asking all of them costs a few small messages.
 */
export const PROBE_ALL_UP_TO = 8
/**
 * When no probed peer has room now for every copy, at most this many more are probed before
 * any copy is queued: those the last known status says have room, best first.
 */
export const MORE_PROBES = 8
/**
 * A status this recent (a probe's answer, or this node's own) counts as a probe's answer and
 * is not asked again: during a burst the master's probes keep many peers this fresh, and its
 * own placements since are counted on top. What it misses (other masters' placements since)
 * the worker's admission still settles. Kept short: a task that ended since may still show
 * as held in it, making the peer look fuller than it is (1 s halved the probes again in the
 * 2,000-task benchmark, but then a batch placed right after a task ended went unevenly).
 */
export const FRESH_STATUS_MS = 250

/**
 * How far behind a linked peer's status can be: a status link sends each change within one
 * status check (STATUS_CHECK_INTERVAL_MS), plus a moment on the wire. Such a status is as
 * good as a probe's answer given that long ago, whenever its last change came.
 */
export const LINKED_STATUS_LAG_MS = STATUS_CHECK_INTERVAL_MS + 250

/**
 * Since when a candidate's status is known to hold (with this master's placements after that
 * counted on top), or undefined if that is not known: a linked peer's up to a status check
 * ago; another's when it was seen, if within FRESH_STATUS_MS.
 */
export function currentSince (peer: CandidateStatus, now: number): number | undefined {
  if (peer.linked === true) return Math.max(peer.seenAt ?? 0, now - LINKED_STATUS_LAG_MS)
  return peer.seenAt != null && now - peer.seenAt <= FRESH_STATUS_MS ? peer.seenAt : undefined
}

export type PlacementPolicy = 'spread' | 'binpack'

/** What placement knows of a peer: its last Status (from membership, or a fresh probe). */
export type CandidateStatus = { peerId: string } & Pick<PeerStatus, 'name' | 'capacity' | 'allocated' | 'running' | 'queued' | 'labels' | 'executorHealthy' | 'executorDetail'> & Partial<Pick<PeerStatus, 'imageIds'>> & {
  /** When that status was observed (ms since the epoch): what `adjust` needs to rank peers before probing them. */
  seenAt?: number
  /** A status link keeps it current (membership): its changes arrive within LINKED_STATUS_LAG_MS. */
  linked?: boolean
}

export interface PlacementRequest {
  need: ResourceAmounts
  policy: PlacementPolicy
  /** Labels a worker must carry (`--constraint key=value`). */
  constraints: Record<string, string>
  /** How many copies to place (`--count`): one probe round serves the batch. */
  count: number
  /** Peers not to use (the workers of earlier attempts). */
  exclude: Set<string>
  /** The task's image ID: among peers it fits on now, one whose Status says it holds the image comes first (no transfer). */
  imageId?: string
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

/** Whether the peer's last Status lists the image among those its engine holds. */
export function holdsImage (peer: CandidateStatus, imageId: string | undefined): boolean {
  return imageId !== undefined && (peer.imageIds?.includes(imageId) ?? false)
}

/**
 * How much load (0 to 1, after placing) holding the task's image is worth: a worker that holds
 * it wins over one that would fetch it unless that one would be this much less busy. Enough
 * that an image does not travel to a peer barely less loaded; not so much that copies of a
 * batch pile up on the holders instead of spreading (a 1-CPU copy on a 2-CPU node is 0.5).
 */
export const IMAGE_HELD_WORTH = 0.1

/**
 * Lower is better. Any node the task fits on now beats any node where it would queue (and a
 * shorter queue beats a longer one); among those it fits on, `spread` prefers the least
 * loaded after placing it, `binpack` the most loaded, keeping other nodes free, and a node
 * that holds the task's image counts IMAGE_HELD_WORTH less loaded (or more, for binpack).
 */
export function score (peer: CandidateStatus, need: ResourceAmounts, policy: PlacementPolicy, imageId?: string): number {
  if (!fitsNow(peer, need)) return 2 + peer.queued
  const load = loadAfter(peer, need)
  const byLoad = policy === 'spread' ? load : 1 - load
  return holdsImage(peer, imageId) ? byLoad - IMAGE_HELD_WORTH : byLoad
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

interface Known {
  peer: CandidateStatus
  /** The policy's score of what the master last knew of the peer, its own later placements counted. */
  score: number
}

/**
 * The eligible peers best first by what is already known of them (the membership view, or a
 * fresher probe's answer, plus this master's own placements since), ties in random order so
 * that equals share the work and no peer is never looked at.
 */
function rankByKnownStatus (eligible: CandidateStatus[], request: PlacementRequest): Known[] {
  const now = Date.now()
  return shuffle(eligible)
    .map(peer => ({ peer, score: score(request.adjust?.(peer, currentSince(peer, now) ?? peer.seenAt ?? 0) ?? peer, request.need, request.policy, request.imageId) }))
    .sort((a, b) => a.score - b.score)
}

/** How many of `count` copies fit now on `probed`, each booked as it is placed. */
function copiesThatFitNow (probed: ProbedCandidate[], request: PlacementRequest): number {
  const booked = probed.map(peer => ({ ...peer, allocated: { ...peer.allocated } }))
  let fit = 0
  for (let copy = 0; copy < request.count && booked.length > 0; copy++) {
    const best = booked.reduce((a, b) => (score(b, request.need, request.policy, request.imageId) < score(a, request.need, request.policy, request.imageId) ? b : a))
    if (!fitsNow(best, request.need)) break
    fit++
    book(best, request.need)
  }
  return fit
}

/**
 * Choose workers for `request.count` copies of a task (docs/architecture.md, "Roles"): leave
 * out the peers that can never run it (each with its reason), probe the fresh Status of some
 * of the rest, and choose by the policy. Whom to probe: every eligible peer when there are
 * PROBE_ALL_UP_TO or fewer; else PROBES_PER_TASK per copy, half the best by what is already
 * known of them and half at random (so that a stale view is corrected). When the answers
 * leave a copy without room now, up to MORE_PROBES more are asked (those last known to have
 * room) before any copy is queued. A status known to be current (a linked peer's, pushed
 * within LINKED_STATUS_LAG_MS of each change; another seen within FRESH_STATUS_MS) counts as
 * an answer and is not asked again, and while there are any, the first round asks no one:
 * a burst of placements on a linked mesh sends no probe at all. The worker's own admission
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
  const ranked = rankByKnownStatus(eligible, request)
  const answers: Array<{ status: CandidateStatus, probedAt: number }> = []
  const probeAll = async (peers: CandidateStatus[]): Promise<void> => {
    if (peers.length === 0) return
    const now = Date.now()
    const replies = await Promise.all(peers.map(async peer => {
      // A status known to be current is as good as an answer: a burst of placements then costs no message per task.
      const since = currentSince(peer, now)
      if (since != null) return { status: peer, probedAt: since }
      const probedAt = Date.now()
      return await probe(peer).then(status => ({ status, probedAt }), (err: Error) => ({ peer, err }))
    }))
    for (const reply of replies) {
      if ('err' in reply) excluded.push({ peerId: reply.peer.peerId, name: reply.peer.name, reason: `it did not answer a status probe (${reply.err.message})` })
      else answers.push(reply)
    }
  }
  /**
   * The answers as they stand now, with what this master placed since each was given. Judged
   * again after every wait and just before choosing, in the same turn as the choice: other
   * placements of a burst choose while this one waits, and must count.
   */
  const judge = (): { probed: ProbedCandidate[], unfit: Excluded[] } => {
    const probed: ProbedCandidate[] = []
    const unfit: Excluded[] = []
    for (const answer of answers) {
      // A fresh answer may show what the membership view did not (a full disk, a new label).
      const status = request.adjust?.(answer.status, answer.probedAt) ?? answer.status
      const reason = exclusionReason(status, request)
      if (reason != null) unfit.push({ peerId: status.peerId, name: status.name, reason })
      else probed.push({ ...status, score: score(status, request.need, request.policy, request.imageId), fitsNow: fitsNow(status, request.need) })
    }
    return { probed, unfit }
  }
  // Statuses known to be current (status links push every change) are all read, at no cost:
  // while there are any, the first round asks no one else.
  const startedAt = Date.now()
  const current = ranked.filter(known => currentSince(known.peer, startedAt) != null)
  const first = current.length > 0 ? current.length : ranked.length <= PROBE_ALL_UP_TO ? ranked.length : Math.max(1, PROBES_PER_TASK * request.count)
  // Half the first probes go to the best known, the rest to random others: a peer whose last
  // known status is stale (full then, idle now) is still asked now and then, and its answer
  // corrects what the master knows of it.
  const best = Math.ceil(first / 2)
  const firstRound = current.length > 0 || ranked.length <= PROBE_ALL_UP_TO ? (current.length > 0 ? current : ranked) : [...ranked.slice(0, best), ...shuffle(ranked.slice(best)).slice(0, first - best)]
  await probeAll(firstRound.map(known => known.peer))
  let more = 0
  if (copiesThatFitNow(judge().probed, request) < request.count) {
    const asked = new Set(firstRound)
    const roomy = ranked.filter(known => !asked.has(known) && known.score < 2).slice(0, MORE_PROBES).map(known => known.peer)
    more = roomy.length
    await probeAll(roomy)
  }
  // From here to the choice nothing waits.
  const { probed, unfit } = judge()
  excluded.push(...unfit)
  if (probed.length === 0) {
    const why = excluded.length > 0 ? excluded.map(peer => `  ${peer.name} (${peer.peerId}): ${peer.reason}`).join('\n') : '  no peers are known (see "cloudai peers")'
    throw new NoPlacementError(`no peer can run this task:\n${why}`, excluded)
  }
  const asked = first + more
  const firstHow = current.length > 0 ? 'those whose status is current, pushed over status links or seen moments ago' : 'the best by their last known status, and others at random'
  const howProbed = asked === ranked.length
    ? `${ranked.length === 1 ? 'the one eligible peer' : `all ${ranked.length} eligible peers`} probed`
    : more > 0
      ? `${asked} of ${ranked.length} eligible peers probed: ${first} (${firstHow}), then ${more} more last known to have room`
      : `${asked} of ${ranked.length} eligible peers probed: ${firstHow}`
  probed.sort((a, b) => a.score - b.score)
  const booked = probed.map(peer => ({ ...peer, allocated: { ...peer.allocated } }))
  const choices: Choice[] = []
  const copiesOn = new Map<string, number>()
  // Equal scores: spread gives the copy to the peer holding fewer copies of this batch (a
  // peer whose pushed status still shows a task that just ended scores as one with a copy).
  const better = (a: CandidateStatus, b: CandidateStatus): boolean => {
    const difference = score(b, request.need, request.policy, request.imageId) - score(a, request.need, request.policy, request.imageId)
    if (difference !== 0 || request.policy !== 'spread') return difference < 0
    return (copiesOn.get(b.peerId) ?? 0) < (copiesOn.get(a.peerId) ?? 0)
  }
  for (let copy = 0; copy < request.count; copy++) {
    const best = booked.reduce((a, b) => (better(a, b) ? b : a))
    copiesOn.set(best.peerId, (copiesOn.get(best.peerId) ?? 0) + 1)
    const fits = fitsNow(best, request.need)
    const holders = booked.filter(peer => fitsNow(peer, request.need) && holdsImage(peer, request.imageId)).length
    const why = fits
      ? holdsImage(best, request.imageId)
        ? `holds the image already (no transfer), ${request.policy === 'spread' ? 'least' : 'most'} loaded of ${holders} probed that fit now and hold it (${Math.round(loadAfter(best, request.need) * 100)}% after placing)`
        : `${request.policy === 'spread' ? 'least' : 'most'} loaded of ${booked.length} probed that fit now (${Math.round(loadAfter(best, request.need) * 100)}% after placing)${request.imageId !== undefined ? '; none of them holds the image' : ''}`
      : `no probed peer has room now; shortest queue of ${booked.length} probed (${best.queued} waiting)`
    choices.push({ peerId: best.peerId, name: best.name, reason: `${why}; ${howProbed}` })
    book(best, request.need)
  }
  request.onChosen?.(choices)
  return { choices, probed, excluded }
}
