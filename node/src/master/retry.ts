import { meaningOf } from '../error-codes.ts'
import { TaskState, type TaskEvent } from '../protocol/task-messages.ts'
import type { AttemptRecord, PlacementRecord } from '../store/store.ts'

/** Refusals tried past with `auto` before giving up, however many peers there are. */
export const MAX_REFUSALS = 8

function refused (state: TaskState, errorCode: string | undefined): boolean {
  // A worker's refusal: with `auto`, the next candidate is tried, as placement would have chosen it had it known.
  return state === TaskState.REJECTED && meaningOf(errorCode).retry === 'refusal'
}

/** Whether the attempt that ended this way was a node-level failure (`--retries` applies to those only). */
function nodeFailure (event: TaskEvent, retryOnExit: boolean): boolean {
  if (event.state === TaskState.LOST) return true
  if (event.state === TaskState.REJECTED) return refused(event.state, event.error?.code)
  if (event.state !== TaskState.FAILED) return false
  // A refusal's code on a task that ran (STORE_FULL: the worker's disk filled) is the node's failure too.
  if (event.error != null) return meaningOf(event.error.code).retry != null
  return retryOnExit // a non-zero exit
}

/** Whether an attempt that ended this way may go on as another (`retryDecision` says whether it does): never after success or a cancel. */
export function mayGoOn (event: TaskEvent): boolean {
  return event.state === TaskState.FAILED || event.state === TaskState.REJECTED || event.state === TaskState.LOST
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
