import { InvalidTaskError } from '../errors.ts'
import { raisedToFloors } from '../resource-floors.ts'
import type { ResourceAmounts } from '../resources.ts'

/**
 * The checks on a task's request that need no wire format: the command line runs them before
 * it sends anything, and loads only this (the codecs would cost every command's start-up).
 * The validator of a spec from the wire (`task-messages.ts`) applies the same ones.
 */

export const MAX_IMAGE_LENGTH = 512
const DAY_MS = 24 * 3600_000
/** A machine with more is not a LAN node we know of; bounds arithmetic on the numbers. */
export const MAX_TASK_CPU = 4096
export const MAX_TASK_GPUS = 64
/** Node's timers hold at most 2^31 - 1 ms (24.8 days) and fire at once past it: the longest whole number of days below. */
export const MAX_TIMEOUT_MS = 24 * DAY_MS

const IMAGE_PATTERN = /^(?:[a-zA-Z0-9.-]+(?::\d{1,5})?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/

export function refuse (what: string): never {
  throw new InvalidTaskError(`invalid task: ${what}`)
}

export function checkAmount (value: number, what: string, { whole, max, min = 0 }: { whole: boolean, max: number, min?: number }): number {
  if (!Number.isFinite(value) || value < min || value > max || (whole && !Number.isSafeInteger(value))) {
    refuse(`${what} ${value} must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`)
  }
  return value
}

/** A limit the engine enforces. 0 is refused, not raised: to Docker it means no limit, which may be what was meant and is never given. */
function checkLimit (value: number, what: string, unit: string, bounds: { whole: boolean, max: number }): number {
  const amount = checkAmount(value, what, bounds)
  if (amount === 0) refuse(`${what} must be more than 0 ${unit}: 0 would mean no limit, and every task has one`)
  return amount
}

/**
 * A task's amounts, checked: each a number in range, the limits more than 0; a limit below
 * its floor is raised to it (resource-floors.ts), so the spec says what the task holds.
 */
export function validateResources (resources: ResourceAmounts): ResourceAmounts {
  return raisedToFloors({
    cpu: checkLimit(resources.cpu, 'CPU', 'cores', { whole: false, max: MAX_TASK_CPU }),
    memoryBytes: checkLimit(resources.memoryBytes, 'memory', 'bytes', { whole: true, max: Number.MAX_SAFE_INTEGER }),
    storageBytes: checkLimit(resources.storageBytes, 'storage', 'bytes', { whole: true, max: Number.MAX_SAFE_INTEGER }),
    gpus: checkAmount(resources.gpus, 'GPU count', { whole: true, max: MAX_TASK_GPUS })
  })
}

/** A timeout as on the wire (0: none); one past the timer range would fire at once. */
export function validateTimeout (timeoutMs: number): number | undefined {
  if (timeoutMs === 0) return undefined
  if (timeoutMs > MAX_TIMEOUT_MS) refuse(`timeout must be at most ${MAX_TIMEOUT_MS / DAY_MS} days (it is ${timeoutMs} ms)`)
  return checkAmount(timeoutMs, 'timeout', { whole: true, max: MAX_TIMEOUT_MS, min: 1 })
}

/** Check an image reference's syntax; returns the reason it is invalid, or undefined. */
export function imageReferenceProblem (image: string): string | undefined {
  if (image === '') return 'the image is empty'
  if (image.length > MAX_IMAGE_LENGTH) return `the image reference is longer than ${MAX_IMAGE_LENGTH} characters`
  if (!IMAGE_PATTERN.test(image)) return `"${image}" is not an image reference (like registry:5000/name:tag)`
  return undefined
}

