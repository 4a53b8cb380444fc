import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { stat } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { InvalidTaskError, NoOutputsError, NotSubmitterError, TaskNotFoundError, toError } from '../errors.ts'
import { packTrees } from '../files/archive-pack.ts'
import type { OutputSet } from '../files/output-store.ts'
import { fetchOutputsFromPeer } from '../protocol/files-protocol.ts'
import { silentLogger } from '../logger.ts'
import { requestStatus } from '../protocol/node-protocol.ts'
import { encodeSpec, isTerminal, TaskState, validateSpec, type TaskEvent, type TaskSpec } from '../protocol/task-messages.ts'
import type { PlacementRecord, TaskStore } from '../store/store.ts'
import type { TaskStanding } from '../protocol/task-host.ts'
import type { Worker } from '../worker/worker.ts'
import { DEFAULT_LOG_LIMIT_BYTES } from '../worker/worker-task.ts'
import { DEFAULT_LOST_AFTER_MS, Follower, type FollowedTask } from './follower.ts'
import { OutputAllowance } from './output-allowance.ts'
import { PeerWatch } from './peer-watch.ts'
import { PendingPlacements } from './pending.ts'
import { ProbedStatuses } from './probed-statuses.ts'
import { place, type CandidateStatus, type Placement, type PlacementPolicy } from './placement.ts'
import { explainUnknownPeer, resolvePeer, UnknownPeerError, type PeerCandidate, type RefusingMachine } from './resolve-peer.ts'
import { mayGoOn, retryDecision } from './retry.ts'
import { localLink, remoteLink, type WorkerLink } from './worker-link.ts'
import { TaskStreams } from '../protocol/task-streams.ts'

export type TaskRequest = Omit<TaskSpec, 'id' | 'attempt'>

/** How to place a task and when to place it again (`task` options). */
export interface SubmitOptions {
  retries?: number
  retryOnExit?: boolean
  policy?: PlacementPolicy
  constraints?: Record<string, string>
}

export interface SubmittedTask {
  taskId: string
  peerId: string
  peerName: string
}

export interface MasterInit {
  libp2p: Libp2p
  worker: Worker
  store: TaskStore
  self: () => PeerCandidate
  /** Reachable members, for resolving a target. */
  peers: () => PeerCandidate[]
  /**
   * A target that names no member but a peer known so far only from a member's hint: reach it
   * now (this node's own probe). True when it became a member; without it, such a target is unknown.
   */
  reach?: (target: string) => Promise<boolean>
  /** This node's status now: what `auto` sees of this node as a candidate. */
  selfStatus: () => CandidateStatus
  /** This node and the reachable members with their last Status, for `auto`. */
  candidates: () => CandidateStatus[]
  /** Machines that refused the handshake, to explain a target that is not found. */
  refused?: () => RefusingMachine[]
  /** How long a worker may be unreachable before its tasks are LOST (default 30 s). */
  lostAfterMs?: number
  /** Output stored per task attempt (`--log-limit`), also when a worker sends more. */
  logLimitBytes?: number
  /** How often a worker running our tasks is probed (default 5 s). */
  probeIntervalMs?: number
  /** The ID of an image in this node's engine, or undefined when it has none by that name (then the worker pulls it). */
  imageIdOf?: (image: string) => Promise<string | undefined>
  /** Other members that hold a task's image, and this node's grant for the task (see TaskSpec.imageHolders). */
  imageSources?: (taskId: string, imageId: string) => Promise<{ holders: string[], grant: string }>
  log?: Logger
}

/** Every input source must exist and be a file or a directory before anything is sent. */
async function checkInputSources (request: TaskRequest): Promise<void> {
  for (const input of request.files?.inputs ?? []) {
    if (input.source == null) throw new InvalidTaskError(`input ${input.target} has no source on this node`)
    const info = await stat(input.source).catch(() => undefined)
    if (info === undefined) throw new InvalidTaskError(`input ${input.source} does not exist (or cannot be read)`)
    if (!info.isFile() && !info.isDirectory()) throw new InvalidTaskError(`input ${input.source} is neither a file nor a directory`)
  }
}

function withSources (spec: TaskSpec, request: TaskRequest): TaskSpec {
  if (spec.files == null || request.files == null) return spec
  return { ...spec, files: { ...spec.files, inputs: request.files.inputs.map(input => ({ ...input })) } }
}

/** Task ids are made by the master: time-ordered for people, random enough to be unique across the mesh. */
export function newTaskId (): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`
}

function placementRecord (target: string, options: SubmitOptions): PlacementRecord {
  return {
    target,
    ...(options.policy != null ? { policy: options.policy } : {}),
    ...(options.constraints != null && Object.keys(options.constraints).length > 0 ? { constraints: options.constraints } : {}),
    retries: options.retries ?? 0,
    retryOnExit: options.retryOnExit === true
  }
}

/**
 * The master role for the tasks this node submits: resolve or place the target, name and
 * record the task, send it, follow it to its end whether or not anyone is watching, and
 * place it again elsewhere when its node fails it and retries are left. It alone records a
 * task's events as the master saw them and decides whether another attempt follows.
 */
export class Master {
  private readonly init: MasterInit
  /** The follower of each task's current attempt. */
  private readonly following = new Map<string, Follower>()
  private readonly watch: PeerWatch
  private readonly stopping = new AbortController()
  private readonly log: Logger
  private readonly pending = new PendingPlacements()
  /** Each peer's last probed status: fresher than membership's during a burst, so the next placement ranks by it. */
  private readonly probedStatus = new ProbedStatuses()
  /** One stream to each worker this node sends tasks to, shared by those tasks. */
  private readonly taskStreams: TaskStreams

  constructor (init: MasterInit) {
    this.init = init
    this.log = init.log ?? silentLogger()
    this.taskStreams = new TaskStreams(init.libp2p)
    this.watch = new PeerWatch({
      intervalMs: init.probeIntervalMs,
      probe: async peerId => { await requestStatus(init.libp2p, peerIdFromString(peerId), { signal: this.stopping.signal }) }
    })
  }

  /** How to reach a worker: this node's own, or a peer's. The one place that tells them apart. */
  private linkTo (peerId: string): WorkerLink {
    const self = this.init.self()
    if (peerId !== self.peerId) return remoteLink(this.init.libp2p, this.taskStreams, peerId, this.watch)
    return localLink(this.init.worker, self, this.init.selfStatus)
  }

  private follower (task: FollowedTask, recordedSeq = 0): Follower {
    const link = this.linkTo(task.peerId)
    const seenSeq = link.resumeAfter(recordedSeq)
    const stored = seenSeq > 0 ? this.init.store.outputTotals(task.spec.id, task.spec.attempt, seenSeq) : undefined
    return new Follower({
      link,
      lostAfterMs: this.init.lostAfterMs ?? DEFAULT_LOST_AFTER_MS,
      log: this.log,
      stopped: this.stopping.signal,
      onEvent: async (followed, event) => {
        this.record(followed, event)
        // The worker hears it acknowledged only once it is on disk here.
        await this.init.store.whenDurable()
      },
      onReachability: followed => { this.init.store.notify(followed.spec.id) },
      onNote: (followed, note) => { if (!this.stopping.signal.aborted) this.init.store.setNote(followed.spec.id, 'submitted', note) }
    }, task, seenSeq, new OutputAllowance(this.init.logLimitBytes ?? DEFAULT_LOG_LIMIT_BYTES, stored))
  }

  /**
   * Where `auto` would place `count` copies of a task, and why, without sending anything
   * (`--explain`). Throws NoPlacementError with every peer's reason when none can run it.
   */
  async explain (request: TaskRequest, options: SubmitOptions, count = 1): Promise<Placement> {
    const spec = validateSpec(encodeSpec({ ...await this.withImageId(request), id: newTaskId(), attempt: 1 }))
    return await this.place([spec], options, count, new Set(), false)
  }

  /**
   * Record the task, then send it. To a named peer that cannot be reached, the task is
   * recorded as REJECTED with the reason, and the error is thrown; with `auto`, the next
   * candidate is tried instead.
   */
  async submit (target: string, request: TaskRequest, options: SubmitOptions = {}): Promise<SubmittedTask> {
    const [submitted] = await this.submitCopies(target, request, options, 1)
    return submitted
  }

  /** `count` copies of a task (`--count`), each its own task, placed together by one probe round. */
  async submitCopies (target: string, request: TaskRequest, options: SubmitOptions, count: number): Promise<SubmittedTask[]> {
    await checkInputSources(request)
    const named = target === 'auto' ? undefined : await this.resolveReaching(target)
    // A task for this node runs its image by name from this same engine, as `docker run` does:
    // the ID is what lets another engine fetch and check it, so only then is it looked up.
    const toSelf = named !== undefined && named.peerId === this.init.self().peerId
    const identified = toSelf ? request : await this.withImageId(request)
    // The wire form leaves the input sources out; this node keeps them with its record, to serve the inputs.
    const specs = await Promise.all(Array.from({ length: count }, async () => withSources(await this.withImageSources(validateSpec(encodeSpec({ ...identified, id: newTaskId(), attempt: 1 }))), request)))
    const peers = named === undefined
      ? (await this.place(specs, options, count, new Set(), true)).choices
      : Array(count).fill(named)
    const placement = placementRecord(target, options)
    return await Promise.all(specs.map(async (spec, i) => {
      const peer = { peerId: peers[i].peerId, peerName: peers[i].name }
      this.init.store.createTask({ spec, role: 'submitted', ...peer, placement })
      // On disk before the worker hears of it: a master that dies next still knows the task it sent.
      await this.init.store.whenDurable()
      const sent = await this.send({ spec, ...peer })
      // Unless the task went on as another attempt (auto, --retries), the user hears why it never ran.
      if (!sent.ok && this.init.store.currentAttempt(spec.id, 'submitted') === spec.attempt) throw sent.err
      return { taskId: spec.id, ...peer }
    }))
  }

  /**
   * The spec with the members that hold its image and this node's grant for it: a worker
   * that lacks the image and cannot get it from here (gone from this engine, or this node
   * unreachable) asks them. Nothing is added when no other member holds it.
   */
  private async withImageSources (spec: TaskSpec): Promise<TaskSpec> {
    if (spec.imageId == null || this.init.imageSources == null) return spec
    try {
      const { holders, grant } = await this.init.imageSources(spec.id, spec.imageId)
      return holders.length === 0 ? spec : { ...spec, imageHolders: holders, imageGrant: grant }
    } catch (err) {
      this.log.warn({ image: spec.imageId, err: toError(err).message }, 'could not name the members that hold the task\'s image; the worker will ask only this node')
      return spec
    }
  }

  /**
   * The request with the ID of the image this node's engine holds under its name: the
   * worker runs exactly that image, fetched from here when it lacks it, so an image built
   * here and never pushed runs anywhere. No image by that name here: the worker pulls it.
   */
  private async withImageId (request: TaskRequest): Promise<TaskRequest> {
    if (request.imageId != null || this.init.imageIdOf == null) return request
    let imageId: string | undefined
    try {
      imageId = await this.init.imageIdOf(request.image)
    } catch (err) {
      this.log.warn({ image: request.image, err: toError(err).message }, 'could not ask this node\'s engine for the image; the worker will pull it')
    }
    return imageId != null ? { ...request, imageId } : request
  }

  /** `resolve`, first reaching a peer that `peers` lists "via" a member (`MasterInit.reach`). */
  private async resolveReaching (target: string): Promise<PeerCandidate> {
    try {
      return this.resolve(target)
    } catch (err) {
      if (!(err instanceof UnknownPeerError) || this.init.reach == null || !(await this.init.reach(target))) throw err
      return this.resolve(target)
    }
  }

  private resolve (target: string): PeerCandidate {
    try {
      return resolvePeer(target, this.init.self(), this.init.peers())
    } catch (err: any) {
      throw explainUnknownPeer(err, this.init.refused?.() ?? [])
    }
  }

  /**
   * Choose workers for `count` copies (of `specs`: one spec per copy when `book` is set, so
   * that each choice is counted against its peer until the worker's answers show it).
   */
  private async place (specs: TaskSpec[], options: SubmitOptions, count: number, exclude: Set<string>, book: boolean): Promise<Placement> {
    return await place(this.probedStatus.freshest(this.init.candidates()), {
      need: specs[0].resources,
      policy: options.policy ?? 'spread',
      constraints: options.constraints ?? {},
      count,
      exclude,
      ...(specs[0].imageId != null ? { imageId: specs[0].imageId } : {}),
      adjust: (peer, probedAt) => this.pending.adjust(peer, probedAt),
      onChosen: choices => {
        if (book) choices.forEach((choice, i) => { this.pending.chosen(choice.peerId, specs[i].id, specs[i].resources) })
      }
    }, async peer => {
      // Stamped with when it was asked: whatever the worker admitted before that, the answer shows.
      const askedAt = Date.now()
      const status = await this.linkTo(peer.peerId).status(this.stopping.signal)
      this.probedStatus.answered(status, askedAt)
      return status
    })
  }

  /** Open the attempt's stream and follow it; a Submit that cannot be sent ends the attempt REJECTED. */
  private async send (task: FollowedTask): Promise<{ ok: true } | { ok: false, err: Error }> {
    const follower = this.follower(task)
    try {
      await follower.submit()
    } catch (err) {
      this.record(task, {
        taskId: task.spec.id, seq: 1, timeMs: Date.now(), state: TaskState.REJECTED,
        error: { code: 'PEER_UNREACHABLE', message: `could not send the task to ${task.peerName}: ${toError(err).message}` }
      })
      return { ok: false, err: toError(err) }
    }
    this.track(follower)
    return { ok: true }
  }

  /**
   * Store an event of a task's current attempt. A terminal one that calls for another
   * attempt starts it first, in the same turn: whoever reads the task sees the next attempt
   * begin as this one ends, and never a task that ended and then went on.
   */
  private record (task: FollowedTask, event: TaskEvent): void {
    // A stopping master records nothing more (its node closes the store next): an event it did
    // not record is read again from the worker when the node restarts and re-attaches from the
    // last recorded seq, and an attempt it did not send is sent then.
    if (this.stopping.signal.aborted) return
    const { store } = this.init
    if (event.seq === 1) this.pending.admitted(task.spec.id)
    if (isTerminal(event.state)) {
      // A status probed before it started, still fresh enough to be used, must not count it any more.
      this.pending.ended(task.spec.id)
    }
    // A task that succeeded or was cancelled never goes on: its record and attempts need not be read.
    if (isTerminal(event.state) && mayGoOn(event)) {
      const record = store.task(task.spec.id, 'submitted')
      const earlier = store.attempts(task.spec.id).filter(attempt => attempt.attempt < task.spec.attempt)
      const decision = record?.placement != null && record.attempt === task.spec.attempt ? retryDecision(event, record.placement, earlier) : undefined
      if (decision != null) {
        const next = task.spec.attempt + 1
        store.startAttempt(task.spec.id, next, '', '')
        this.log.info({ task: task.spec.id, attempt: next, why: event.error?.code ?? event.state, decision }, 'placing the task again')
        this.placeAttemptLater({ ...record!.spec, attempt: next }, record!.placement!)
      }
    }
    store.recordEvent('submitted', task.spec.attempt, event)
  }

  /**
   * Place an attempt in the background. One that cannot even be recorded (no room in the
   * store) stays unplaced in the store, and a restart places it.
   */
  private placeAttemptLater (spec: TaskSpec, placement: PlacementRecord): void {
    this.placeAttempt(spec, placement).catch((err: unknown) => {
      this.log.error({ task: spec.id, attempt: spec.attempt, err: toError(err).message }, 'could not place the next attempt')
    })
  }

  /** Place a new attempt away from the workers of the earlier ones, and send it; if nothing can take it, it ends REJECTED. */
  private async placeAttempt (spec: TaskSpec, placement: PlacementRecord): Promise<void> {
    if (this.stopping.signal.aborted) return
    const tried = new Set(this.init.store.attempts(spec.id).map(attempt => attempt.peerId).filter(peerId => peerId !== ''))
    let chosen: { peerId: string, name: string }
    try {
      chosen = (await this.place([spec], placement, 1, tried, true)).choices[0]
    } catch (err) {
      this.record({ spec, peerId: '', peerName: '' }, {
        taskId: spec.id, seq: 1, timeMs: Date.now(), state: TaskState.REJECTED,
        error: { code: 'NO_PLACEMENT', message: `attempt ${spec.attempt} could not be placed: ${toError(err).message}` }
      })
      return
    }
    if (this.stopping.signal.aborted) return
    this.init.store.placeAttempt(spec.id, spec.attempt, chosen.peerId, chosen.name)
    await this.init.store.whenDurable()
    await this.send({ spec, peerId: chosen.peerId, peerName: chosen.name })
  }

  /** Follow again the tasks this node had sent and not seen end before it stopped. */
  resume (): void {
    for (const record of this.init.store.unfinished('submitted')) {
      if (this.following.has(record.taskId)) continue
      const spec = { ...record.spec, attempt: record.attempt }
      if (record.peerId === '') {
        this.placeAttemptLater(spec, record.placement ?? placementRecord('auto', {}))
        continue
      }
      const follower = this.follower({ spec, peerId: record.peerId, peerName: record.peerName }, record.lastSeq)
      this.track(follower)
      follower.resume()
    }
  }

  /**
   * The inputs of a task this node submitted, as a tar read from disk while it is sent,
   * for the worker of that attempt only (a peer, or this node for `self`).
   */
  async inputs (requester: string, taskId: string, attempt: number): Promise<Readable> {
    const record = this.init.store.task(taskId, 'submitted')
    if (record == null) throw new TaskNotFoundError(`this node submitted no task ${taskId}`)
    const placed = this.init.store.attempts(taskId).find(known => known.attempt === attempt)
    if (placed == null || placed.peerId !== requester) throw new NotSubmitterError(`the inputs of task ${taskId} go only to the worker of its attempt ${attempt}`)
    const inputs = record.spec.files?.inputs ?? []
    return packTrees(inputs.filter(input => input.source != null).map(input => ({ diskPath: input.source as string, archivePath: input.target.slice(1) })), {
      symlinks: 'skip',
      onSkipped: note => { this.log.warn({ task: taskId }, `input: ${note}`) }
    })
  }

  /** The outputs the worker of a task this node submitted kept: from this node's own worker, or from the peer's. */
  async outputs (taskId: string, signal?: AbortSignal): Promise<{ sets: OutputSet[], archive: AsyncIterable<Uint8Array> }> {
    const record = this.init.store.task(taskId, 'submitted')
    if (record == null) throw new TaskNotFoundError(`this node submitted no task ${taskId}`)
    if (record.spec.files == null || record.spec.files.outputs.length === 0) throw new NoOutputsError(`task ${taskId} asked for no outputs (--output)`)
    if (!isTerminal(record.state)) throw new NoOutputsError(`task ${taskId} has not ended: its outputs are collected when its container exits`)
    if (record.peerId === this.init.self().peerId) return await this.init.worker.outputs(taskId)
    if (record.peerId === '') throw new NoOutputsError(`task ${taskId} was never placed on a worker`)
    const fetched = await fetchOutputsFromPeer(this.init.libp2p, peerIdFromString(record.peerId), taskId, signal)
    return { sets: fetched.outputs, archive: fetched.archive }
  }

  /** Since when the worker of a task we follow has been unreachable, if it is. */
  unreachableSince (taskId: string): number | undefined {
    return this.following.get(taskId)?.unreachableSince
  }

  /** Cancel a task this node submitted. Undefined if this node is not following it (it ended, or is not ours). */
  async cancel (taskId: string): Promise<TaskStanding | undefined> {
    return await this.following.get(taskId)?.cancel()
  }

  stop (): void {
    this.stopping.abort()
    this.watch.stop()
    this.taskStreams.close()
  }

  private track (follower: Follower): void {
    const taskId = follower.task.spec.id
    this.following.set(taskId, follower)
    // Forgotten once it ended (the store keeps the rest), so a long-lived master holds only what runs.
    void follower.done.then(() => {
      if (this.following.get(taskId) === follower) this.following.delete(taskId)
    })
  }
}
