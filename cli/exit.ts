/**
 * Exit codes, decided in one place (DESIGN.md §7; `docker run`'s conventions).
 */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  /** The task never ran (rejected, lost, pull failed, peer unreachable). */
  NOT_RUN: 125,
  CANNOT_INVOKE: 126,
  NOT_FOUND: 127
} as const

/** Thrown by commands to end the process with a code; `message`, if any, goes to stderr. */
export class ExitError extends Error {
  readonly code: number
  constructor (code: number, message = '') {
    super(message)
    this.name = 'ExitError'
    this.code = code
  }
}
