import type { TaskEvent } from '../protocol/task-messages.ts'

/**
 * Bytes of recent events kept in memory: a task's readers (its master's cursor, a feed, the
 * API) are usually just behind its writer, and reading back what was just written (a query,
 * up to 64 KiB copied from the write-ahead log, a decode) cost more than writing it. Holds
 * the ack window of a few busy tasks; older events are read from the store as before.
 */
export const RECENT_EVENTS_BYTES = 16 * 1024 * 1024
/** What an event costs here beyond its output, roughly: the object and its fields. */
const EVENT_OVERHEAD_BYTES = 256

/** One task attempt's newest events, in seq order, complete from the first of them on. */
interface Tail {
  events: TaskEvent[]
}

/**
 * The newest events this process recorded, per task attempt, within RECENT_EVENTS_BYTES
 * (oldest dropped first). A tail starts with a task's first event (seq 1, written by this
 * process), so it holds every stored event from its first on: a read it can answer is
 * answered exactly as the store would; any other read goes to the store.
 */
export class RecentEvents {
  private readonly limitBytes: number
  private readonly tails = new Map<string, Tail>()
  /** Every kept event in the order it was added: what to drop first. */
  private readonly order: Array<{ key: string, event: TaskEvent, bytes: number }> = []
  private orderStart = 0
  private bytes = 0

  constructor (limitBytes = RECENT_EVENTS_BYTES) {
    this.limitBytes = limitBytes
  }

  private static key (taskId: string, attempt: number): string {
    return `${attempt}/${taskId}`
  }

  /** An event just stored (new). */
  added (attempt: number, event: TaskEvent): void {
    const key = RecentEvents.key(event.taskId, attempt)
    let tail = this.tails.get(key)
    if (tail == null) {
      // Only a tail that starts at the task's beginning is known to be complete.
      if (event.seq !== 1) return
      this.tails.set(key, tail = { events: [] })
    } else if (tail.events.length > 0 && event.seq <= tail.events[tail.events.length - 1].seq) {
      // Out of order: not worth the bookkeeping, the store answers for this task from now on.
      this.forgetKey(key)
      return
    }
    event = asDecoded(event)
    const bytes = (event.log?.data.byteLength ?? 0) + EVENT_OVERHEAD_BYTES
    tail.events.push(event)
    this.order.push({ key, event, bytes })
    this.bytes += bytes
    while (this.bytes > this.limitBytes && this.orderStart < this.order.length) this.dropOldest()
  }

  private dropOldest (): void {
    const { key, event, bytes } = this.order[this.orderStart++]
    this.bytes -= bytes
    const tail = this.tails.get(key)
    // Events of a task are added in seq order, so its oldest kept event goes first (unless the tail was forgotten and begun again).
    if (tail != null && tail.events[0] === event) {
      tail.events.shift()
      // An empty tail no longer says where the task's events start: the store answers.
      if (tail.events.length === 0) this.tails.delete(key)
    }
    if (this.orderStart > 1024 && this.orderStart * 2 > this.order.length) {
      this.order.splice(0, this.orderStart)
      this.orderStart = 0
    }
  }

  private forgetKey (key: string): void {
    const tail = this.tails.get(key)
    if (tail == null) return
    this.tails.delete(key)
    // Their bytes stay counted in `order` until dropped there: at most the limit either way.
  }

  /** The task's events are gone from the store (pruned). */
  forget (taskId: string): void {
    for (const key of [...this.tails.keys()]) {
      if (key.slice(key.indexOf('/') + 1) === taskId) this.forgetKey(key)
    }
  }

  /**
   * The stored events from `fromSeq` on, at most `limit`, if this holds them all; undefined
   * when only the store can say.
   */
  from (taskId: string, attempt: number, fromSeq: number, limit: number): TaskEvent[] | undefined {
    const tail = this.tails.get(RecentEvents.key(taskId, attempt))
    if (tail == null || tail.events.length === 0 || fromSeq < tail.events[0].seq) return undefined
    const { events } = tail
    let low = 0
    let high = events.length
    while (low < high) {
      const middle = (low + high) >> 1
      if (events[middle].seq < fromSeq) low = middle + 1
      else high = middle
    }
    return events.slice(low, low + limit)
  }

  /** The event with this seq: the event, null if the store surely has none, undefined if only the store can say. */
  event (taskId: string, attempt: number, seq: number): TaskEvent | null | undefined {
    const found = this.from(taskId, attempt, seq, 1)
    if (found == null) return undefined
    return found[0]?.seq === seq ? found[0] : null
  }

  /** The newest stored event, if this holds the task's events. */
  last (taskId: string, attempt: number): TaskEvent | undefined {
    return this.tails.get(RecentEvents.key(taskId, attempt))?.events.at(-1)
  }
}

/**
 * The event as a read from the store gives it: output as a plain Uint8Array (a writer may
 * hand over a Buffer, a subclass), viewing the same bytes. Readers get one shape wherever the
 * event comes from.
 */
function asDecoded (event: TaskEvent): TaskEvent {
  const data = event.log?.data
  if (data == null || Object.getPrototypeOf(data) === Uint8Array.prototype) return event
  return { ...event, log: { ...event.log!, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) } }
}
