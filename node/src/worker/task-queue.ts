/**
 * Tasks one node holds waiting for resources. A queued task costs the worker its spec and
 * events in memory and its master an open stream; past this many, the submitter is better
 * told at once (QUEUE_FULL) so it can place the task elsewhere. The same order as
 * MAX_FINISHED_TASKS, which bounds what finished tasks keep.
 */
export const MAX_QUEUED_TASKS = 1000

/** A queued item whose 1-based position differs from the one last announced for it. */
export interface Moved<T> {
  item: T
  position: number
}

/** Positions up to this one are announced at every move: the tasks about to run. */
export const EXACT_POSITIONS = 16

interface Entry<T> {
  item: T
  /** The position last reported for this item (by `push` or `moved`). */
  announced: number
}

/**
 * A bounded first-in, first-out queue of tasks by id. Positions are 1-based, as users
 * read them ("queued, position 1" runs next). Removal by id is for cancellation.
 */
export class TaskQueue<T> {
  readonly limit: number
  // A Map keeps insertion order and removes by key in O(1): the queue order is its order.
  private readonly entries = new Map<string, Entry<T>>()

  constructor (limit = MAX_QUEUED_TASKS) {
    this.limit = limit
  }

  get size (): number {
    return this.entries.size
  }

  get full (): boolean {
    return this.entries.size >= this.limit
  }

  /** Append at the tail; returns its position, or undefined when the queue is full (or holds the id). */
  push (id: string, item: T): number | undefined {
    if (this.full || this.entries.has(id)) return undefined
    this.entries.set(id, { item, announced: this.entries.size + 1 })
    return this.entries.size
  }

  /** The item that runs next. */
  peek (): T | undefined {
    return this.entries.values().next().value?.item
  }

  shift (): T | undefined {
    const first = this.entries.entries().next().value
    if (first == null) return undefined
    this.entries.delete(first[0])
    return first[1].item
  }

  /** Take an item out wherever it is; false if it was not queued. */
  remove (id: string): boolean {
    return this.entries.delete(id)
  }

  position (id: string): number | undefined {
    let position = 0
    for (const key of this.entries.keys()) {
      position++
      if (key === id) return position
    }
    return undefined
  }

  /**
   * Items whose new position is worth announcing, in queue order; each is marked announced.
   * Near the head every move counts; further back, only a position that has at least halved
   * since it was last told, so a long queue costs each task a few events, not one per task
   * that leaves ahead of it (that was quadratic in the queue's length).
   */
  moved (): Array<Moved<T>> {
    const changed: Array<Moved<T>> = []
    let position = 0
    for (const entry of this.entries.values()) {
      position++
      if (entry.announced !== position && (position <= EXACT_POSITIONS || position <= entry.announced / 2)) {
        entry.announced = position
        changed.push({ item: entry.item, position })
      }
    }
    return changed
  }

  items (): T[] {
    return [...this.entries.values()].map(entry => entry.item)
  }
}
