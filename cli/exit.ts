import { EXIT } from '../node/src/error-codes.ts'

export { EXIT }

/** Thrown by commands to end the process with a code; `message`, if any, goes to stderr. */
export class ExitError extends Error {
  readonly code: number
  constructor (code: number, message = '') {
    super(message)
    this.name = 'ExitError'
    this.code = code
  }
}
