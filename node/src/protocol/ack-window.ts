import { DeadlineError } from '../errors.ts'
import type { TaskEvent } from './task-messages.ts'
import type { EventLog } from './task-host.ts'

/**
 * Events a reader may be behind its acknowledgements: with log chunks of at most 64 KiB,
 * at most 4 MiB are in flight to one master. The events wait in the store, not in memory.
 */
export const ACK_WINDOW_EVENTS = 64

/**
 * One reader of a task's events, from a sequence number on, with flow control by acks: the
 * wire's flow control, whether the reader is across a stream or in this process.
 */
export class EventCursor {
  private readonly log: EventLog
  /** The seq of the next event to deliver. */
  private nextSeq: number
  private acked: number

  constructor (log: EventLog, fromSeq = 1) {
    this.log = log
    this.nextSeq = Math.max(1, fromSeq)
    this.acked = this.nextSeq - 1
  }

  /** The reader has everything up to `seq`. Acks never move backwards. */
  ack (seq: number): void {
    if (seq > this.acked) {
      this.acked = Math.min(seq, this.nextSeq - 1)
      this.log.wake()
    }
  }

  /**
   * The events after those delivered that are on disk and inside the window now, without
   * waiting, at most `maxEvents` and about `maxBytes` of log data (at least one, if any): sent
   * together with the one `next` returned, they leave in one write.
   */
  ready (maxEvents: number, maxBytes: number): TaskEvent[] {
    const events: TaskEvent[] = []
    let bytes = 0
    while (events.length < maxEvents && bytes < maxBytes && this.nextSeq <= this.log.lastSeq && this.nextSeq - this.acked <= ACK_WINDOW_EVENTS) {
      const event = this.log.eventAt(this.nextSeq)
      if (event == null) break
      events.push(event)
      bytes += event.log?.data.byteLength ?? 0
      this.nextSeq++
    }
    return events
  }

  /**
   * The next event, waiting for it to happen and for the reader's acks to open the window.
   * Undefined once the terminal event was delivered (or the reader started past it).
   * `ackDeadlineMs` bounds a wait for acks only.
   */
  async next (signal: AbortSignal, ackDeadlineMs: number): Promise<TaskEvent | undefined> {
    while (true) {
      if (signal.aborted) throw new DeadlineError('the task stream was closed')
      if (this.nextSeq > this.log.lastSeq && this.log.finished) return undefined
      const ready = this.nextSeq <= this.log.lastSeq
      if (ready && this.nextSeq - this.acked <= ACK_WINDOW_EVENTS) {
        const event = this.log.eventAt(this.nextSeq)
        if (event == null) throw new Error(`event ${this.nextSeq} of a task is missing from the store`)
        this.nextSeq++
        return event
      }
      await this.log.changed(signal, ready ? ackDeadlineMs : undefined)
    }
  }
}
