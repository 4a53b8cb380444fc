import { DeadlineError } from '../errors.ts'
import { isTerminal, movesForward, TaskState, type TaskEvent, type TaskSpec } from '../protocol/task-messages.ts'

/**
 * Events a reader may be behind its acknowledgements: with log chunks of at most 64 KiB,
 * at most 4 MiB are in flight to one master; past that the container's output waits.
 */
export const ACK_WINDOW_EVENTS = 64
/**
 * Log bytes a finished or running task keeps for replay (a re-submitted task id attaches
 * and replays). Older chunks are dropped from memory once every attached reader is past them.
 */
export const LOG_HISTORY_BYTES = 16 * 1024 * 1024
/**
 * What a finished task keeps once its readers are done: a worker remembers up to 1,000
 * finished tasks, so this bounds their output in memory to 256 MiB in all (until the
 * durable store holds it instead).
 */
export const FINISHED_LOG_HISTORY_BYTES = 256 * 1024

export type EventDetail = Omit<TaskEvent, 'taskId' | 'seq' | 'timeMs' | 'state'> & { state?: TaskState }

/** One reader of a task's events, from a sequence number on, with flow control by acks. */
export class Subscription {
  private readonly task: WorkerTask
  /** The seq of the next event to deliver. */
  private nextSeq: number
  private acked: number

  constructor (task: WorkerTask, fromSeq: number) {
    this.task = task
    this.nextSeq = Math.max(1, fromSeq)
    this.acked = this.nextSeq - 1
  }

  /** The master has everything up to `seq`. Acks never move backwards. */
  ack (seq: number): void {
    if (seq > this.acked) {
      this.acked = Math.min(seq, this.nextSeq - 1)
      this.task.wake()
    }
  }

  get ackedSeq (): number {
    return this.acked
  }

  get deliveredSeq (): number {
    return this.nextSeq - 1
  }

  /**
   * The next event, waiting for it to happen and for the reader's acks to open the window.
   * Undefined after the terminal event. `ackDeadlineMs` bounds a wait for acks only.
   */
  async next (signal: AbortSignal, ackDeadlineMs: number): Promise<TaskEvent | undefined> {
    while (true) {
      if (signal.aborted) throw new DeadlineError('the task stream was closed')
      const last = this.task.lastDelivered(this.nextSeq - 1)
      if (last != null && isTerminal(last.state)) return undefined
      const event = this.task.eventAt(this.nextSeq)
      if (event === null) {
        this.nextSeq++ // its log data was dropped from memory (LOG_HISTORY_BYTES)
        continue
      }
      if (event != null && this.nextSeq - this.acked <= ACK_WINDOW_EVENTS) {
        this.nextSeq++
        return event
      }
      const waitingForAck = event != null
      await this.task.changed(signal, waitingForAck ? ackDeadlineMs : undefined)
    }
  }
}

/** A task on this worker: its spec, its state, and every event it produced. */
export class WorkerTask {
  readonly spec: TaskSpec
  readonly submitter: string
  private readonly events: TaskEvent[] = []
  private readonly subscribers = new Set<Subscription>()
  private readonly waiters = new Set<() => void>()
  private readonly cancelController = new AbortController()
  private retainedLogBytes = 0
  /** Events before this index had their log data dropped. */
  private releasedUpTo = 0

  /** Called after each recorded event (the worker's terminal shows state changes). */
  private readonly onEvent?: (event: TaskEvent, previous: TaskState) => void

  constructor (spec: TaskSpec, submitter: string, onEvent?: (event: TaskEvent, previous: TaskState) => void) {
    this.spec = spec
    this.submitter = submitter
    this.onEvent = onEvent
  }

  get state (): TaskState {
    return this.events.at(-1)?.state ?? TaskState.PENDING
  }

  get lastSeq (): number {
    return this.events.length
  }

  get finished (): boolean {
    return isTerminal(this.state)
  }

  /** Aborted when someone cancels the task. */
  get cancelSignal (): AbortSignal {
    return this.cancelController.signal
  }

  cancel (): void {
    this.cancelController.abort()
  }

  /** Record an event. A state that would move backwards keeps the current one; nothing follows a terminal event. */
  append (detail: EventDetail): TaskEvent | undefined {
    if (this.finished) return undefined
    const previous = this.state
    const state = detail.state != null && movesForward(this.state, detail.state) ? detail.state : this.state
    const event: TaskEvent = { ...detail, taskId: this.spec.id, seq: this.events.length + 1, timeMs: Date.now(), state }
    this.events.push(event)
    if (event.log != null) this.retainedLogBytes += event.log.data.byteLength
    this.releaseOldLogs()
    this.wake()
    this.onEvent?.(event, previous)
    return event
  }

  /** Wait until every attached reader is within the ack window, so output never piles up in memory. */
  async waitForRoom (signal: AbortSignal): Promise<void> {
    while ([...this.subscribers].some(sub => this.lastSeq - sub.ackedSeq >= ACK_WINDOW_EVENTS)) {
      await this.changed(signal)
    }
  }

  subscribe (fromSeq = 1): Subscription {
    const subscription = new Subscription(this, fromSeq)
    this.subscribers.add(subscription)
    return subscription
  }

  unsubscribe (subscription: Subscription): void {
    this.subscribers.delete(subscription)
    this.releaseOldLogs()
    this.wake()
  }

  /** The event with this seq; null if its log data was dropped; undefined if it has not happened. */
  eventAt (seq: number): TaskEvent | null | undefined {
    if (seq - 1 < this.releasedUpTo && this.events[seq - 1]?.log != null) return null
    return this.events[seq - 1]
  }

  lastDelivered (seq: number): TaskEvent | undefined {
    return seq >= 1 ? this.events[seq - 1] : undefined
  }

  /** Resolve on the next change (event, ack, reader gone); reject after `deadlineMs` or on abort. */
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

  /** Drop the oldest log data past the limit, but never what an attached reader has yet to read. */
  private releaseOldLogs (): void {
    const limit = this.finished ? FINISHED_LOG_HISTORY_BYTES : LOG_HISTORY_BYTES
    if (this.retainedLogBytes <= limit) return
    const oldestReader = Math.min(this.events.length, ...[...this.subscribers].map(sub => sub.deliveredSeq))
    while (this.retainedLogBytes > limit && this.releasedUpTo < oldestReader) {
      const log = this.events[this.releasedUpTo].log
      if (log != null) {
        this.retainedLogBytes -= log.data.byteLength
        this.events[this.releasedUpTo] = { ...this.events[this.releasedUpTo], log: { ...log, data: new Uint8Array(0) } }
      }
      this.releasedUpTo++
    }
  }
}
