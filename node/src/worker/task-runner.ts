import type { ExecutionObserver, ExecutionResult, Executor, ExecutorTask, RecordedOutput, StrictProfile } from '../executor/executor.ts'
import { LogStream, TaskState } from '../protocol/task-messages.ts'
import { formatBytes } from '../units.ts'
import type { EventDetail, WorkerTask } from './worker-task.ts'

/** Turn what the executor reports at the end into the task's terminal event. */
export function terminalEvent (task: WorkerTask, result: ExecutionResult): EventDetail {
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
}

function executorTask (task: WorkerTask, init: RunInit): ExecutorTask {
  const { spec } = task
  return {
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
function observe (task: WorkerTask): ExecutionObserver {
  return {
    onPullProgress: pull => { task.append({ state: TaskState.PULLING, pull }) },
    onPulled: () => { task.append({ state: TaskState.STARTING }) },
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
  await finish(task, async () => init.executor.run(executorTask(task, init), observe(task), task.cancelSignal))
}

/** Follow a task whose container outlived this node's last run, from the output it had recorded. */
export async function adoptTask (task: WorkerTask, init: RunInit, recorded: RecordedOutput): Promise<void> {
  await finish(task, async () => init.executor.adopt(executorTask(task, init), recorded, observe(task), task.cancelSignal))
}
