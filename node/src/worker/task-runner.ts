import type { ExecutionObserver, ExecutionResult, Executor, ExecutorTask, RecordedOutput, StrictProfile } from '../executor/executor.ts'
import type { ImageFetcher, ImageOrigin } from '../images/image-fetcher.ts'
import { ImageSourceKind, LogStream, TaskState } from '../protocol/task-messages.ts'
import { formatBytes } from '../units.ts'
import { collectOutputs, putInputs, type WorkerFiles } from './task-files.ts'
import type { EventDetail, WorkerTask } from './worker-task.ts'

/** Turn what the executor reports at the end into the task's terminal event, with the outputs kept. */
export function terminalEvent (task: WorkerTask, result: ExecutionResult): EventDetail {
  const event = endOf(task, result)
  if (task.outputSets === undefined) return event
  const outputs = { outputs: { sets: task.outputSets } }
  const overLimit = task.outputSets.find(set => !set.complete && set.note.startsWith('the outputs exceed --output-limit'))
  // A task whose outputs were cut is not passed off as a success: its exit code stays, its state says what happened.
  if (overLimit !== undefined && event.state === TaskState.SUCCEEDED) return { ...event, state: TaskState.FAILED, error: { code: 'OUTPUT_LIMIT', message: overLimit.note }, ...outputs }
  return { ...event, ...outputs }
}

function endOf (task: WorkerTask, result: ExecutionResult): EventDetail & { state: TaskState } {
  const exit = result.exitCode != null ? { exit: { code: result.exitCode, oomKilled: result.oomKilled, timedOut: result.timedOut } } : {}
  if (result.cancelled) return { state: TaskState.CANCELLED, ...exit }
  if (result.error != null) return { state: TaskState.FAILED, ...exit, error: result.error }
  if (result.timedOut) {
    return { state: TaskState.FAILED, ...exit, error: { code: 'TIMEOUT', message: `the task ran longer than its timeout (${task.spec.timeoutMs} ms) and was killed; give it more with --timeout` } }
  }
  if (result.oomKilled) {
    return { state: TaskState.FAILED, ...exit, error: { code: 'OOM_KILLED', message: `the container used more than its memory limit (${formatBytes(task.spec.resources.memoryBytes)}) and was killed; ask for more with --memory` } }
  }
  return { state: result.exitCode === 0 ? TaskState.SUCCEEDED : TaskState.FAILED, ...exit }
}

export interface RunInit {
  executor: Executor
  /** This node's peer ID, for the container's labels. */
  nodeId: string
  gpuDeviceIds: string[]
  strict?: StrictProfile
  /** Fetches a task's image from its submitter when the engine lacks it; undefined: the executor pulls it. */
  images?: ImageFetcher
  /** Inputs and outputs; undefined: tasks that name files fail (this worker cannot move them). */
  files?: WorkerFiles
}

function executorTask (task: WorkerTask, init: RunInit, origin?: ImageOrigin): ExecutorTask {
  const { spec } = task
  return {
    ...(spec.imageId != null ? { imageId: spec.imageId } : {}),
    ...(origin?.kind === 'absent' ? { imageAbsentWhy: origin.why } : {}),
    taskId: spec.id,
    attempt: spec.attempt,
    image: spec.image,
    command: spec.command,
    env: spec.env,
    resources: spec.resources,
    network: spec.network,
    timeoutMs: spec.timeoutMs,
    labels: spec.labels,
    submitter: task.submitter,
    node: init.nodeId,
    gpuDeviceIds: init.gpuDeviceIds,
    ...(init.strict != null ? { strict: init.strict } : {})
  }
}

/** Turns what the executor reports into the task's events (written to the store at once: a slow master costs no memory). */
function observe (task: WorkerTask, files: WorkerFiles | undefined, origin?: ImageOrigin): ExecutionObserver {
  const wantsFiles = task.spec.files !== undefined
  return {
    ...(wantsFiles
      ? {
          onCreated: async container => files === undefined
            ? { code: 'INPUT_FAILED' as const, message: 'this worker cannot move files for tasks' }
            : await putInputs(task, files, container),
          onExited: async container => {
            if (files !== undefined && (task.spec.files?.outputs.length ?? 0) > 0) task.outputSets = await collectOutputs(task, files, container)
          }
        }
      : {}),
    onPullProgress: pull => { task.append({ state: TaskState.PULLING, pull }) },
    onPulled: pulled => {
      const imageSource = origin?.kind === 'peer'
        ? { kind: ImageSourceKind.PEER, peer: origin.peer }
        : { kind: pulled === 'registry' ? ImageSourceKind.REGISTRY : ImageSourceKind.ENGINE, peer: '' }
      task.append({ state: TaskState.STARTING, imageSource })
    },
    onStarted: containerId => { task.append({ state: TaskState.RUNNING, containerId }) },
    onLog: (stream, data) => {
      task.appendOutput(stream === 'stderr' ? LogStream.STDERR : LogStream.STDOUT, data)
    },
    onOutputGap: () => { task.outputLost() },
    onEnded: result => { task.append(terminalEvent(task, result)) }
  }
}

/**
 * Run `execute` and record how it ended, unless the executor's `onEnded` did already (then
 * this append is ignored: nothing follows a terminal event). Never throws: every failure
 * becomes the task's terminal event.
 */
async function finish (task: WorkerTask, execute: () => Promise<ExecutionResult>): Promise<void> {
  let result: ExecutionResult
  try {
    result = await execute()
  } catch (err: any) {
    result = { oomKilled: false, timedOut: false, cancelled: false, error: { code: 'ENGINE_ERROR', message: `the executor failed: ${err?.message ?? String(err)}` } }
  }
  task.append(terminalEvent(task, result))
}

/** Run an accepted task to its end: pull (with progress), start, record its output and how it ended. */
export async function runTask (task: WorkerTask, init: RunInit): Promise<void> {
  task.append({ state: TaskState.PULLING })
  await finish(task, async () => {
    // Without an image to fetch the executor starts in this same turn, as it always did.
    const origin = task.spec.imageId != null && init.images != null && mayNeedFetch(task, init) ? await fetchImage(task, task.spec.imageId, init.images) : undefined
    return await init.executor.run(executorTask(task, init, origin), observe(task, init.files, origin), task.cancelSignal)
  })
}

/**
 * Whether the image may have to come from a peer. A task this node submitted, naming no
 * other holder, names the image its own master found in this same engine a moment before:
 * the executor creates from that ID at once (and pulls by name should it have gone since),
 * so there is nothing to look up first.
 */
function mayNeedFetch (task: WorkerTask, init: RunInit): boolean {
  return task.submitter !== init.nodeId || (task.spec.imageHolders?.length ?? 0) > 0
}

/** The task's image from this engine, its submitter or the holders it named; the transfer's progress becomes the task's events. */
async function fetchImage (task: WorkerTask, imageId: string, images: ImageFetcher): Promise<ImageOrigin> {
  const fetched = images.ensure({
    imageId,
    taskId: task.spec.id,
    submitter: task.submitter,
    ...(task.spec.imageHolders != null ? { holders: task.spec.imageHolders } : {}),
    ...(task.spec.imageGrant != null ? { grant: task.spec.imageGrant } : {})
  }, imageFetch => {
    task.append({ state: TaskState.PULLING, imageFetch })
  })
  fetched.catch(() => {})
  // A cancelled task stops waiting (the executor then reports it cancelled); the transfer goes on for any other task that needs the image.
  const signal = task.cancelSignal
  if (signal.aborted) return { kind: 'absent', why: 'the task was cancelled' }
  let onAbort!: () => void
  const cancelled = new Promise<ImageOrigin>(resolve => { onAbort = () => { resolve({ kind: 'absent', why: 'the task was cancelled' }) } })
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await Promise.race([fetched, cancelled])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** Follow a task whose container outlived this node's last run, from the output it had recorded. */
export async function adoptTask (task: WorkerTask, init: RunInit, recorded: RecordedOutput): Promise<void> {
  await finish(task, async () => init.executor.adopt(executorTask(task, init), recorded, observe(task, init.files), task.cancelSignal))
}
