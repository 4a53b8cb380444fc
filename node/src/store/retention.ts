import { setImmediate as nextTurn } from 'node:timers/promises'
import type { TaskStore } from './store.ts'

/** Finished tasks deleted per transaction: each batch is quick, and the node answers between batches. */
const PRUNE_BATCH_TASKS = 100

/** Which finished tasks the history keeps (docs/architecture.md, "Store"). */
export interface RetentionRules {
  /** Finished tasks that ended longer ago than this go. */
  olderThanMs: number
  /** Then, while the history is larger than this, the oldest finished tasks go; none: no size rule. */
  keepBytes?: number
}

/** What one pruning removed, by which rules, and what the history took before and after. */
export interface PruneReport extends RetentionRules {
  removedTasks: number
  removedEvents: number
  bytesBefore: number
  bytesAfter: number
}

/**
 * Delete the finished tasks the rules do not keep, with their events and attempts: first by
 * age, then the oldest while the history is too large. Tasks that have not ended are never
 * deleted, even when the history stays larger than `keepBytes`. Stops between batches when
 * `signal` aborts (the node stops).
 */
export async function pruneHistory (store: TaskStore, rules: RetentionRules, options: { nowMs?: number, signal?: AbortSignal } = {}): Promise<PruneReport> {
  const report: PruneReport = { ...rules, removedTasks: 0, removedEvents: 0, bytesBefore: store.historyBytes(), bytesAfter: 0 }
  const endedBeforeMs = (options.nowMs ?? Date.now()) - rules.olderThanMs
  const batches = [
    { limit: PRUNE_BATCH_TASKS, endedBeforeMs },
    ...(rules.keepBytes != null ? [{ limit: PRUNE_BATCH_TASKS, downToBytes: rules.keepBytes }] : [])
  ]
  for (const batch of batches) {
    // Bounded: every round deletes at least one task, or the rule is done.
    while (options.signal?.aborted !== true) {
      const deleted = store.deleteFinished(batch)
      report.removedTasks += deleted.tasks
      report.removedEvents += deleted.events
      if (deleted.tasks === 0) break
      await nextTurn()
    }
  }
  report.bytesAfter = store.historyBytes()
  return report
}
