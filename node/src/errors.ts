/**
 * Named errors. Callers test `err.name`, never message text (DESIGN.md §9).
 * Each class carries a default message that says what to do.
 */

export class CloudaiError extends Error {
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** The swarm key file is missing, malformed, weak or readable by others. */
export class SwarmKeyError extends CloudaiError {
  /** Which check failed, for callers and tests: `missing`, `header`, `encoding`, `length`, `hex`, `weak`, `permissions`. */
  readonly reason: string

  constructor (reason: string, message: string) {
    super(message)
    this.reason = reason
  }
}

/** The identity key file exists but cannot be used. */
export class IdentityError extends CloudaiError {}

/** A size, duration or count given by a user could not be parsed. */
export class InvalidValueError extends CloudaiError {}

/** A peer answered with bytes that are not a valid message, or nothing in time. */
export class ProtocolError extends CloudaiError {}

/** A read or write did not finish before the deadline the code set for it. */
export class DeadlineError extends CloudaiError {
  constructor (message = 'the peer did not answer in time') {
    super(message)
  }
}

/** The remote end closed the stream before sending the message we waited for. */
export class UnexpectedEndError extends CloudaiError {
  constructor (message = 'the peer closed the stream before answering') {
    super(message)
  }
}

/** A dial failed in the private-network handshake: the two sides hold different cluster keys. */
export class WrongClusterKeyError extends CloudaiError {}

/** The peer holds the cluster key but closed the connection: its policy's members leave this node out. */
export class NotMemberError extends CloudaiError {}

/** A dial found nobody, or nobody who finished the handshake, in time. */
export class PeerUnreachableError extends CloudaiError {}

/** Turn anything thrown (a stream write can reject with a non-Error) into an Error. */
export function toError (thrown: unknown): Error {
  if (thrown instanceof Error) return thrown
  if (typeof thrown === 'object' && thrown !== null && 'error' in thrown && thrown.error instanceof Error) {
    return thrown.error
  }
  return new CloudaiError(String(thrown))
}

/** The task store was written by a newer cloudai, or cannot be opened. */
export class StoreVersionError extends CloudaiError {}

/** No task has that id (or an id starting with it) on this node. */
export class TaskNotFoundError extends CloudaiError {}

/** More than one task id starts with what was given. */
export class AmbiguousTaskError extends CloudaiError {}

/** The asker may not attach to or cancel this task: only its submitter (or the node itself) may. */
export class NotSubmitterError extends CloudaiError {}
