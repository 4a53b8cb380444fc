import { randomBytes } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { Docker } from './docker-client.ts'
import { checkDockerHealth } from './docker-health.ts'
import { createError, engineError, engineMessage, ExecutionError, isMissingImage, isUnreachable, pullError, startError, statusCodeOf } from './docker-errors.ts'
import { findContainer, listTaskIds, ReplayAligner } from './docker-adopt.ts'
import type { ContainerFiles, ExecutionObserver, ExecutionResult, Executor, ExecutorTask, FoundContainer, RecordedOutput, TaskKey } from './executor.ts'
import { buildCreateOptions, containerName, InvalidSpecError, STOP_GRACE_SECONDS, validateTask } from './host-config.ts'
import { DockerLogDemuxer } from './log-demux.ts'
import { pullImage } from './pull.ts'

/** How long a cancelled task has between SIGTERM and SIGKILL to save its work, as `docker stop` gives. */
export const STOP_GRACE_MS = STOP_GRACE_SECONDS * 1000
/** After the container exited, output still unread with no progress for this long means the engine stopped sending. */
export const LOG_DRAIN_IDLE_TIMEOUT_MS = 30_000
/** How often the drain checks for progress. */
const LOG_DRAIN_POLL_MS = 500
/** The storage probe asks for this much: any size works, the answer is about the driver. */
const STORAGE_PROBE_SIZE = '1G'
/** Marks the throwaway container of the storage probe, so it is never mistaken for a task. */
const LABEL_PROBE = 'cloudai.probe'

export interface DockerExecutorInit {
  /** The engine client; by default DOCKER_HOST, else the local socket. */
  docker?: Docker
  /** Overrides PULL_TIMEOUT_MS (pull.ts). */
  pullTimeoutMs?: number
  /** Overrides STOP_GRACE_SECONDS: a test that waits out the grace gives a short one. */
  stopGraceSeconds?: number
}

export function createDockerExecutor (init: DockerExecutorInit = {}): Executor {
  return new DockerExecutor(init)
}

/** What one run has seen so far; becomes the ExecutionResult. */
interface RunState {
  timedOut: boolean
  cancelled: boolean
  /** Set when the observer threw: run() rethrows it after clean-up. */
  observerFailure?: { err: unknown }
}

export class DockerExecutor implements Executor {
  private readonly docker: Docker
  private readonly pullTimeoutMs: number | undefined
  private readonly stopGraceSeconds: number
  private storageProbe: Promise<boolean> | undefined

  constructor (init: DockerExecutorInit = {}) {
    this.docker = init.docker ?? new Docker()
    this.pullTimeoutMs = init.pullTimeoutMs
    this.stopGraceSeconds = init.stopGraceSeconds ?? STOP_GRACE_SECONDS
  }

  async health (): Promise<{ healthy: boolean, detail: string }> {
    return checkDockerHealth(this.docker)
  }

  /**
   * Tries to create a throwaway container with `StorageOpt.size` (no engine reports the
   * capability otherwise; overlay2 supports it only on xfs with pquota). The answer is
   * kept once the engine gave one; with no image to probe with, `false` until there is.
   */
  async storageEnforced (): Promise<boolean> {
    this.storageProbe ??= this.probeStorage()
    const probe = this.storageProbe
    const known = await probe.then(answer => ({ answer, keep: true }), () => ({ answer: false, keep: false }))
    if (!known.keep && this.storageProbe === probe) this.storageProbe = undefined
    return known.answer
  }

  private async probeStorage (): Promise<boolean> {
    const images = await this.docker.listImages()
    if (images.length === 0) throw new Error('no local image to probe with')
    const smallest = images.reduce((a, b) => (b.Size < a.Size ? b : a))
    let container: Docker.Container
    try {
      container = await this.docker.createContainer({
        name: `cloudai-storage-probe-${randomBytes(6).toString('hex')}`,
        Image: smallest.Id,
        Cmd: ['cloudai-storage-probe'],
        Labels: { [LABEL_PROBE]: 'storage' },
        HostConfig: { NetworkMode: 'none', StorageOpt: { size: STORAGE_PROBE_SIZE } }
      })
    } catch (err) {
      // Only a refusal of the storage option is an answer; anything else (a vanished image, a dead engine) is not.
      if (statusCodeOf(err) !== undefined && /storage|not supported/i.test(engineMessage(err))) return false
      throw err
    }
    await container.remove({ force: true, v: true })
    return true
  }

  async run (task: ExecutorTask, observer: ExecutionObserver, signal: AbortSignal): Promise<ExecutionResult> {
    const state: RunState = { timedOut: false, cancelled: false }
    const outcome = (extra: Partial<ExecutionResult> = {}): ExecutionResult =>
      ({ oomKilled: false, timedOut: state.timedOut, cancelled: state.cancelled, ...extra })

    try {
      validateTask(task)
    } catch (err) {
      if (err instanceof InvalidSpecError) return outcome({ error: { code: 'INVALID_SPEC', message: err.message } })
      throw err
    }

    const created: { container?: Docker.Container } = {}
    const stopLogs = new AbortController()
    try {
      return reportEnd(observer, await this.runToEnd(task, observer, signal, state, created, stopLogs.signal, outcome))
    } finally {
      stopLogs.abort()
      if (created.container !== undefined) await removeQuietly(created.container)
    }
  }

  /** Pull, create (into `created`, for run() to remove), start, follow to the exit; every failure of the engine or the task becomes the outcome. */
  private async runToEnd (
    task: ExecutorTask,
    observer: ExecutionObserver,
    signal: AbortSignal,
    state: RunState,
    created: { container?: Docker.Container },
    stopLogs: AbortSignal,
    outcome: (extra?: Partial<ExecutionResult>) => ExecutionResult
  ): Promise<ExecutionResult> {
    try {
      if (signal.aborted) return outcome({ cancelled: true })
      const container = await this.createFromImage(task, observer, signal, state, created)
      if (signal.aborted) return outcome({ cancelled: true })
      const inputProblem = await fromObserverAsync(state, async () => await observer.onCreated?.(containerFiles(container)))
      if (inputProblem !== undefined) return outcome({ error: inputProblem })
      if (signal.aborted) return outcome({ cancelled: true })
      return await this.runCreated(container, task, observer, signal, state, stopLogs, outcome)
    } catch (err) {
      if (state.observerFailure !== undefined) throw state.observerFailure.err
      if (err instanceof ExecutionError) return outcome({ error: { code: err.code, message: err.message } })
      if (signal.aborted) return outcome({ cancelled: true })
      return outcome({ error: { code: isUnreachable(err) ? 'ENGINE_UNREACHABLE' : 'ENGINE_ERROR', message: engineError('running the task', err).message } })
    }
  }

  /**
   * Create the container (into `created`, for run() to remove) from the image, as `docker run`
   * does: straight away, and only when the engine answers that it lacks the image, pull it and
   * create again. No lookup comes first: an image that is there costs no extra round trip. A
   * task that names its image by ID is created from that ID, so it runs exactly that image.
   */
  private async createFromImage (task: ExecutorTask, observer: ExecutionObserver, signal: AbortSignal, state: RunState, created: { container?: Docker.Container }): Promise<Docker.Container> {
    const storageEnforced = await this.storageEnforced()
    const create = async (reference: string): Promise<Docker.Container> =>
      await this.docker.createContainer(buildCreateOptions({ ...task, image: reference }, { storageEnforced, stopGraceSeconds: this.stopGraceSeconds }))
    try {
      created.container = await create(task.imageId ?? task.image)
    } catch (err) {
      if (!isMissingImage(err)) throw createFailure(task, err)
    }
    if (created.container !== undefined) {
      fromObserver(state, () => observer.onPulled?.('engine'))
      return created.container
    }
    const pulled = await this.pullFor(task, observer, signal, state)
    fromObserver(state, () => observer.onPulled?.('registry'))
    try {
      created.container = await create(pulled)
    } catch (err) {
      throw createFailure(task, err)
    }
    return created.container
  }

  /**
   * Pull the task's image; the reference to create from is returned. A task that names its
   * image by ID runs that ID, so the pulled image is checked to be it (a registry's tag may
   * have moved since the submitter built or pulled it).
   */
  private async pullFor (task: ExecutorTask, observer: ExecutionObserver, signal: AbortSignal, state: RunState): Promise<string> {
    const { image, imageId } = task
    try {
      await pullImage(this.docker, image, {
        signal,
        timeoutMs: this.pullTimeoutMs,
        onProgress: progress => { fromObserver(state, () => observer.onPullProgress?.(progress)) }
      })
    } catch (err) {
      if (task.imageAbsentWhy === undefined || !(err instanceof ExecutionError)) throw err
      throw new ExecutionError('IMAGE_TRANSFER_FAILED', `image "${image}" (${imageId}) is not in this node's engine; ${task.imageAbsentWhy}; and pulling it from a registry failed too: ${err.message}`)
    }
    if (imageId === undefined) return image
    const pulled = await this.imageIdOf(image)
    if (pulled !== imageId) {
      throw new ExecutionError('IMAGE_MISMATCH', `the registry's "${image}" is image ${pulled ?? '(none)'}, not ${imageId}, the one the submitter has under that name. Push the submitter's image (or let this node fetch it from the submitter: see policy imageTransfer), then submit the task again.`)
    }
    return imageId
  }

  /** The ID of the image the engine holds under `reference`, or undefined when it has none. */
  private async imageIdOf (reference: string): Promise<string | undefined> {
    try {
      return (await this.docker.getImage(reference).inspect()).Id
    } catch (err) {
      if (statusCodeOf(err) !== 404) throw pullError(reference, err)
      return undefined
    }
  }

  /** Attach, start, then follow the container to its exit. */
  private async runCreated (
    container: Docker.Container,
    task: ExecutorTask,
    observer: ExecutionObserver,
    signal: AbortSignal,
    state: RunState,
    stopLogs: AbortSignal,
    outcome: (extra?: Partial<ExecutionResult>) => ExecutionResult
  ): Promise<ExecutionResult> {
    // Attached before start, so not a byte of output is missed.
    const attach = await container.attach({ stream: true, stdout: true, stderr: true, logs: false, abortSignal: stopLogs })
    // Output can arrive before start() answers: hold it until onStarted reported the container, so RUNNING comes first.
    let reported!: () => void
    const startReported = new Promise<void>(resolve => { reported = resolve })
    const output = followOutput(container, attach, state, stopLogs, async (stream, chunk) => {
      await startReported
      await observer.onLog(stream, chunk)
    })
    try {
      try {
        await container.start()
      } catch (err) {
        throw startError(task.image, err)
      }
      fromObserver(state, () => observer.onStarted?.(container.id))
    } finally {
      reported()
    }
    return await waitForExit(container, output, observer, signal, state, task.timeoutMs, this.stopGraceSeconds, outcome)
  }

  async find (task: TaskKey): Promise<FoundContainer | undefined> {
    return findContainer(this.docker, task)
  }

  async adopt (task: ExecutorTask, recorded: RecordedOutput, observer: ExecutionObserver, signal: AbortSignal): Promise<ExecutionResult> {
    const state: RunState = { timedOut: false, cancelled: false }
    const outcome = (extra: Partial<ExecutionResult> = {}): ExecutionResult =>
      ({ oomKilled: false, timedOut: state.timedOut, cancelled: state.cancelled, ...extra })
    const container = this.docker.getContainer(containerName(task.taskId, task.attempt))
    const stopLogs = new AbortController()
    try {
      return reportEnd(observer, await this.adoptToEnd(container, task, recorded, observer, signal, state, stopLogs.signal, outcome))
    } finally {
      stopLogs.abort()
      await removeQuietly(container)
    }
  }

  /** Follow an adopted container to its exit; every failure of the engine becomes the outcome. */
  private async adoptToEnd (
    container: Docker.Container,
    task: ExecutorTask,
    recorded: RecordedOutput,
    observer: ExecutionObserver,
    signal: AbortSignal,
    state: RunState,
    stopLogs: AbortSignal,
    outcome: (extra?: Partial<ExecutionResult>) => ExecutionResult
  ): Promise<ExecutionResult> {
    try {
      const info = await container.inspect()
      const ranMs = Date.now() - Date.parse(info.State.StartedAt)
      // The engine replays what its log still holds, then follows the container: go on after what was recorded.
      const logs = await container.logs({ follow: true, stdout: true, stderr: true, abortSignal: stopLogs }) as unknown as NodeJS.ReadableStream
      const replay = new ReplayAligner(recorded, observer)
      const output = followOutput(container, logs, state, stopLogs, replay.onLog)
      const timeoutMs = task.timeoutMs !== undefined ? Math.max(0, task.timeoutMs - ranMs) : undefined
      const result = await waitForExit(container, output, observer, signal, state, timeoutMs, this.stopGraceSeconds, outcome)
      fromObserver(state, () => { replay.end() })
      return result
    } catch (err) {
      if (state.observerFailure !== undefined) throw state.observerFailure.err
      if (signal.aborted) return outcome({ cancelled: true })
      return outcome({ error: { code: isUnreachable(err) ? 'ENGINE_UNREACHABLE' : 'ENGINE_ERROR', message: engineError('following the container after a restart', err).message } })
    }
  }

  async taskIds (nodeId: string): Promise<TaskKey[]> {
    return listTaskIds(this.docker, nodeId)
  }

  async remove (task: TaskKey): Promise<void> {
    await removeQuietly(this.docker.getContainer(containerName(task.taskId, task.attempt)))
  }
}

/** A container's output on its way to the observer. */
interface Output {
  logs: Promise<unknown>
  demuxer: DockerLogDemuxer
  source: NodeJS.ReadableStream
  failed: () => boolean
}

/** Demultiplex `source` (attach or logs) into `sink`; a broken stream kills the container rather than let it block on a full pipe. */
function followOutput (container: Docker.Container, source: NodeJS.ReadableStream, state: RunState, stopLogs: AbortSignal, sink: ExecutionObserver['onLog']): Output {
  const demuxer = new DockerLogDemuxer(async (stream, chunk) => {
    try {
      await sink(stream, chunk)
    } catch (err) {
      state.observerFailure = { err }
      throw err
    }
  })
  let failed = false
  const logs = pipeline(source, demuxer).catch((err: unknown) => {
    failed = true
    if (!stopLogs.aborted) container.kill({ signal: 'SIGKILL' }).catch(() => {})
    return err
  })
  return { logs, demuxer, source, failed: () => failed }
}

/** Wait (with timeout and cancel) for a started container to exit, drain its output, read the exit. */
/** 128 + SIGKILL: how the engine reports a container the kernel (or a timeout) killed. */
const SIGKILL_EXIT_CODE = 137

async function waitForExit (
  container: Docker.Container,
  output: Output,
  observer: ExecutionObserver,
  signal: AbortSignal,
  state: RunState,
  timeoutMs: number | undefined,
  stopGraceSeconds: number,
  outcome: (extra?: Partial<ExecutionResult>) => ExecutionResult
): Promise<ExecutionResult> {
  // Registered after start: a stop sent to a created container does nothing, and start would still run it.
  const cancel = (): void => {
    state.cancelled = true
    container.stop({ t: stopGraceSeconds }).catch(() => {})
  }
  signal.addEventListener('abort', cancel, { once: true })
  if (signal.aborted) cancel()
  const timer = timeoutMs === undefined
    ? undefined
    : setTimeout(() => {
      state.timedOut = true
      container.kill({ signal: 'SIGKILL' }).catch(() => {})
    }, timeoutMs)
  let exit: { StatusCode: number }
  try {
    exit = await container.wait()
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', cancel)
  }

  const logError = await drain(output.logs, output.demuxer, output.source)
  if (state.observerFailure !== undefined) throw state.observerFailure.err
  if (output.failed() && !state.cancelled && !state.timedOut) {
    throw engineError('streaming the container\'s output', logError)
  }
  await fromObserverAsync(state, async () => { await observer.onExited?.(containerFiles(container)) })
  // Only a container ended by SIGKILL (137) can have been killed for its memory: the one case
  // worth another round trip to the engine before the task's end is told.
  if (exit.StatusCode !== SIGKILL_EXIT_CODE) return outcome({ exitCode: exit.StatusCode, oomKilled: false })
  const info = await container.inspect()
  return outcome({ exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled })
}

/** Tell the observer how the task ended while its container still exists (the caller removes it next). */
function reportEnd (observer: ExecutionObserver, result: ExecutionResult): ExecutionResult {
  observer.onEnded?.(result)
  return result
}

/** The archive endpoints of one container (`docker cp` uses the same). */
function containerFiles (container: Docker.Container): ContainerFiles {
  return {
    put: async archive => { await container.putArchive(archive, { path: '/' }) },
    get: async path => {
      try {
        return await container.getArchive({ path }) as unknown as NodeJS.ReadableStream
      } catch (err) {
        if (statusCodeOf(err) === 404) return undefined
        throw err
      }
    }
  }
}

/** `fromObserver` for an observer call that returns a promise. */
async function fromObserverAsync<T> (state: RunState, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    state.observerFailure = { err }
    throw err
  }
}

/** Calls the observer, remembering what it throws so run() can tell it from engine failures. */
/** A refused create: an image name the engine cannot read is the task's image, anything else its settings. */
function createFailure (task: ExecutorTask, err: unknown): ExecutionError {
  if (/invalid reference format/i.test(engineMessage(err))) return pullError(task.image, err)
  return createError(containerName(task.taskId, task.attempt), err)
}

function fromObserver<T> (state: RunState, call: () => T): T {
  try {
    return call()
  } catch (err) {
    state.observerFailure = { err }
    throw err
  }
}

/**
 * Waits until every byte of output reached the observer. The engine closes the attach
 * stream once the container's output is written; if it goes quiet without closing, stop
 * waiting after LOG_DRAIN_IDLE_TIMEOUT_MS.
 */
async function drain (logs: Promise<unknown>, demuxer: DockerLogDemuxer, attach: NodeJS.ReadableStream): Promise<unknown> {
  const since = Date.now()
  let poll: NodeJS.Timeout | undefined
  const idle = new Promise<void>(resolve => {
    poll = setInterval(() => {
      if (Date.now() - Math.max(since, demuxer.lastProgressAt) > LOG_DRAIN_IDLE_TIMEOUT_MS) resolve()
    }, LOG_DRAIN_POLL_MS)
  })
  try {
    const finished = await Promise.race([logs.then(result => ({ result })), idle.then(() => undefined)])
    if (finished !== undefined) return finished.result
    ;(attach as NodeJS.ReadableStream & { destroy: () => void }).destroy()
    return await logs
  } finally {
    clearInterval(poll)
  }
}

/** Remove the container and its anonymous volumes; gone already is fine, and nothing else can be done about a failure here. */
export async function removeQuietly (container: Docker.Container): Promise<void> {
  try {
    await container.remove({ force: true, v: true })
  } catch {
    // The labels let a restarted node find and remove it.
  }
}
