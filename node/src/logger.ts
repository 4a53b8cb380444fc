import { pino, type Logger } from 'pino'
import pretty from 'pino-pretty'

/** JSON logs on stderr; readable lines when stderr is a terminal. */
export function createLogger (level = process.env.CLOUDAI_LOG_LEVEL ?? 'info'): Logger {
  if (process.stderr.isTTY) {
    return pino({ level }, pretty({ destination: 2, colorize: process.env.NO_COLOR == null, sync: true }))
  }
  return pino({ level }, pino.destination({ fd: 2, sync: true }))
}

/** A logger that writes nothing, for embedded nodes and tests. */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}
