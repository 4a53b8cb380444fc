import { DEFAULT_PAGE_TASKS, MAX_PAGE_TASKS } from '../defaults.ts'
import { feedLine, taskFeed, type FeedItem, type FeedLine, type FeedOptions } from '../store/feed.ts'
import type { ListOptions, RecordedEvent, TaskRecord, TaskRole, TaskStore } from '../store/store.ts'
import type { TaskState } from '../protocol/task-messages.ts'
import { listTaskViews, resolveTaskId, taskRecord, taskStatusView, type TaskStatusView, type TaskView } from '../store/task-views.ts'

/** Which task a stream of lines is about, and where it runs: the first line of every stream. */
export interface TaskHeader {
  taskId: string
  peerId: string
  peerName: string
}

/** What `task` and `logs` read, from the daemon's API (NDJSON) or from a node in the same process: the same lines. */
export type TaskLine =
  | { accepted: TaskHeader }
  | { task: TaskHeader }
  | FeedLine
  | { error: { code: string, message: string } }

export interface FollowOptions {
  fromSeq?: number
  /** Keep waiting for new events until the task's end; otherwise stop at the last one stored. */
  follow: boolean
  signal: AbortSignal
}

/**
 * A node's task history, read from its store: the read side of the task service, and all of
 * it a CLI needs when no daemon runs (history survives a stopped or crashed daemon).
 */
export class TaskHistory {
  protected readonly store: TaskStore
  private readonly unreachable: (taskId: string) => number | undefined

  /** `unreachableSince`: the master's view of a task whose worker does not answer (none without a running node). */
  constructor (store: TaskStore, unreachableSince: (taskId: string) => number | undefined = () => undefined) {
    this.store = store
    this.unreachable = unreachableSince
  }

  /**
   * One page of the history, newest first, one entry per task: `limit` of them
   * (DEFAULT_PAGE_TASKS unless asked, never more than MAX_PAGE_TASKS), after the task
   * `before` (an id or a unique prefix) when given.
   */
  list (options: Pick<ListOptions, 'limit' | 'state'> & { before?: string }): TaskView[] {
    return listTaskViews(this.store, { ...options, limit: Math.min(options.limit ?? DEFAULT_PAGE_TASKS, MAX_PAGE_TASKS) }, this.unreachable)
  }

  /** One task, named by its id or a unique prefix, with its events (output counted, not included). */
  status (idOrPrefix: string): TaskStatusView {
    const taskId = this.resolve(idOrPrefix)
    return taskStatusView(this.store, taskId, this.unreachable(taskId))
  }

  /** The full id of the task named by an id or a unique prefix; throws TaskNotFoundError or AmbiguousTaskError. */
  resolve (idOrPrefix: string): string {
    return resolveTaskId(this.store, idOrPrefix)
  }

  /** Since when the worker of a task this node follows has been unreachable, if it is. */
  unreachableSince (taskId: string): number | undefined {
    return this.unreachable(taskId)
  }

  /** A task's events from the store, each once, in order; with `follow`, until the terminal event of its last attempt. */
  feed (taskId: string, options: FollowOptions): AsyncGenerator<FeedItem> {
    const { attempt } = taskRecord(this.store, taskId)
    return taskFeed(this.store, taskId, attempt, { ...options, unreachableSince: () => this.unreachable(taskId) } satisfies FeedOptions)
  }

  /** Follow a task named by its id or a unique prefix: which task it is, and its feed as the API streams it. */
  follow (idOrPrefix: string, options: FollowOptions): { header: TaskHeader, lines: AsyncGenerator<FeedLine> } {
    const taskId = this.resolve(idOrPrefix)
    const { peerId, peerName } = taskRecord(this.store, taskId)
    return { header: { taskId, peerId, peerName }, lines: this.feedLines(taskId, options) }
  }

  private async * feedLines (taskId: string, options: FollowOptions): AsyncGenerator<FeedLine> {
    for await (const item of this.feed(taskId, options)) yield feedLine(item)
  }

  /** The record this node keeps of a task in one role, if any. */
  record (taskId: string, role: TaskRole): TaskRecord | undefined {
    return this.store.task(taskId, role)
  }

  /** Call `watcher` with the id of every task that changes from now on; returns how to stop. */
  watchChanges (watcher: (taskId: string) => void): () => void {
    return this.store.watchChanges(watcher)
  }

  /** Call `watcher` with every event recorded from now on; returns how to stop. */
  watchEvents (watcher: (recorded: RecordedEvent) => void): () => void {
    return this.store.watchEvents(watcher)
  }

  /** How many tasks the history holds per role and state. */
  countByRoleAndState (): Array<{ role: TaskRole, state: TaskState, count: number }> {
    return this.store.countByRoleAndState()
  }

  /** The records of the history (both roles unless `role` is given), newest first. */
  records (options: ListOptions = {}): TaskRecord[] {
    return this.store.list(options)
  }
}
