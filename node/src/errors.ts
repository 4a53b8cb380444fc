import type { ErrorCode } from './error-codes.ts'

/**
 * The node's errors: one class per kind of failure, each with one `code` (its meaning for
 * the API, the CLI and retries is in ERROR_TABLE). Callers compare the class (`instanceof`)
 * or the code, never the name or the message. Each message says what to do.
 */
export class CloudaiError extends Error {
  readonly code: ErrorCode = 'INTERNAL'

  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** The code of anything thrown: a CloudaiError's own, INTERNAL for the rest. */
export function codeOf (thrown: unknown): ErrorCode {
  return thrown instanceof CloudaiError ? thrown.code : 'INTERNAL'
}

/** The swarm key file is missing, malformed, weak or readable by others. */
export class SwarmKeyError extends CloudaiError {
  override readonly code = 'SWARM_KEY'
  /** Which check failed, for callers and tests: `missing`, `header`, `encoding`, `length`, `hex`, `weak`, `permissions`. */
  readonly reason: string

  constructor (reason: string, message: string) {
    super(message)
    this.reason = reason
  }
}

/** The identity key file exists but cannot be used. */
export class IdentityError extends CloudaiError {
  override readonly code = 'IDENTITY'
}

/** A size, duration or count given by a user could not be parsed. */
export class InvalidValueError extends CloudaiError {
  override readonly code = 'INVALID_VALUE'
}

/** A peer answered with bytes that are not a valid message, or nothing in time. */
export class ProtocolError extends CloudaiError {
  override readonly code: ErrorCode = 'PROTOCOL'
}

/** A task spec that breaks the rules (from the wire, the API or the command line); the message names the field. */
export class InvalidTaskError extends ProtocolError {
  override readonly code = 'INVALID_SPEC'
}

/** A read or write did not finish before the deadline the code set for it. */
export class DeadlineError extends CloudaiError {
  override readonly code = 'DEADLINE'
  constructor (message = 'the peer did not answer in time') {
    super(message)
  }
}

/** The remote end closed the stream before sending the message we waited for. */
export class UnexpectedEndError extends CloudaiError {
  override readonly code = 'UNEXPECTED_END'
  constructor (message = 'the peer closed the stream before answering', options?: ErrorOptions) {
    super(message, options)
  }
}

/** A dial failed in the private-network handshake: the two sides hold different cluster keys. */
export class WrongClusterKeyError extends CloudaiError {
  override readonly code = 'WRONG_CLUSTER_KEY'
}

/** The peer holds the cluster key but closed the connection: its policy's members leave this node out. */
export class NotMemberError extends CloudaiError {
  override readonly code = 'NOT_MEMBER'
}

/** A dial found nobody, or nobody who finished the handshake, in time. */
export class PeerUnreachableError extends CloudaiError {
  override readonly code = 'PEER_UNREACHABLE'
}

/** Turn anything thrown (a stream write can reject with a non-Error) into an Error. */
export function toError (thrown: unknown): Error {
  if (thrown instanceof Error) return thrown
  if (typeof thrown === 'object' && thrown !== null && 'error' in thrown && thrown.error instanceof Error) {
    return thrown.error
  }
  return new CloudaiError(String(thrown))
}

/** The task store was written by a newer cloudai, or cannot be opened. */
export class StoreVersionError extends CloudaiError {
  override readonly code = 'STORE_VERSION'
}

/** The disk under the task store is full, or too nearly full to take a new task or more output. */
export class StoreFullError extends CloudaiError {
  override readonly code = 'STORE_FULL'
}

/** No task has that id (or an id starting with it) on this node. */
export class TaskNotFoundError extends CloudaiError {
  override readonly code = 'UNKNOWN_TASK'
}

/** More than one task id starts with what was given. */
export class AmbiguousTaskError extends CloudaiError {
  override readonly code = 'AMBIGUOUS_TASK'
}

/** The asker may not attach to or cancel this task: only its submitter (or the node itself) may. */
export class NotSubmitterError extends CloudaiError {
  override readonly code = 'FORBIDDEN'
}

/** An image transfer from a peer failed: refused, cut short, over the size cap, or not the image asked for. */
export class ImageTransferError extends CloudaiError {
  override readonly code = 'IMAGE_TRANSFER_FAILED'
}

/** An image transfer's stream broke off or stalled: the same transfer may well succeed when started again. */
export class ImageTransferBrokenError extends ImageTransferError {}

/** An image is not the one the task names by its ID. */
export class ImageMismatchError extends CloudaiError {
  override readonly code = 'IMAGE_MISMATCH'
}

/** An archive of task files breaks a rule (a path leaving its place, a link out, a size cap, cut short); the message names the entry. */
export class ArchiveRefusedError extends CloudaiError {
  override readonly code = 'ARCHIVE_REFUSED'
}

/** A task's inputs could not be read, sent or put in its container. */
export class InputFailedError extends CloudaiError {
  override readonly code = 'INPUT_FAILED'
}

/** Where results would land exists already: they never overwrite anything. */
export class ResultsExistError extends CloudaiError {
  override readonly code = 'RESULTS_EXIST'
}

/** The task asked for no outputs, or its worker no longer keeps them. */
export class NoOutputsError extends CloudaiError {
  override readonly code = 'NO_OUTPUTS'
}
