import type { ErrorCode } from '../error-codes.ts'
import { CloudaiError } from '../errors.ts'

/** A request the API refuses before any node work: its code (ERROR_TABLE gives the HTTP status) and what to do. */
export class RequestError extends CloudaiError {
  override readonly code: ErrorCode
  constructor (code: ErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** Returned by a route that wrote its own (streamed) response. */
export const STREAMED = Symbol('streamed')
