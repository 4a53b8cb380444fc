import { movesForward, TaskState, TruncationCause, isTerminal, type TaskEvent } from '../protocol/task-messages.ts'
import { eventCost } from '../protocol/task-output.ts'

/**
 * What a worker may make this node store of one attempt besides output and state changes
 * (pull progress, queue positions): a real pull reports a few times a second, so this holds
 * hours of it, and a worker that sends such events without end cannot fill the store.
 */
export const OTHER_EVENTS_ALLOWANCE_BYTES = 1024 * 1024

/** What an attempt had stored before this node restarted. */
export interface StoredOutput {
  /** What its output events cost (`eventCost`). */
  storedBytes: number
  truncated: boolean
}

/**
 * The master's own cap on what a worker's events of one attempt make it store: output up to
 * the log limit (counted as the worker counts it, in what the events cost to store), other
 * events that change nothing up to OTHER_EVENTS_ALLOWANCE_BYTES. A worker keeps to the limit
 * by itself; one that does not (a hostile or differently configured one) has its first event
 * past it stored as a `truncated` event in its place, and its later output dropped, so the
 * kept output is still an exact prefix. State changes and the end are always kept.
 */
export class OutputAllowance {
  private readonly limitBytes: number
  private outputBytes: number
  private otherBytes = 0
  private truncated: boolean
  private state: TaskState = TaskState.PENDING

  constructor (limitBytes: number, stored: StoredOutput = { storedBytes: 0, truncated: false }) {
    this.limitBytes = limitBytes
    this.outputBytes = stored.storedBytes
    this.truncated = stored.truncated
  }

  /** What to store of an event the worker sent: the event, a truncation marker in its place, or nothing. */
  admit (event: TaskEvent): TaskEvent | undefined {
    const changesState = event.state !== this.state && movesForward(this.state, event.state)
    if (changesState) this.state = event.state
    if (event.log != null) {
      const cost = eventCost(event)
      if (!this.truncated && this.outputBytes + cost <= this.limitBytes) {
        this.outputBytes += cost
        return event
      }
      const first = !this.truncated
      this.truncated = true
      const { log: _dropped, ...rest } = event
      if (first) return { ...rest, truncated: { limitBytes: this.limitBytes, cause: TruncationCause.LOG_LIMIT } }
      return changesState || isTerminal(event.state) ? rest : undefined
    }
    if (event.truncated != null && !this.truncated) {
      this.truncated = true
      return event
    }
    if (changesState || isTerminal(event.state)) return event
    const cost = eventCost(event)
    if (this.otherBytes + cost > OTHER_EVENTS_ALLOWANCE_BYTES) return undefined
    this.otherBytes += cost
    return event
  }
}
