import type { Executor } from '../executor/executor.ts'
import { TaskState, type TaskSpec } from '../protocol/task-messages.ts'
import { NO_RESOURCES, type ResourceAmounts } from '../resources.ts'
import { formatBytes } from '../units.ts'
import { runTask } from './task-runner.ts'
import { WorkerTask } from './worker-task.ts'

/** How long stopping waits for cancelled tasks: the executor's SIGTERM grace plus removal. */
export const CANCEL_ALL_TIMEOUT_MS = 20_000

/** Finished tasks kept in memory for `status` and re-attach; the oldest are forgotten first. */
export const MAX_FINISHED_TASKS = 1000

export interface WorkerInit {
  executor: Executor
  capacity: ResourceAmounts
  nodeId: string
  /** Called once per new task, before it runs (the "TASK RECEIVED FROM MASTER" box). */
  onReceived?: (spec: TaskSpec, submitter: string) => void
  /** Called on each state change of a task, for the worker's terminal. */
  onState?: (task: WorkerTask, state: TaskState) => void
}

export interface Submission {
  task: WorkerTask
  /** False when a task with this id already existed: the caller attaches to it. */
  created: boolean
}

function tooBig (needs: ResourceAmounts, has: ResourceAmounts): string | undefined {
  const over: string[] = []
  if (needs.cpu > has.cpu) over.push(`${needs.cpu} CPU, node has ${has.cpu}`)
  if (needs.memoryBytes > has.memoryBytes) over.push(`${formatBytes(needs.memoryBytes)} memory, node has ${formatBytes(has.memoryBytes)}`)
  if (needs.storageBytes > has.storageBytes) over.push(`${formatBytes(needs.storageBytes)} storage, node has ${formatBytes(has.storageBytes)}`)
  if (needs.gpus > has.gpus) over.push(`${needs.gpus} GPU, node has ${has.gpus}`)
  return over.length > 0 ? `needs ${over.join('; ')}` : undefined
}

/** The worker role: accepts tasks, runs them with the executor, keeps their events. */
export class Worker {
  private readonly init: WorkerInit
  private readonly tasks = new Map<string, WorkerTask>()

  constructor (init: WorkerInit) {
    this.init = init
  }

  get (taskId: string): WorkerTask | undefined {
    return this.tasks.get(taskId)
  }

  /** Tasks not finished yet. */
  active (): WorkerTask[] {
    return [...this.tasks.values()].filter(task => !task.finished)
  }

  /** What the active tasks hold. */
  allocated (): ResourceAmounts {
    return this.active().reduce((sum, task) => ({
      cpu: sum.cpu + task.spec.resources.cpu,
      memoryBytes: sum.memoryBytes + task.spec.resources.memoryBytes,
      storageBytes: sum.storageBytes + task.spec.resources.storageBytes,
      gpus: sum.gpus + task.spec.resources.gpus
    }), NO_RESOURCES)
  }

  /** Cancel every active task and wait (bounded) until each has ended. */
  async cancelAll (): Promise<void> {
    const active = this.active()
    for (const task of active) task.cancel()
    const deadline = AbortSignal.timeout(CANCEL_ALL_TIMEOUT_MS)
    await Promise.all(active.map(async task => {
      while (!task.finished && !deadline.aborted) await task.changed(deadline).catch(() => {})
    }))
  }

  /**
   * Accept a task, or attach to the existing one with the same id (submission is
   * idempotent). A task that can never fit this node is rejected with the numbers.
   */
  submit (spec: TaskSpec, submitter: string): Submission {
    const existing = this.tasks.get(spec.id)
    if (existing != null) return { task: existing, created: false }
    const task = new WorkerTask(spec, submitter, (event, previous) => {
      if (event.state !== previous) this.init.onState?.(task, event.state)
    })
    this.remember(task)
    this.init.onReceived?.(spec, submitter)
    const problem = tooBig(spec.resources, this.init.capacity)
    if (problem != null) {
      task.append({ state: TaskState.REJECTED, error: { code: 'NEVER_FITS', message: `this task can never run here: it ${problem}` } })
      return { task, created: true }
    }
    const gpuDeviceIds = Array.from({ length: spec.resources.gpus }, (_, i) => String(i))
    void runTask(task, { executor: this.init.executor, nodeId: this.init.nodeId, gpuDeviceIds })
    return { task, created: true }
  }

  private remember (task: WorkerTask): void {
    this.tasks.set(task.spec.id, task)
    if (this.tasks.size <= MAX_FINISHED_TASKS) return
    for (const [id, old] of this.tasks) {
      if (this.tasks.size <= MAX_FINISHED_TASKS) break
      if (old.finished) this.tasks.delete(id)
    }
  }
}
