import type { Executor } from '../executor/executor.ts'
import { isTerminal, TaskState, type TaskSpec } from '../protocol/task-messages.ts'
import type { ResourceAmounts } from '../resources.ts'
import { ResourceLedger } from './ledger.ts'
import { runTask } from './task-runner.ts'
import { TaskQueue } from './task-queue.ts'
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

/**
 * The worker role: admits tasks against a ledger of this node's resources, queues those
 * that fit later (first in, first out), runs them with the executor, keeps their events.
 */
export class Worker {
  private readonly init: WorkerInit
  private readonly tasks = new Map<string, WorkerTask>()
  private readonly ledger: ResourceLedger
  private readonly queue = new TaskQueue<WorkerTask>()
  /** Admitted and not finished: each holds a reservation. */
  private readonly admitted = new Set<WorkerTask>()

  constructor (init: WorkerInit) {
    this.init = init
    this.ledger = new ResourceLedger(init.capacity)
  }

  get (taskId: string): WorkerTask | undefined {
    return this.tasks.get(taskId)
  }

  /** Tasks admitted and not finished yet (pulling, starting or running); queued ones are counted by `queued()`. */
  active (): WorkerTask[] {
    return [...this.admitted]
  }

  /** Tasks waiting in the queue for resources. */
  queued (): number {
    return this.queue.size
  }

  /** What the admitted tasks hold. */
  allocated (): ResourceAmounts {
    return this.ledger.allocated()
  }

  /** Cancel every queued and active task and wait (bounded) until each has ended. */
  async cancelAll (): Promise<void> {
    // Queued ones first, otherwise each running task that ends starts the next in line; from
    // the tail, so that no task still waiting is told a new position on its way out.
    for (const task of this.queue.items().reverse()) task.cancel()
    const active = this.active()
    for (const task of active) task.cancel()
    const deadline = AbortSignal.timeout(CANCEL_ALL_TIMEOUT_MS)
    await Promise.all(active.map(async task => {
      while (!task.finished && !deadline.aborted) await task.changed(deadline).catch(() => {})
    }))
  }

  /**
   * Accept a task, or attach to the existing one with the same id (submission is
   * idempotent). Admission (DESIGN.md §5): a task that can never fit this node is rejected
   * with the numbers; one that fits now and has nobody waiting ahead of it runs; any other
   * waits in the queue, or is rejected when the queue is full.
   */
  submit (spec: TaskSpec, submitter: string): Submission {
    const existing = this.tasks.get(spec.id)
    if (existing != null) return { task: existing, created: false }
    const task = new WorkerTask(spec, submitter, (event, previous) => {
      if (event.state !== previous) this.init.onState?.(task, event.state)
      if (isTerminal(event.state)) this.ended(task)
    })
    this.remember(task)
    this.init.onReceived?.(spec, submitter)
    const problem = this.ledger.neverFits(spec.resources)
    if (problem != null) {
      task.append({ state: TaskState.REJECTED, error: { code: 'NEVER_FITS', message: `this task can never run here: it ${problem}` } })
    } else if (this.queue.size === 0 && this.ledger.fits(spec.resources)) {
      this.admit(task)
    } else {
      this.enqueue(task)
    }
    return { task, created: true }
  }

  private enqueue (task: WorkerTask): void {
    const position = this.queue.push(task.spec.id, task)
    if (position == null) {
      task.append({
        state: TaskState.REJECTED,
        error: { code: 'QUEUE_FULL', message: `this node is busy and its queue is full (${this.queue.limit} tasks waiting); send the task to another node or try again later` }
      })
      return
    }
    task.append({ state: TaskState.QUEUED, queuedPosition: position })
    // A queued task has no executor run to stop: cancelling it takes it out of the line.
    task.cancelSignal.addEventListener('abort', () => {
      if (this.queue.remove(task.spec.id)) task.append({ state: TaskState.CANCELLED })
    }, { once: true })
  }

  private admit (task: WorkerTask): void {
    const { gpuDeviceIds } = this.ledger.reserve(task.spec.id, task.spec.resources)
    this.admitted.add(task)
    void runTask(task, { executor: this.init.executor, nodeId: this.init.nodeId, gpuDeviceIds })
  }

  /**
   * A task reached its terminal state, however it ended: free what it held (exactly once),
   * start the tasks at the head of the queue that fit now, in order (a small task never
   * overtakes a waiting big one), and tell the rest their new positions.
   */
  private ended (task: WorkerTask): void {
    this.admitted.delete(task)
    this.ledger.release(task.spec.id)
    for (let head = this.queue.peek(); head != null && this.ledger.fits(head.spec.resources); head = this.queue.peek()) {
      this.queue.shift()
      this.admit(head)
    }
    for (const { item, position } of this.queue.moved()) {
      item.append({ state: TaskState.QUEUED, queuedPosition: position })
    }
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
