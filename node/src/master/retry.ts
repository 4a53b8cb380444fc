import { TaskState, type TaskEvent } from '../protocol/task-messages.ts'
import type { AttemptRecord, PlacementRecord } from '../store/store.ts'

/** A worker's refusals: with `auto`, the next candidate is tried, as placement would have chosen it had it known. */
const REFUSALS = new Set(['QUEUE_FULL', 'NEVER_FITS', 'POLICY', 'RATE_LIMITED', 'PEER_UNREACHABLE'])
/** Failures of the node rather than of the task: another node may well run it. */
const NODE_FAILURES = new Set(['ENGINE_UNREACHABLE', 'ENGINE_ERROR', 'CONTAINER_GONE', 'CREATE_FAILED', 'PULL_FAILED'])
/** Refusals tried past with `auto` before giving up, however many peers there are. */
export const MAX_REFUSALS = 8

function refused (state: TaskState, errorCode: string | undefined): boolean {
  return state === TaskState.REJECTED && errorCode != null && REFUSALS.has(errorCode)
}

/** Whether the attempt that ended this way was a node-level failure (`--retries` applies to those only). */
function nodeFailure (event: TaskEvent, retryOnExit: boolean): boolean {
  if (event.state === TaskState.LOST) return true
  if (event.state === TaskState.REJECTED) return refused(event.state, event.error?.code)
  if (event.state !== TaskState.FAILED) return false
  if (event.error != null) return NODE_FAILURES.has(event.error.code)
  return retryOnExit // a non-zero exit
}

/**
 * Whether a task goes on as a new attempt after `event` ended the current one, and how:
 * `free` (an `auto` task refused by a worker: the next candidate is tried without using a
 * retry), `counted` (a node-level failure, with `--retries` left), or undefined (it ends).
 * `earlier` are the attempts before the current one.
 */
export function retryDecision (event: TaskEvent, placement: PlacementRecord, earlier: AttemptRecord[]): 'free' | 'counted' | undefined {
  const auto = placement.target === 'auto'
  const refusals = earlier.filter(attempt => refused(attempt.state, attempt.errorCode)).length
  if (auto && refused(event.state, event.error?.code) && refusals < MAX_REFUSALS) return 'free'
  // Refusals past MAX_REFUSALS were counted retries: they use up `retries` like any failure.
  const used = auto ? earlier.length - Math.min(refusals, MAX_REFUSALS) : earlier.length
  if (used < placement.retries && nodeFailure(event, placement.retryOnExit)) return 'counted'
  return undefined
}
