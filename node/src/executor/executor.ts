import type { TaskErrorCode } from '../error-codes.ts'
import type { ResourceAmounts } from '../resources.ts'

/** One container to run, as the worker hands it to an executor after admission. */
export interface ExecutorTask {
  /** Unique across the mesh; with the attempt, names the container (`containerName`). */
  taskId: string
  /** Which placement of the task this is (1 unless it was placed again after a failure). */
  attempt: number
  image: string
  /** The image's ID as the submitter's engine has it: the container runs exactly this image (by ID when the engine holds it, else pulled by name and checked). */
  imageId?: string
  /** Why the image could not be had from a peer, when that was tried: said if the pull fails too. */
  imageAbsentWhy?: string
  /** Replaces the image's `Cmd` (as `docker run IMAGE cmd…` does); empty keeps the image default. */
  command: string[]
  env: Record<string, string>
  resources: ResourceAmounts
  network: 'none' | 'bridge'
  /** The container is killed once it has run this long. */
  timeoutMs?: number
  /** User labels, set on the container as `cloudai.label.<key>`. */
  labels: Record<string, string>
  /** Peer ID of the master that submitted the task (label `cloudai.submitter`). */
  submitter: string
  /** This node's peer ID (label `cloudai.node`). */
  node: string
  /** The GPUs reserved for this task; exactly `resources.gpus` of them. */
  gpuDeviceIds: string[]
  /** The worker policy's stricter profile, when it asks for one. */
  strict?: StrictProfile
}

/**
 * Stricter than the hardening defaults (policy `strict`): a read-only root filesystem with
 * a size-capped `/tmp`, every capability dropped, and a fixed non-root user.
 */
export interface StrictProfile {
  /** `uid[:gid]` (or a name the image knows) the container runs as. */
  user: string
  /** Size of the writable `/tmp` (tmpfs, counted in the container's memory). */
  tmpBytes: number
}

/** A created container's files, through the engine's archive endpoints: no host path is ever mounted. */
export interface ContainerFiles {
  /** Unpack a tar at the container's root (its entries name where they land). */
  put(archive: NodeJS.ReadableStream): Promise<void>
  /** A tar of `path`, its entries named from the path's last component; undefined when the container has no such path. */
  get(path: string): Promise<NodeJS.ReadableStream | undefined>
}

/** The inputs could not be put in place: the task ends with this (its code and message) before it starts. */
export interface InputProblem {
  code: 'INPUT_FAILED' | 'ARCHIVE_REFUSED'
  message: string
}

export interface ExecutionObserver {
  /**
   * The container exists and has not started: put its inputs in. Resolves with a problem
   * when they could not be (the container is then removed unstarted, the task ends with it).
   */
  onCreated?(files: ContainerFiles): Promise<InputProblem | undefined>
  /**
   * The container has exited (whatever its code, also after a cancel or timeout) and still
   * exists: collect its outputs. Never rejects: what could not be collected is noted.
   */
  onExited?(files: ContainerFiles): Promise<void>
  /** Bytes of the image's layers fetched so far; at most a few calls a second, the last one complete. */
  onPullProgress?(progress: { doneBytes: number, totalBytes: number }): void
  /** The image is present locally (pulled from a registry now, or already in the engine); the container is created next. */
  onPulled?(source?: 'engine' | 'registry'): void
  onStarted?(containerId: string): void
  /**
   * A piece of the container's output, at most 64 KiB, byte for byte as written. The
   * executor reads no further output until the returned promise settles, so a slow
   * observer slows the container's writes instead of growing a buffer.
   */
  onLog(stream: 'stdout' | 'stderr', chunk: Uint8Array): void | Promise<void>
  /**
   * `adopt` only: the engine no longer holds all the output after what was recorded (its
   * log rotated while the node was down), so nothing more is passed on; called once.
   */
  onOutputGap?(): void
  /**
   * The outcome `run` or `adopt` is about to resolve with, given while the container still
   * exists: recorded here, it survives a crash during the removal (a restarted node finds
   * the task ended and removes the container as unclaimed).
   */
  onEnded?(result: ExecutionResult): void
}

/** The task error codes an executor reports (ERROR_TABLE says what each means). */
export type ExecutionErrorCode = Extract<TaskErrorCode,
  'IMAGE_NOT_FOUND' | 'IMAGE_MISMATCH' | 'IMAGE_TRANSFER_FAILED' | 'PULL_FAILED' | 'ENGINE_UNREACHABLE' | 'INVALID_SPEC' | 'CREATE_FAILED' | 'COMMAND_NOT_FOUND' | 'COMMAND_NOT_EXECUTABLE' | 'ENGINE_ERROR' |
  'INPUT_FAILED' | 'ARCHIVE_REFUSED'>

export interface ExecutionResult {
  /** The container's exit code, set whenever it ran (also after a timeout or cancel). */
  exitCode?: number
  oomKilled: boolean
  timedOut: boolean
  cancelled: boolean
  /** Why the container never ran or the engine failed; `message` says what to do. */
  error?: { code: ExecutionErrorCode, message: string }
}

/** Which container: a task's attempt. */
export interface TaskKey {
  taskId: string
  attempt: number
}

/** A task's container found on the engine after the node restarted. */
export interface FoundContainer {
  containerId: string
  /** The GPUs it was given, so the ledger hands them to no one else. */
  gpuDeviceIds: string[]
}

/** What the node had recorded of each output stream before it went down. */
export interface RecordedOutput {
  stdoutBytes: number
  stderrBytes: number
  /** The recorded bytes of one stream, in order, a chunk at a time (the engine's replay is checked against them). */
  chunks(stream: 'stdout' | 'stderr'): Iterator<Uint8Array>
}

export interface Executor {
  health(): Promise<{ healthy: boolean, detail: string }>
  /** Whether per-container storage limits are enforced by this engine (detected once). */
  storageEnforced(): Promise<boolean>
  /**
   * Pull, create, start, stream output, wait, report the outcome (`onEnded`), remove.
   * Resolves with the outcome in every case the engine or the task causes; rejects only
   * with an error thrown by `observer`, after the container is gone. Aborting `signal` cancels the task: the container gets
   * SIGTERM, then SIGKILL after a grace period.
   */
  run(task: ExecutorTask, observer: ExecutionObserver, signal: AbortSignal): Promise<ExecutionResult>
  /**
   * The container of a task that was started (running or exited), or undefined if there is
   * none; one that was created and never started is removed (the task can run afresh).
   */
  find(task: TaskKey): Promise<FoundContainer | undefined>
  /**
   * Follow a container that `find` returned to its end, as `run` does from its start: the
   * output after what was `recorded` (or `onOutputGap` when the engine lost some), cancel and the rest of the timeout, the outcome
   * (`onEnded`), then removal.
   */
  adopt(task: ExecutorTask, recorded: RecordedOutput, observer: ExecutionObserver, signal: AbortSignal): Promise<ExecutionResult>
  /** The tasks whose containers this node (`nodeId`) created and that still exist. */
  taskIds(nodeId: string): Promise<TaskKey[]>
  /** Remove a task's container, running or not; gone already is fine. */
  remove(task: TaskKey): Promise<void>
}
