import type { ContainerCreateOptions } from 'dockerode'
import { CloudaiError } from '../errors.ts'
import { raisedToFloors, toNanoCpus } from '../resource-floors.ts'
import type { ExecutorTask } from './executor.ts'

/** Enough processes and threads for builds and thread pools; stops a fork bomb from taking the node. */
export const PIDS_LIMIT = 4096
/** Output reaches us through attach; the json-file copy only serves `docker logs` and re-adoption, so keep it small. */
export const LOG_MAX_SIZE = '10m'
/** Two files of LOG_MAX_SIZE bound the disk a chatty task can take in the engine's log directory. */
export const LOG_MAX_FILE = '2'
/** The driver Docker's `--gpus` uses for NVIDIA devices. */
export const GPU_DRIVER = 'nvidia'
/** SIGTERM-to-SIGKILL grace, in seconds, given to the engine too so a manual `docker stop` behaves like our cancel. */
export const STOP_GRACE_SECONDS = 10

export const LABEL_TASK_ID = 'cloudai.task-id'
export const LABEL_SUBMITTER = 'cloudai.submitter'
export const LABEL_NODE = 'cloudai.node'
export const LABEL_ATTEMPT = 'cloudai.attempt'
export const USER_LABEL_PREFIX = 'cloudai.label.'

/**
 * Docker's default on cgroup v1 is the host's cgroup namespace, which shows the container
 * the host's cgroup tree. (Not in @types/dockerode's HostConfig, hence spread in.)
 */
const PRIVATE_CGROUP_NAMESPACE = { CgroupnsMode: 'private' }

/** Docker's container-name rule, bounded: the task id becomes part of the name. */
const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/
/** Environment names as a shell would accept them (and nothing with `=` or NUL). */
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/

/** The task asks for something the executor will not create; the message says what. */
export class InvalidSpecError extends CloudaiError {
  override readonly code = 'INVALID_SPEC'
}

/** A task's container: one per attempt, since a later attempt may land on the same engine (one engine serving several nodes). */
export function containerName (taskId: string, attempt = 1): string {
  return attempt > 1 ? `cloudai-${taskId}-${attempt}` : `cloudai-${taskId}`
}

function refuse (what: string): never {
  throw new InvalidSpecError(`invalid task: ${what}. Fix the task and submit it again.`)
}

function checkText (value: string, what: string): void {
  if (value.includes('\0')) refuse(`${what} contains a NUL byte`)
}

/** Throws InvalidSpecError for a task Docker would refuse or we must not run. */
export function validateTask (task: ExecutorTask): void {
  if (!TASK_ID_PATTERN.test(task.taskId)) refuse(`task id "${task.taskId}" must be 1-128 letters, digits, "_", "." or "-", starting with a letter or digit`)
  if (task.image.trim() === '' || /\s/.test(task.image)) refuse(`image "${task.image}" must be a non-empty reference without spaces`)
  const { cpu, memoryBytes, storageBytes, gpus } = task.resources
  if (!Number.isFinite(cpu) || cpu <= 0) refuse(`CPU ${cpu} must be a positive number of cores`)
  if (!Number.isSafeInteger(memoryBytes) || memoryBytes <= 0) refuse(`memory ${memoryBytes} must be a positive whole number of bytes`)
  if (!Number.isSafeInteger(storageBytes) || storageBytes < 0) refuse(`storage ${storageBytes} must be a whole number of bytes`)
  if (!Number.isSafeInteger(gpus) || gpus < 0) refuse(`GPU count ${gpus} must be a whole number`)
  if (task.gpuDeviceIds.length !== gpus) refuse(`${gpus} GPU(s) requested but ${task.gpuDeviceIds.length} device id(s) assigned`)
  if (task.network !== 'none' && task.network !== 'bridge') refuse(`network "${String(task.network)}" must be "none" or "bridge"`)
  if (task.timeoutMs !== undefined && (!Number.isFinite(task.timeoutMs) || task.timeoutMs <= 0)) refuse(`timeout ${task.timeoutMs} ms must be positive`)
  task.command.forEach((arg, i) => { checkText(arg, `command argument ${i}`) })
  for (const [name, value] of Object.entries(task.env)) {
    if (!ENV_NAME_PATTERN.test(name)) refuse(`environment variable name "${name}" must be letters, digits and "_", not starting with a digit`)
    checkText(value, `environment variable ${name}`)
  }
  for (const [key, value] of Object.entries(task.labels)) {
    if (key === '') refuse('a label has an empty key')
    checkText(key, 'a label key')
    checkText(value, `label ${key}`)
  }
}

/**
 * The `POST /containers/create` body for a task: its limits enforced, each at least its
 * floor (a spec stored before the floors existed may ask for less), and the hardening
 * defaults in docs/architecture.md, "Roles". Pure; validate the task first.
 */
export function buildCreateOptions (task: ExecutorTask, options: { storageEnforced: boolean, stopGraceSeconds?: number }): ContainerCreateOptions {
  const labels: Record<string, string> = {}
  for (const [key, value] of Object.entries(task.labels)) labels[`${USER_LABEL_PREFIX}${key}`] = value
  labels[LABEL_TASK_ID] = task.taskId
  labels[LABEL_ATTEMPT] = String(task.attempt)
  labels[LABEL_SUBMITTER] = task.submitter
  labels[LABEL_NODE] = task.node

  const { cpu, memoryBytes, storageBytes } = raisedToFloors(task.resources)
  return {
    name: containerName(task.taskId, task.attempt),
    Image: task.image,
    ...(task.command.length > 0 ? { Cmd: task.command } : {}),
    Env: Object.entries(task.env).map(([name, value]) => `${name}=${value}`),
    Labels: labels,
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    StopTimeout: options.stopGraceSeconds ?? STOP_GRACE_SECONDS,
    ...(task.strict != null ? { User: task.strict.user } : {}),
    HostConfig: {
      NanoCpus: toNanoCpus(cpu),
      Memory: memoryBytes,
      // Equal to Memory: no swap on top, so the limit is the limit.
      MemorySwap: memoryBytes,
      PidsLimit: PIDS_LIMIT,
      Privileged: false,
      SecurityOpt: ['no-new-privileges'],
      CapDrop: task.strict != null ? ['ALL'] : ['NET_RAW'],
      ...(task.strict != null
        ? { ReadonlyRootfs: true, Tmpfs: { '/tmp': `rw,nosuid,nodev,noexec,size=${task.strict.tmpBytes}` } }
        : {}),
      NetworkMode: task.network,
      IpcMode: 'private',
      ...PRIVATE_CGROUP_NAMESPACE,
      AutoRemove: false,
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': LOG_MAX_SIZE, 'max-file': LOG_MAX_FILE } },
      ...(task.gpuDeviceIds.length > 0
        ? { DeviceRequests: [{ Driver: GPU_DRIVER, DeviceIDs: [...task.gpuDeviceIds], Capabilities: [['gpu']] }] }
        : {}),
      ...(options.storageEnforced ? { StorageOpt: { size: String(storageBytes) } } : {})
    }
  }
}
