import { InvalidTaskError, PeerUnreachableError, StoreFullError, toError } from '../errors.ts'
import type { Master, SubmitOptions, SubmittedTask, TaskRequest } from '../master/master.ts'
import { NoPlacementError, type Placement } from '../master/placement.ts'
import { AmbiguousPeerError, UnknownPeerError } from '../master/resolve-peer.ts'
import type { OutputSet } from '../files/output-store.ts'
import { isTerminal, type TaskState } from '../protocol/task-messages.ts'
import { pruneHistory, type PruneReport, type RetentionRules } from '../store/retention.ts'
import type { TaskStore } from '../store/store.ts'
import { taskRecord } from '../store/task-views.ts'
import type { Worker } from '../worker/worker.ts'
import { TaskHistory } from './task-history.ts'

/** How a task stood when a cancel reached it (`cancelled` false: it had ended already). */
export interface CancelReply {
  taskId: string
  state: TaskState
  cancelled: boolean
}

/**
 * The one way into a node's tasks, for the HTTP API, the CLI's embedded node and the shell
 * alike: send (to a peer or `auto`), explain a placement, cancel, and the history's reads.
 */
export class TaskService extends TaskHistory {
  private readonly master: Master
  private readonly worker: Worker
  /** What the history keeps (`start --keep-for`, `--keep-size`). */
  readonly retention: RetentionRules

  constructor (store: TaskStore, master: Master, worker: Worker, retention: RetentionRules) {
    super(store, taskId => master.unreachableSince(taskId))
    this.master = master
    this.worker = worker
    this.retention = retention
  }

  /** Remove the finished tasks this node's retention rules (with `rules` in place of its own where given) do not keep. */
  async prune (rules: Partial<RetentionRules> = {}, signal?: AbortSignal): Promise<PruneReport> {
    return await pruneHistory(this.store, { ...this.retention, ...rules }, { signal })
  }

  /** Send one task; throws when it could not be sent (the task is then recorded REJECTED, unless retries go on with it). */
  async submit (target: string, request: TaskRequest, options: SubmitOptions = {}): Promise<SubmittedTask> {
    return await sending(async () => await this.master.submit(target, request, options))
  }

  /** `count` copies of a task (`--count`), each its own task, placed together by one probe round. */
  async submitCopies (target: string, request: TaskRequest, options: SubmitOptions, count: number): Promise<SubmittedTask[]> {
    return await sending(async () => await this.master.submitCopies(target, request, options, count))
  }

  /** Where `auto` would place `count` copies of a task, and why (`--explain`); nothing is sent. */
  async explain (request: TaskRequest, options: SubmitOptions, count = 1): Promise<Placement> {
    return await sending(async () => await this.master.explain(request, options, count))
  }

  /**
   * The outputs kept of a finished task: of one this node sent, from its worker (this node's
   * own or a peer's); of one this node ran for a peer, from here.
   */
  async outputs (idOrPrefix: string, signal?: AbortSignal): Promise<{ taskId: string, sets: OutputSet[], archive: AsyncIterable<Uint8Array> }> {
    const taskId = this.resolve(idOrPrefix)
    if (this.store.task(taskId, 'submitted') != null) return { taskId, ...(await this.master.outputs(taskId, signal)) }
    return { taskId, ...(await this.worker.outputs(taskId)) }
  }

  /** Stop a task this node sent (on its worker, wherever that is) or runs for a peer. */
  async cancel (idOrPrefix: string): Promise<CancelReply> {
    const taskId = this.resolve(idOrPrefix)
    const record = taskRecord(this.store, taskId)
    if (isTerminal(record.state)) return { taskId, state: record.state, cancelled: false }
    const outcome = record.role === 'submitted' ? await this.master.cancel(taskId) : this.worker.cancel(taskId)
    return { taskId, state: outcome?.state ?? record.state, cancelled: outcome?.cancelled ?? false }
  }
}

/**
 * A send that failed: the request's own fault (which peer, what task, no placement) or this
 * node's lack of room to record it, as it is; anything else, the worker could not be reached.
 */
async function sending<T> (send: () => Promise<T>): Promise<T> {
  try {
    return await send()
  } catch (err) {
    if (err instanceof UnknownPeerError || err instanceof AmbiguousPeerError || err instanceof InvalidTaskError || err instanceof NoPlacementError || err instanceof StoreFullError) throw err
    throw new PeerUnreachableError(`could not send the task: ${toError(err).message}`, { cause: err })
  }
}
