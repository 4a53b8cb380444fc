import type { Logger } from 'pino'
import { toError } from '../errors.ts'
import type { PruneReport } from '../store/retention.ts'

/**
 * How often a daemon applies its retention rules: the history can outgrow `--keep-size` by
 * what tasks write in this time, and a round that finds nothing to delete costs two queries.
 */
export const RETENTION_INTERVAL_MS = 10 * 60_000

/**
 * Apply a daemon's retention at once and then every `intervalMs`, one round at a time (a
 * round that takes long delays the next); each round that removed something is logged.
 * `stop` waits for the round in progress to end.
 */
export function keepHistoryPruned (prune: (signal: AbortSignal) => Promise<PruneReport>, log: Logger, intervalMs = RETENTION_INTERVAL_MS): { stop: () => Promise<void> } {
  const stopping = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let round: Promise<void> = Promise.resolve()
  const run = (): void => {
    round = prune(stopping.signal).then(report => {
      if (report.removedTasks > 0) log.info(report, 'removed finished tasks the history does not keep')
    }, (err: unknown) => {
      log.warn({ err: toError(err).message }, 'could not remove old history; trying again later')
    }).finally(() => {
      if (!stopping.signal.aborted) timer = setTimeout(run, intervalMs).unref()
    })
  }
  run()
  return {
    stop: async () => {
      stopping.abort()
      clearTimeout(timer)
      await round
    }
  }
}
