/**
 * A deadline `ms` from now, shared by every caller that asks for the same `ms` within the same
 * sixteenth of it: it aborts between `ms` and `ms` + 1/16 later.
 *
 * A hot path (every batch of a task's events, every ack) bounds each write with a deadline
 * that it almost never meets: the write goes out at once. `AbortSignal.timeout` per write
 * made a timer each time, and every one that outlived its write (most: it is collected only
 * with the garbage) fired later and built a DOMException with a stack trace; in a busy mesh
 * that was several percent of the CPU. Shared, there is at most one timer per sixteenth of
 * each distinct duration, which is a handful of constants.
 */
const SLICES_PER_DEADLINE = 16

interface Shared {
  due: number
  signal: AbortSignal
}

/** One per distinct duration: the protocol's constants (and a test's own), cleared past this many. */
const MAX_DURATIONS = 64
const byDuration = new Map<number, Shared>()

export function sharedDeadline (ms: number): AbortSignal {
  const now = Date.now()
  const slice = Math.max(1, Math.floor(ms / SLICES_PER_DEADLINE))
  const due = Math.ceil((now + ms) / slice) * slice
  const shared = byDuration.get(ms)
  if (shared !== undefined && shared.due === due) return shared.signal
  const signal = AbortSignal.timeout(due - now)
  if (shared === undefined && byDuration.size >= MAX_DURATIONS) byDuration.clear()
  byDuration.set(ms, { due, signal })
  return signal
}
