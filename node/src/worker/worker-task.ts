import { DeadlineError, StoreFullError } from '../errors.ts'
import { isTerminal, movesForward, TaskState, TruncationCause, type LogStream, type TaskEvent, type TaskSpec } from '../protocol/task-messages.ts'
import { EVENT_COST_BYTES, eventCost, logChunk, outputPieces, prefixWithin, type OutputPiece } from '../protocol/task-output.ts'
import type { EventLog } from '../protocol/task-host.ts'
import type { TaskStore } from '../store/store.ts'
import { STORE_RETRY_MS } from '../store/store-space.ts'
import { OutputBatch } from './output-batch.ts'
import type { OutputSet } from '../files/output-store.ts'

/** Output a task keeps (and sends) by default, counted as stored (`eventCost`); past it, one truncation event and nothing more. */
export const DEFAULT_LOG_LIMIT_BYTES = 16 * 1024 * 1024

export type EventDetail = Omit<TaskEvent, 'taskId' | 'seq' | 'timeMs' | 'state'> & { state?: TaskState }

/** Where a task restored from the store had got to. */
export interface RestoredProgress {
  state: TaskState
  lastSeq: number
  /** What its output events cost so far (`eventCost`), toward the log limit. */
  logBytes: number
  /** Bytes of output kept so far, both streams. */
  outputBytes: number
  truncated: boolean
}

/**
 * A task on this worker: its spec and state in memory, its events in the store (written
 * before anyone reads them), and its output batched into events (`OutputBatch`) and capped
 * at the log limit, counted in what the events cost to store.
 */
export class WorkerTask implements EventLog {
  readonly spec: TaskSpec
  readonly submitter: string
  private readonly store: TaskStore
  private readonly logLimitBytes: number
  /** The state and seq of the last event recorded (its write may still wait for its batch's commit). */
  private currentState: TaskState
  private seq: number
  /** Those of the last event on disk: all that readers (the master's cursor, an attach) are shown. */
  private durableState: TaskState
  private durableSeq: number
  /** What the output events cost to store so far (`eventCost`): what the log limit counts. */
  private logBytes: number
  /** Bytes of output kept, both streams. */
  private outputBytes: number
  private truncated: boolean
  private readonly waiters = new Set<() => void>()
  private readonly cancelController = new AbortController()
  /** What the worker kept of the task's outputs, once collected (the terminal event carries it). */
  outputSets?: OutputSet[]
  /** The event that ended the task when the store had no room even for it: served from here until it is written. */
  private unstored?: TaskEvent
  /** Output not yet recorded: it becomes an event when it fills one, after a short delay, or before any other event. */
  private readonly output: OutputBatch
  /** The node stopped while this task ran: nothing more is recorded (`detach`). */
  private detached = false
  /** The task ended for lack of room in the store (`endForLackOfRoom`). */
  private lackedRoom = false
  /** `onEvent` was told of a terminal event. */
  private toldEnd = false

  /** Called after each recorded event (the worker's terminal shows state changes). */
  private readonly onEvent?: (event: TaskEvent, previous: TaskState) => void

  constructor (spec: TaskSpec, submitter: string, store: TaskStore, options: {
    logLimitBytes: number
    onEvent?: (event: TaskEvent, previous: TaskState) => void
    restored?: RestoredProgress
    /** OUTPUT_DELAY_MS unless given. */
    outputDelayMs?: number
  }) {
    this.spec = spec
    this.submitter = submitter
    this.store = store
    this.logLimitBytes = options.logLimitBytes
    this.onEvent = options.onEvent
    this.currentState = options.restored?.state ?? TaskState.PENDING
    this.seq = options.restored?.lastSeq ?? 0
    this.durableState = this.currentState
    this.durableSeq = this.seq
    this.logBytes = options.restored?.logBytes ?? 0
    this.outputBytes = options.restored?.outputBytes ?? 0
    this.truncated = options.restored?.truncated ?? false
    this.output = new OutputBatch(pieces => { this.recordOutput(pieces, TaskState.RUNNING) }, options.outputDelayMs)
  }

  /** The state of the last event recorded. */
  get state (): TaskState {
    return this.currentState
  }

  /** The seq of the last event on disk: readers are sent no further. */
  get lastSeq (): number {
    return this.durableSeq
  }

  /** The terminal event is on disk (readers may have it). */
  get finished (): boolean {
    return isTerminal(this.durableState)
  }

  /** A terminal event was recorded: nothing more is (it may still wait for its commit). */
  private get ended (): boolean {
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
   * Output the task wrote, recorded in order with the rest of its events, batched: an event
   * holds up to a chunk of both streams' bytes (`OutputBatch`).
   */
  /**
   * The node stops while this task still runs (its store is about to close): nothing more is
   * recorded here, and output waiting for its batch is dropped. A restarted node re-adopts the
   * container and replays from the engine's log what the store did not get.
   */
  detach (): void {
    this.detached = true
    this.output.discard()
  }

  appendOutput (stream: LogStream, data: Uint8Array): void {
    if (this.ended || this.truncated || this.detached) return
    this.output.add(stream, data)
  }

  /**
   * Record an event in the store, then tell the readers, after the output that came before
   * it. A state that would move backwards keeps the current one; nothing follows a terminal
   * event; an event's own output (`log`) is recorded as it is, up to the log limit.
   */
  append (detail: EventDetail): TaskEvent | undefined {
    if (this.detached) return undefined
    this.output.flush()
    if (this.ended) return undefined
    if (detail.log == null) return this.record(detail)
    return this.recordOutput(outputPieces(detail.log), detail.state)
  }

  /**
   * One event of output, if the log limit has room for what it costs to store; of output
   * that reaches the limit, the prefix that fits is kept, then one event says the rest is
   * dropped.
   */
  private recordOutput (pieces: OutputPiece[], state: TaskState | undefined): TaskEvent | undefined {
    if (this.ended || this.truncated) return undefined
    const chunk = logChunk(pieces)
    const cost = eventCost({ taskId: this.spec.id, seq: 0, timeMs: 0, state: TaskState.RUNNING, log: chunk })
    const room = this.logLimitBytes - this.logBytes
    if (cost <= room) {
      this.logBytes += cost
      this.outputBytes += chunk.data.byteLength
      return this.record({ state, log: chunk })
    }
    this.truncated = true
    this.output.discard()
    const kept = prefixWithin(pieces, room - (EVENT_COST_BYTES + 2 * this.spec.id.length))
    if (kept.length > 0) {
      const keptChunk = logChunk(kept)
      this.logBytes += eventCost({ taskId: this.spec.id, seq: 0, timeMs: 0, state: TaskState.RUNNING, log: keptChunk })
      this.outputBytes += keptChunk.data.byteLength
      this.record({ state, log: keptChunk })
      if (this.ended) return undefined // the store had no room: the task ended there
    }
    return this.record({ state, truncated: { limitBytes: this.logLimitBytes } })
  }

  /**
   * The output after what is kept now is lost (the engine's log of a re-adopted container no
   * longer held it): one truncation event says where the kept output ends, and nothing more
   * is kept, so what is kept stays an exact prefix of what the task wrote.
   */
  outputLost (): void {
    this.output.flush()
    if (this.ended || this.truncated) return
    this.truncated = true
    this.record({ truncated: { limitBytes: this.outputBytes, cause: TruncationCause.ENGINE_LOG_GAP } })
  }

  private record (detail: EventDetail): TaskEvent {
    const previous = this.currentState
    const state = detail.state != null && movesForward(previous, detail.state) ? detail.state : previous
    const event: TaskEvent = { ...detail, taskId: this.spec.id, seq: this.seq + 1, timeMs: Date.now(), state }
    try {
      this.store.recordEvent('executed', this.spec.attempt, event, {
        durable: () => { this.stored(event) },
        lost: err => { this.lost(event, err) }
      })
    } catch (err) {
      if (!(err instanceof StoreFullError)) throw err
      return this.endForLackOfRoom(err, false)
    }
    this.seq = event.seq
    this.currentState = state
    this.told(event, previous)
    return event
  }

  /** The worker's own bookkeeping (its queue, its ledger) hears of each event as it is recorded; nothing outside does. */
  private told (event: TaskEvent, previous: TaskState): void {
    // One terminal event only: one recorded and then lost (the disk refused its batch) is followed by STORE_FULL, which is not told again.
    if (this.toldEnd) return
    if (isTerminal(event.state)) this.toldEnd = true
    this.onEvent?.(event, previous)
  }

  /** An event is on disk: now its readers may have it. */
  private stored (event: TaskEvent): void {
    // An event the task ended before (for lack of room) is not shown again.
    if (event.seq <= this.durableSeq) return
    this.durableSeq = event.seq
    this.durableState = event.state
    this.wake()
  }

  /**
   * The disk refused the batch that held an event, and then the event on its own: the task
   * ends there for lack of room, as if the store had refused the event when it was made (its
   * later events, refused with it, are not shown either).
   */
  private lost (event: TaskEvent, err: Error): void {
    if (this.lackedRoom || event.seq <= this.durableSeq || !(err instanceof StoreFullError)) return
    this.seq = this.durableSeq
    this.currentState = this.durableState
    this.endForLackOfRoom(err, false)
  }

  /**
   * The store has no room for what the task does: it cannot go on without losing it, so it
   * ends here with STORE_FULL (REJECTED if it never ran) and its container is stopped (or it
   * leaves the queue). That last event is small and fits the headroom the store keeps; if even
   * it does not fit, it is served from memory and written as soon as there is room.
   * `unrecorded`: the store never took the task at all, so nothing of it is written later.
   */
  endForLackOfRoom (err: StoreFullError, unrecorded: boolean): TaskEvent {
    this.lackedRoom = true
    this.output.discard()
    const previous = this.currentState
    const neverRan = previous === TaskState.PENDING || previous === TaskState.QUEUED
    const event: TaskEvent = {
      taskId: this.spec.id, seq: this.seq + 1, timeMs: Date.now(), state: neverRan ? TaskState.REJECTED : TaskState.FAILED,
      error: { code: 'STORE_FULL', message: `this node could not store the task: ${err.message}` }
    }
    this.unstored = event
    if (!unrecorded) this.keep(event)
    // Ended before the cancel, so that what the cancel brings about (the executor's last output and exit) is dropped.
    this.seq = event.seq
    this.currentState = event.state
    this.cancel()
    this.told(event, previous)
    // Shown once the events before it are settled (served from memory until it is written itself).
    this.store.afterCommit(() => { this.stored(event) })
    return event
  }

  /** Write the event that ended the task; while the store refuses it, keep it in memory and try again. */
  private keep (event: TaskEvent): void {
    // Only room comes back: anything else (the store closed as the node stopped) ends the tries, and a restart finds the task unfinished and settles it.
    const retry = (err: unknown): void => {
      if (err instanceof StoreFullError) setTimeout(() => { this.keep(event) }, STORE_RETRY_MS).unref()
    }
    try {
      this.store.recordEvent('executed', this.spec.attempt, event, {
        durable: () => { if (this.unstored === event) this.unstored = undefined },
        lost: retry
      })
    } catch (err) {
      retry(err)
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
