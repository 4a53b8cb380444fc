import { createRequire } from 'node:module'
import { pino, type Logger } from 'pino'
import type PinoPretty from 'pino-pretty'

/** JSON logs on stderr; readable lines when stderr is a terminal. */
export function createLogger (level = process.env.CLOUDAI_LOG_LEVEL ?? 'info'): Logger {
  if (process.stderr.isTTY) {
    // Required only here: the pretty printer (thirty modules with its colours and date
    // formats) would otherwise sit in every daemon's memory, most of which log to a file.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty
    return pino({ level }, pretty({ destination: 2, colorize: process.env.NO_COLOR == null, sync: true }))
  }
  return pino({ level }, pino.destination({ fd: 2, sync: true }))
}

/** A logger that writes nothing, for embedded nodes and tests. */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}
