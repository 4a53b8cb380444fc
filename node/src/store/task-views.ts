import { AmbiguousTaskError, TaskNotFoundError } from '../errors.ts'
import { eventToJson, LogStream, type TaskEventJson } from '../protocol/task-messages.ts'
import { outputPieces } from '../protocol/task-output.ts'
import type { ResourceAmounts } from '../resources.ts'
import type { ListOptions, TaskRecord, TaskStore } from './store.ts'

/** Ids shown when a prefix matches several tasks. */
const AMBIGUOUS_SHOWN = 5
/**
 * Events `status` shows at most, the first half and the last half of them: far more than a
 * task's state changes, so only a long run of pull progress or queue positions is cut.
 */
export const MAX_STATUS_EVENTS = 500
/** Events `status` reads from the store at once: output events are counted, and 64 of them are at most 4 MiB. */
const STATUS_READ_BATCH = 64

/**
 * One task as `tasks` and `status` show it (JSON field names are part of the CLI contract).
 * `role` says which side this node was: it sent the task, ran it, or both (`self`).
 */
export interface TaskView {
  taskId: string
  role: 'submitted' | 'executed' | 'both'
  attempt: number
  image: string
  command: string[]
  state: string
  /** The worker (submitted) or the master that sent it (executed). */
  peerId: string
  peerName: string
  exitCode?: number
  error?: { code: string, message: string }
  resources: ResourceAmounts
  labels: Record<string, string>
  createdAt: string
  startedAt?: string
  finishedAt?: string
  durationMs?: number
  /** While the worker does not answer (a view, not a state). */
  unreachableSince?: string
  note?: string
}

/** One attempt of a task this node sent: where it ran and how it ended. */
export interface AttemptView {
  attempt: number
  peerId: string
  peerName: string
  state: string
  createdAt: string
  finishedAt?: string
  error?: { code: string, message: string }
}

export interface TaskStatusView extends TaskView {
  /** A task this node sent: each attempt, first to last (one unless it was placed again). */
  attempts: AttemptView[]
  /** Every event except output, which `logs` shows (log events are counted in `logBytes`), up to MAX_STATUS_EVENTS. */
  events: TaskEventJson[]
  /** Events left out of `events` (from its middle) past MAX_STATUS_EVENTS. */
  eventsOmitted?: number
  logBytes: { stdout: number, stderr: number }
  logTruncated: boolean
}

const iso = (ms: number | undefined): string | undefined => (ms != null ? new Date(ms).toISOString() : undefined)

export function toTaskView (record: TaskRecord, options: { both?: boolean, unreachableSince?: number } = {}): TaskView {
  const view: TaskView = {
    taskId: record.taskId,
    role: options.both === true ? 'both' : record.role,
    attempt: record.attempt,
    image: record.spec.image,
    command: record.spec.command,
    state: record.state,
    peerId: record.peerId,
    peerName: record.peerName,
    resources: record.spec.resources,
    labels: record.spec.labels,
    createdAt: iso(record.createdMs)!
  }
  if (record.exitCode != null) view.exitCode = record.exitCode
  if (record.errorCode != null) view.error = { code: record.errorCode, message: record.errorMessage ?? '' }
  if (record.startedMs != null) view.startedAt = iso(record.startedMs)
  if (record.finishedMs != null) {
    view.finishedAt = iso(record.finishedMs)
    view.durationMs = record.finishedMs - (record.startedMs ?? record.createdMs)
  }
  if (options.unreachableSince != null) view.unreachableSince = iso(options.unreachableSince)
  if (record.note != null) view.note = record.note
  return view
}

/** The record this node keeps of a task: the master's when it sent it (also for `self`), else the worker's. */
export function taskRecord (store: TaskStore, taskId: string): TaskRecord & { both: boolean } {
  const submitted = store.task(taskId, 'submitted')
  const executed = store.task(taskId, 'executed')
  const record = submitted ?? executed
  if (record == null) throw new TaskNotFoundError(`no task ${taskId} on this node: "cloudai tasks" lists them`)
  return { ...record, both: submitted != null && executed != null }
}

/** A task named by its id or a unique prefix of it. */
export function resolveTaskId (store: TaskStore, text: string): string {
  const matches = store.idsWithPrefix(text, AMBIGUOUS_SHOWN + 1)
  if (matches.includes(text)) return text
  if (matches.length === 1) return matches[0]
  if (matches.length === 0) throw new TaskNotFoundError(`no task on this node has an id starting with "${text}": "cloudai tasks" lists them`)
  throw new AmbiguousTaskError(`"${text}" matches several tasks (${matches.slice(0, AMBIGUOUS_SHOWN).join(', ')}${matches.length > AMBIGUOUS_SHOWN ? ', …' : ''}): give more of the id`)
}

/** One page of the history, newest first, one entry per task (a task sent to this node itself is listed once); `before`: after that task (an id or a unique prefix). */
export function listTaskViews (store: TaskStore, options: Omit<ListOptions, 'after'> & { before?: string }, unreachableSince: (taskId: string) => number | undefined): TaskView[] {
  const { before, ...listOptions } = options
  const after = before != null ? taskRecord(store, resolveTaskId(store, before)) : undefined
  return store.list({ ...listOptions, oneRowPerTask: true, ...(after != null ? { after: { createdMs: after.createdMs, taskId: after.taskId } } : {}) })
    .map(record => toTaskView(record, { both: record.role === 'submitted' && store.task(record.taskId, 'executed') != null, unreachableSince: unreachableSince(record.taskId) }))
}

/** The first MAX_STATUS_EVENTS / 2 events given and the last ones, and how many fell between. */
class EventSample {
  readonly first: TaskEventJson[] = []
  private readonly last: TaskEventJson[] = []
  omitted = 0

  add (event: TaskEventJson): void {
    if (this.first.length < MAX_STATUS_EVENTS / 2) {
      this.first.push(event)
      return
    }
    this.last.push(event)
    if (this.last.length > MAX_STATUS_EVENTS / 2) {
      this.last.shift()
      this.omitted++
    }
  }

  events (): TaskEventJson[] {
    return [...this.first, ...this.last]
  }
}

export function taskStatusView (store: TaskStore, taskId: string, unreachableSince?: number): TaskStatusView {
  const record = taskRecord(store, taskId)
  const sample = new EventSample()
  const logBytes = { stdout: 0, stderr: 0 }
  let logTruncated = false
  for (let from = 1; ; ) {
    const batch = store.events(taskId, record.attempt, from, STATUS_READ_BATCH)
    for (const event of batch) {
      if (event.truncated != null) logTruncated = true
      if (event.log == null) {
        sample.add(eventToJson(event))
      } else {
        for (const piece of outputPieces(event.log)) logBytes[piece.stream === LogStream.STDERR ? 'stderr' : 'stdout'] += piece.data.byteLength
      }
    }
    if (batch.length < STATUS_READ_BATCH) break
    from = batch[batch.length - 1].seq + 1
  }
  const events = sample.events()
  const attempts = store.attempts(taskId).map(attempt => ({
    attempt: attempt.attempt,
    peerId: attempt.peerId,
    peerName: attempt.peerName,
    state: attempt.state,
    createdAt: iso(attempt.createdMs)!,
    ...(attempt.finishedMs != null ? { finishedAt: iso(attempt.finishedMs) } : {}),
    ...(attempt.errorCode != null ? { error: { code: attempt.errorCode, message: attempt.errorMessage ?? '' } } : {})
  }))
  return { ...toTaskView(record, { both: record.both, unreachableSince }), attempts, events, ...(sample.omitted > 0 ? { eventsOmitted: sample.omitted } : {}), logBytes, logTruncated }
}
