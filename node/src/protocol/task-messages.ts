import { MasterMessage, TaskEvent, TaskSpec as WireTaskSpec, TaskState, LogStream, TruncationCause, ImageSourceKind, TransferDirection, type LogChunk } from '../../../protocols/task.ts'
import { outputPieces } from './task-output.ts'
import type { OutputStreamName, TaskOutputJson } from './output-json.ts'
import { ProtocolError } from '../errors.ts'
import type { ResourceAmounts } from '../resources.ts'
import { checkAmount, imageReferenceProblem, refuse, validateResources, validateTimeout } from './spec-checks.ts'
import { MAX_TASK_FILE_PATHS, validateFiles, type TaskFilesSpec } from './file-spec-checks.ts'
import { isTerminal, PROGRESS_STATES, TERMINAL_STATES } from '../task-states.ts'

/** Bounds on what a task may carry: generous for real tasks, small enough that a hostile one costs little. */
export const MAX_TASK_ID_LENGTH = 128
export const MAX_COMMAND_ARGS = 1024
export const MAX_ENV_VARS = 512
export const MAX_TASK_LABELS = 64
/** All of a task's command, env and labels together, in characters. */
export const MAX_SPEC_TEXT = 512 * 1024
export const MAX_ATTEMPT = 1000

/** Decode limits for a MasterMessage (protons checks counts before allocating). */
export const MASTER_MESSAGE_LIMITS = {
  submit: { spec: { command: MAX_COMMAND_ARGS, env: MAX_ENV_VARS, labels: MAX_TASK_LABELS, files: { inputs: MAX_TASK_FILE_PATHS, outputs: MAX_TASK_FILE_PATHS }, imageHolders: MAX_IMAGE_HOLDERS } }
}

// The checks a command line makes before it sends anything live apart, free of the wire codecs.
export { imageReferenceProblem, MAX_IMAGE_LENGTH, MAX_TASK_CPU, MAX_TASK_GPUS, MAX_TIMEOUT_MS, validateResources, validateTimeout } from './spec-checks.ts'
export { containerPathProblem, MAX_CONTAINER_PATH_LENGTH, MAX_TASK_FILE_PATHS, validateFiles, type InputMount, type TaskFilesSpec } from './file-spec-checks.ts'

export { MAX_IMAGE_GRANT_LENGTH, MAX_IMAGE_HOLDERS } from '../images/image-grant.ts'
import { MAX_IMAGE_GRANT_LENGTH, MAX_IMAGE_HOLDERS } from '../images/image-grant.ts'

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
  /** The image's ID in the submitter's engine ("sha256:<64 hex>"): the worker runs exactly this image. Undefined: the submitter does not hold it. */
  imageId?: string
  /** Undefined: the task takes no files and gives none back. */
  files?: TaskFilesSpec
  /** Members the submitter saw holding `imageId`: the worker may ask them when the submitter cannot send it. */
  imageHolders?: string[]
  /** The submitter's signature over the task ID and `imageId` (base64), which those holders check. */
  imageGrant?: string
}

/** A peer ID as text (base58btc): its shape only, the key inside is read when it is used. */
const PEER_ID_PATTERN = /^[1-9A-HJ-NP-Za-km-z]{32,128}$/
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/

/** An image ID as engines write it: the digest of the image's config. */
export const IMAGE_ID_PATTERN = /^sha256:[a-f0-9]{64}$/

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
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/
const LABEL_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/

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
  if (spec.imageId != null && !IMAGE_ID_PATTERN.test(spec.imageId)) refuse(`image ID "${spec.imageId.slice(0, 80)}" must be "sha256:" and 64 lowercase hex digits`)
  const files = validateFiles(spec.files)
  const holders = spec.imageHolders ?? []
  if (holders.length > MAX_IMAGE_HOLDERS) refuse(`more than ${MAX_IMAGE_HOLDERS} image holders`)
  if (!holders.every(holder => PEER_ID_PATTERN.test(holder))) refuse('an image holder is not a peer ID')
  if (spec.imageGrant != null && (spec.imageGrant.length > MAX_IMAGE_GRANT_LENGTH || !BASE64_PATTERN.test(spec.imageGrant))) refuse(`the image grant must be at most ${MAX_IMAGE_GRANT_LENGTH} characters of base64`)
  if ((holders.length > 0 || spec.imageGrant != null) && spec.imageId == null) refuse('image holders and grant need an image ID')
  return {
    id: spec.id,
    image: spec.image,
    command: [...spec.command],
    env: Object.fromEntries(spec.env),
    resources,
    network: spec.network,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    labels: Object.fromEntries(spec.labels),
    attempt: checkAmount(spec.attempt, 'attempt', { whole: true, max: MAX_ATTEMPT }),
    ...(spec.imageId != null ? { imageId: spec.imageId } : {}),
    ...(files != null ? { files } : {}),
    ...(holders.length > 0 ? { imageHolders: [...holders] } : {}),
    ...(spec.imageGrant != null ? { imageGrant: spec.imageGrant } : {})
  }
}

/** The wire form of a spec. Input sources stay on the submitter: the worker needs only where each lands. */
export function encodeSpec (spec: TaskSpec): WireTaskSpec {
  const { files, imageHolders, ...rest } = spec
  return {
    ...rest,
    imageHolders: imageHolders ?? [],
    env: new Map(Object.entries(spec.env)),
    labels: new Map(Object.entries(spec.labels)),
    timeoutMs: spec.timeoutMs ?? 0,
    ...(files != null ? { files: { inputs: files.inputs.map(input => ({ target: input.target })), outputs: files.outputs, outputLimitBytes: files.outputLimitBytes ?? 0 } } : {})
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
  /** Bytes of the image received from a peer so far. */
  imageFetch?: { peer: string, doneBytes: number, totalBytes: number, bytesPerSecond: number }
  /** Where the image came from: the worker's engine, a peer (with its ID), or a registry. */
  imageSource?: { kind: 'engine' | 'peer' | 'registry', peer?: string }
  /** On the terminal event of a task with outputs: what the worker kept of each. */
  outputs?: OutputSetJson[]
  /** Progress of the inputs going into the container or the outputs coming out of it. */
  transfer?: { direction: 'inputs' | 'outputs', doneBytes: number, doneFiles: number }
}

export interface OutputSetJson {
  path: string
  bytes: number
  files: number
  sha256: string
  complete: boolean
  note?: string
}

const IMAGE_SOURCE_NAMES: Record<ImageSourceKind, 'engine' | 'peer' | 'registry'> = {
  [ImageSourceKind.ENGINE]: 'engine',
  [ImageSourceKind.PEER]: 'peer',
  [ImageSourceKind.REGISTRY]: 'registry'
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
    ...(event.imageFetch != null ? { imageFetch: { peer: event.imageFetch.peer, doneBytes: event.imageFetch.doneBytes, totalBytes: event.imageFetch.totalBytes, bytesPerSecond: event.imageFetch.bytesPerSecond } } : {}),
    ...(event.imageSource != null ? { imageSource: { kind: IMAGE_SOURCE_NAMES[event.imageSource.kind] ?? 'engine', ...(event.imageSource.peer !== '' ? { peer: event.imageSource.peer } : {}) } } : {}),
    ...(event.truncated != null ? { truncated: { limitBytes: event.truncated.limitBytes, cause: event.truncated.cause === TruncationCause.ENGINE_LOG_GAP ? 'engine-log-gap' : 'log-limit' } } : {}),
    ...(event.outputs != null ? { outputs: event.outputs.sets.map(set => ({ path: set.path, bytes: set.bytes, files: set.files, sha256: set.sha256, complete: set.complete, ...(set.note !== '' ? { note: set.note } : {}) })) } : {}),
    ...(event.transfer != null ? { transfer: { direction: event.transfer.direction === TransferDirection.OUTPUTS ? 'outputs' : 'inputs', doneBytes: event.transfer.doneBytes, doneFiles: event.transfer.doneFiles } } : {})
  }
}

export { isTerminal, TERMINAL_STATES, MasterMessage, TaskEvent, TaskState, LogStream, TruncationCause, ImageSourceKind, TransferDirection }
