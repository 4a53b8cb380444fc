import { MasterMessage, TaskEvent, TaskSpec as WireTaskSpec, TaskState, LogStream, TruncationCause, type LogChunk } from '../../../protocols/task.ts'
import { outputPieces } from './task-output.ts'
import type { OutputStreamName, TaskOutputJson } from './output-json.ts'
import { InvalidTaskError, ProtocolError } from '../errors.ts'
import { raisedToFloors } from '../resource-floors.ts'
import type { ResourceAmounts } from '../resources.ts'
import { isTerminal, PROGRESS_STATES, TERMINAL_STATES } from '../task-states.ts'

/** Bounds on what a task may carry: generous for real tasks, small enough that a hostile one costs little. */
export const MAX_TASK_ID_LENGTH = 128
export const MAX_IMAGE_LENGTH = 512
export const MAX_COMMAND_ARGS = 1024
export const MAX_ENV_VARS = 512
export const MAX_TASK_LABELS = 64
/** All of a task's command, env and labels together, in characters. */
export const MAX_SPEC_TEXT = 512 * 1024
const DAY_MS = 24 * 3600_000
/** Node's timers hold at most 2^31 - 1 ms (24.8 days) and fire at once past it: the longest whole number of days below. */
export const MAX_TIMEOUT_MS = 24 * DAY_MS
/** A machine with more is not a LAN node we know of; bounds arithmetic on the numbers. */
export const MAX_TASK_CPU = 4096
export const MAX_TASK_GPUS = 64
export const MAX_ATTEMPT = 1000

/** Decode limits for a MasterMessage (protons checks counts before allocating). */
export const MASTER_MESSAGE_LIMITS = {
  submit: { spec: { command: MAX_COMMAND_ARGS, env: MAX_ENV_VARS, labels: MAX_TASK_LABELS } }
}

export type NetworkMode = 'none' | 'bridge'

/** A task as the worker and master see it after validation. */
export interface TaskSpec {
  id: string
  image: string
  command: string[]
  env: Record<string, string>
  resources: ResourceAmounts
  network: NetworkMode
  /** Undefined: no timeout. */
  timeoutMs?: number
  labels: Record<string, string>
  attempt: number
}

/** States only move forward: a terminal state is final, others advance in order. */
export function movesForward (from: TaskState, to: TaskState): boolean {
  if (isTerminal(from)) return false
  if (isTerminal(to)) return true
  return PROGRESS_STATES.indexOf(to) >= PROGRESS_STATES.indexOf(from)
}

const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/
/**
 * Docker's reference grammar, simplified: optional registry host[:port]/, lowercase path
 * components separated by /, optional :tag, optional @sha256:digest.
 */
const IMAGE_PATTERN = /^(?:[a-zA-Z0-9.-]+(?::\d{1,5})?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/
const LABEL_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/

function refuse (what: string): never {
  throw new InvalidTaskError(`invalid task: ${what}`)
}

function checkAmount (value: number, what: string, { whole, max, min = 0 }: { whole: boolean, max: number, min?: number }): number {
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

/** A task id as masters make them; anything else from the wire is refused before it is looked up. */
export function checkTaskId (id: string): string {
  if (id.length > MAX_TASK_ID_LENGTH || !TASK_ID_PATTERN.test(id)) refuse(`task id "${id.slice(0, 40)}" must be 1-${MAX_TASK_ID_LENGTH} letters, digits, "_", "." or "-"`)
  return id
}

/** Validate a decoded spec from the wire. Throws ProtocolError naming the bad field. */
export function validateSpec (spec: WireTaskSpec | undefined): TaskSpec {
  if (spec == null) refuse('the spec is missing')
  checkTaskId(spec.id)
  const imageProblem = imageReferenceProblem(spec.image)
  if (imageProblem != null) refuse(imageProblem)
  // Also checked by the decode limits on the wire; here for specs that never crossed it (self, the API).
  if (spec.command.length > MAX_COMMAND_ARGS) refuse(`more than ${MAX_COMMAND_ARGS} command arguments`)
  if (spec.env.size > MAX_ENV_VARS) refuse(`more than ${MAX_ENV_VARS} environment variables`)
  if (spec.labels.size > MAX_TASK_LABELS) refuse(`more than ${MAX_TASK_LABELS} labels`)
  let text = 0
  for (const arg of spec.command) text += arg.length
  for (const [key, value] of spec.env) {
    if (!ENV_NAME_PATTERN.test(key)) refuse(`environment variable name "${key.slice(0, 40)}" is not valid`)
    text += key.length + value.length
  }
  for (const [key, value] of spec.labels) {
    if (!LABEL_KEY_PATTERN.test(key)) refuse(`label key "${key.slice(0, 40)}" is not valid`)
    text += key.length + value.length
  }
  if (text > MAX_SPEC_TEXT) refuse(`command, environment and labels together exceed ${MAX_SPEC_TEXT} characters`)
  if ([...spec.command, ...spec.env.values(), ...spec.labels.values()].some(value => value.includes('\0'))) refuse('a command argument, environment value or label contains a NUL byte')
  if (spec.network !== 'none' && spec.network !== 'bridge') refuse(`network "${spec.network.slice(0, 20)}" must be "none" or "bridge"`)
  if (spec.resources == null) refuse('resources are missing')
  const resources = validateResources(spec.resources)
  const timeoutMs = validateTimeout(spec.timeoutMs)
  return {
    id: spec.id,
    image: spec.image,
    command: [...spec.command],
    env: Object.fromEntries(spec.env),
    resources,
    network: spec.network,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    labels: Object.fromEntries(spec.labels),
    attempt: checkAmount(spec.attempt, 'attempt', { whole: true, max: MAX_ATTEMPT })
  }
}

/** The wire form of a spec. */
export function encodeSpec (spec: TaskSpec): WireTaskSpec {
  return {
    ...spec,
    env: new Map(Object.entries(spec.env)),
    labels: new Map(Object.entries(spec.labels)),
    timeoutMs: spec.timeoutMs ?? 0
  }
}

/** Exactly one field of a MasterMessage must be set. */
export function checkOneOf (message: MasterMessage): void {
  const set = [message.submit, message.ack, message.cancel].filter(field => field != null).length
  if (set !== 1) throw new ProtocolError(`a master message must carry exactly one of submit, ack, cancel (it carries ${set})`)
}

function outputToJson (chunk: LogChunk): TaskOutputJson {
  const name = (stream: LogStream): OutputStreamName => stream === LogStream.STDERR ? 'stderr' : 'stdout'
  const pieces = outputPieces(chunk)
  if (pieces.length === 1) return { stream: name(pieces[0].stream), data: Buffer.from(pieces[0].data).toString('base64') }
  return { segments: pieces.map(piece => ({ stream: name(piece.stream), data: Buffer.from(piece.data).toString('base64') })) }
}

/** JSON form of an event for the API and `--json` (camelCase; log bytes in base64). */
export interface TaskEventJson {
  taskId: string
  seq: number
  time: string
  state: TaskState
  queuedPosition?: number
  pull?: { doneBytes: number, totalBytes: number }
  containerId?: string
  log?: TaskOutputJson
  exit?: { code: number, oomKilled: boolean, timedOut: boolean }
  error?: { code: string, message: string }
  /** Output past this many bytes was not kept: past the worker's --log-limit, or lost by the engine's log while the worker was down. */
  truncated?: { limitBytes: number, cause: 'log-limit' | 'engine-log-gap' }
}

export function eventToJson (event: TaskEvent): TaskEventJson {
  return {
    taskId: event.taskId,
    seq: event.seq,
    time: new Date(event.timeMs).toISOString(),
    state: event.state,
    ...(event.queuedPosition != null ? { queuedPosition: event.queuedPosition } : {}),
    ...(event.pull != null ? { pull: { doneBytes: event.pull.doneBytes, totalBytes: event.pull.totalBytes } } : {}),
    ...(event.containerId != null ? { containerId: event.containerId } : {}),
    ...(event.log != null ? { log: outputToJson(event.log) } : {}),
    ...(event.exit != null ? { exit: { code: event.exit.code, oomKilled: event.exit.oomKilled, timedOut: event.exit.timedOut } } : {}),
    ...(event.error != null ? { error: { code: event.error.code, message: event.error.message } } : {}),
    ...(event.truncated != null ? { truncated: { limitBytes: event.truncated.limitBytes, cause: event.truncated.cause === TruncationCause.ENGINE_LOG_GAP ? 'engine-log-gap' : 'log-limit' } } : {})
  }
}

export { isTerminal, TERMINAL_STATES, MasterMessage, TaskEvent, TaskState, LogStream, TruncationCause }
