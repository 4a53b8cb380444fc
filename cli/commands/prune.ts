import type { RetentionRules } from '../../node/src/store/retention.ts'
import { formatBytes, formatSpan } from '../../node/src/units.ts'
import type { ClientOptions } from '../client.ts'
import { printJson, type Printer } from '../render.ts'
import { openTasks } from '../task-access.ts'

export interface PruneOptions extends ClientOptions, Partial<RetentionRules> {
  json?: boolean
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`

/**
 * Remove now the finished tasks the history does not keep, with their events (through the
 * daemon, by its rules, when one runs; else from the store in the data dir).
 */
export async function prune (options: PruneOptions, print: Printer): Promise<void> {
  const access = await openTasks(options)
  try {
    const report = await access.prune({
      ...(options.olderThanMs != null ? { olderThanMs: options.olderThanMs } : {}),
      ...(options.keepBytes != null ? { keepBytes: options.keepBytes } : {})
    })
    if (options.json === true) {
      printJson(print, report)
      return
    }
    const kept = `kept: what ended less than ${formatSpan(report.olderThanMs)} ago${report.keepBytes != null ? `, within ${formatBytes(report.keepBytes)}` : ''}, and every task that has not ended`
    print.out(`Removed ${plural(report.removedTasks, 'finished task')} (${plural(report.removedEvents, 'event')}); the history takes ${formatBytes(report.bytesAfter)} (it took ${formatBytes(report.bytesBefore)}); ${kept}.`)
  } finally {
    access.close()
  }
}
