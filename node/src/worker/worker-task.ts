import { DeadlineError, StoreFullError } from '../errors.ts'
import { isTerminal, movesForward, TaskState, TruncationCause, type TaskEvent, type TaskSpec } from '../protocol/task-messages.ts'
import type { EventLog } from '../protocol/task-host.ts'
import type { TaskStore } from '../store/store.ts'
import { STORE_RETRY_MS } from '../store/store-space.ts'
import type { OutputSet } from '../files/output-store.ts'

/** Output a task keeps (and sends) by default; past it, one truncation event and nothing more. */
export const DEFAULT_LOG_LIMIT_BYTES = 16 * 1024 * 1024

export type EventDetail = Omit<TaskEvent, 'taskId' | 'seq' | 'timeMs' | 'state'> & { state?: TaskState }

/** Where a task restored from the store had got to. */
export interface RestoredProgress {
  state: TaskState
  lastSeq: number
  logBytes: number
  truncated: boolean
}

/**
 * A task on this worker: its spec and state in memory, its events in the store (written
 * before anyone reads them), and its output capped at the log limit.
 */
export class WorkerTask implements EventLog {
  readonly spec: TaskSpec
  readonly submitter: string
  private readonly store: TaskStore
  private readonly logLimitBytes: number
  private currentState: TaskState
  private seq: number
  private logBytes: number
  private truncated: boolean
  private readonly waiters = new Set<() => void>()
  private readonly cancelController = new AbortController()
  /** What the worker kept of the task's outputs, once collected (the terminal event carries it). */
  outputSets?: OutputSet[]
  /** The event that ended the task when the store had no room even for it: served from here until it is written. */
  private unstored?: TaskEvent

  /** Called after each recorded event (the worker's terminal shows state changes). */
  private readonly onEvent?: (event: TaskEvent, previous: TaskState) => void

  constructor (spec: TaskSpec, submitter: string, store: TaskStore, options: {
    logLimitBytes: number
    onEvent?: (event: TaskEvent, previous: TaskState) => void
    restored?: RestoredProgress
  }) {
    this.spec = spec
    this.submitter = submitter
    this.store = store
    this.logLimitBytes = options.logLimitBytes
    this.onEvent = options.onEvent
    this.currentState = options.restored?.state ?? TaskState.PENDING
    this.seq = options.restored?.lastSeq ?? 0
    this.logBytes = options.restored?.logBytes ?? 0
    this.truncated = options.restored?.truncated ?? false
  }

  get state (): TaskState {
    return this.currentState
  }

  get lastSeq (): number {
    return this.seq
  }

  get finished (): boolean {
    return isTerminal(this.currentState)
  }

  /** Aborted when someone cancels the task. */
  get cancelSignal (): AbortSignal {
    return this.cancelController.signal
  }

  cancel (): void {
    this.cancelController.abort()
  }

  /**
   * Record an event in the store, then tell the readers. A state that would move backwards
   * keeps the current one; nothing follows a terminal event; output past the log limit is
   * dropped after one event that says so.
   */
  append (detail: EventDetail): TaskEvent | undefined {
    if (this.finished) return undefined
    if (detail.log == null) return this.record(detail)
    if (this.truncated) return undefined
    const room = this.logLimitBytes - this.logBytes
    if (detail.log.data.byteLength <= room) {
      this.logBytes += detail.log.data.byteLength
      return this.record(detail)
    }
    this.truncated = true
    this.logBytes = this.logLimitBytes
    if (room > 0) this.record({ ...detail, log: { ...detail.log, data: detail.log.data.subarray(0, room) } })
    return this.record({ state: detail.state, truncated: { limitBytes: this.logLimitBytes } })
  }

  /**
   * The output after what is kept now is lost (the engine's log of a re-adopted container no
   * longer held it): one truncation event says where the kept output ends, and nothing more
   * is kept, so what is kept stays an exact prefix of what the task wrote.
   */
  outputLost (): void {
    if (this.finished || this.truncated) return
    this.truncated = true
    this.record({ truncated: { limitBytes: this.logBytes, cause: TruncationCause.ENGINE_LOG_GAP } })
  }

  private record (detail: EventDetail): TaskEvent {
    const previous = this.currentState
    const state = detail.state != null && movesForward(previous, detail.state) ? detail.state : previous
    const event: TaskEvent = { ...detail, taskId: this.spec.id, seq: this.seq + 1, timeMs: Date.now(), state }
    try {
      this.store.recordEvent('executed', this.spec.attempt, event)
    } catch (err) {
      if (!(err instanceof StoreFullError)) throw err
      return this.endForLackOfRoom(err, false)
    }
    this.seq = event.seq
    this.currentState = state
    this.wake()
    this.onEvent?.(event, previous)
    return event
  }

  /**
   * The store has no room for what the task does: it cannot go on without losing it, so it
   * ends here with STORE_FULL (REJECTED if it never ran) and its container is stopped (or it
   * leaves the queue). That last event is small and fits the headroom the store keeps; if even
   * it does not fit, it is served from memory and written as soon as there is room.
   * `unrecorded`: the store never took the task at all, so nothing of it is written later.
   */
  endForLackOfRoom (err: StoreFullError, unrecorded: boolean): TaskEvent {
    const previous = this.currentState
    const neverRan = previous === TaskState.PENDING || previous === TaskState.QUEUED
    const event: TaskEvent = {
      taskId: this.spec.id, seq: this.seq + 1, timeMs: Date.now(), state: neverRan ? TaskState.REJECTED : TaskState.FAILED,
      error: { code: 'STORE_FULL', message: `this node could not store the task: ${err.message}` }
    }
    if (unrecorded) this.unstored = event
    else this.keep(event)
    // Ended before the cancel, so that what the cancel brings about (the executor's last output and exit) is dropped.
    this.seq = event.seq
    this.currentState = event.state
    this.cancel()
    this.wake()
    this.onEvent?.(event, previous)
    return event
  }

  /** Write the event that ended the task; while the store refuses it, keep it in memory and try again. */
  private keep (event: TaskEvent): void {
    try {
      this.store.recordEvent('executed', this.spec.attempt, event)
      this.unstored = undefined
    } catch (err) {
      this.unstored = event
      // Only room comes back: anything else (the store closed as the node stopped) ends the tries, and a restart finds the task unfinished and settles it.
      if (err instanceof StoreFullError) setTimeout(() => { this.keep(event) }, STORE_RETRY_MS).unref()
    }
  }

  eventAt (seq: number): TaskEvent | undefined {
    if (this.unstored?.seq === seq) return this.unstored
    return this.store.event(this.spec.id, this.spec.attempt, seq)
  }

  /** Resolve on the next change (event, ack); reject after `deadlineMs` or on abort. */
  async changed (signal: AbortSignal, deadlineMs?: number): Promise<void> {
    if (signal.aborted) throw new DeadlineError('the task stream was closed')
    await new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        this.waiters.delete(onChange)
      }
      const onChange = (): void => { cleanup(); resolve() }
      const onAbort = (): void => { cleanup(); reject(new DeadlineError('the task stream was closed')) }
      const timer = deadlineMs != null
        ? setTimeout(() => { cleanup(); reject(new DeadlineError(`the master acknowledged nothing for ${deadlineMs} ms`)) }, deadlineMs)
        : undefined
      this.waiters.add(onChange)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  wake (): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}
