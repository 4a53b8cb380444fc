/** An API failure with its HTTP status and a code clients test (never the message). */
export class HttpError extends Error {
  readonly status: number
  readonly code: string
  constructor (status: number, code: string, message: string) {
    super(message)
    this.name = 'HttpError'
    this.status = status
    this.code = code
  }
}

/** Returned by a route that wrote its own (streamed) response. */
export const STREAMED = Symbol('streamed')
