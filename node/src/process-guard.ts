import type { Logger } from 'pino'
import { toError } from './errors.ts'

/** What the guard logs; the test suite fails any daemon whose output holds it (test/helpers/cli.ts). */
export const UNHANDLED_MESSAGE = 'an error no code handled: logged, and the node runs on'

/**
 * The daemon's last line of defence: an error nothing handled (a promise nobody awaited that
 * rejects, an exception thrown from a callback) is logged with its stack instead of ending
 * the process and, with it, every task this node runs and follows. Each is a bug to fix
 * where it happens; the node stays consistent meanwhile because every store write is one
 * transaction (all of it or nothing), and a task's state in the store, not in memory, is what
 * its readers and a restart go by. Returns the function that removes the guard.
 */
export function guardProcess (log: Logger): () => void {
  const onRejection = (reason: unknown): void => { log.error({ unhandled: 'unhandledRejection', err: toError(reason) }, UNHANDLED_MESSAGE) }
  const onException = (err: Error): void => { log.error({ unhandled: 'uncaughtException', err }, UNHANDLED_MESSAGE) }
  process.on('unhandledRejection', onRejection)
  process.on('uncaughtException', onException)
  return () => {
    process.off('unhandledRejection', onRejection)
    process.off('uncaughtException', onException)
  }
}
