import type { Readable } from 'node:stream'
import { CloudaiError, NoOutputsError, NotSubmitterError, StoreFullError, TaskNotFoundError } from '../errors.ts'
import type { OutputSet } from '../files/output-store.ts'
import type { Executor, FoundContainer } from '../executor/executor.ts'
import type { ImageFetcher } from '../images/image-fetcher.ts'
import type { TaskHost, TaskStanding } from '../protocol/task-host.ts'
import { isTerminal, TaskState, type TaskSpec } from '../protocol/task-messages.ts'
import type { ResourceAmounts } from '../resources.ts'
import type { TaskRecord, TaskStore } from '../store/store.ts'
import { ResourceLedger } from './ledger.ts'
import { DEFAULT_POLICY, policyRefusal, type WorkerPolicy } from './policy.ts'
import { SubmissionLimiter } from './rate-limit.ts'
import { recordedOutput } from './recorded-output.ts'
import { RefusedTask } from './refused-task.ts'
import type { WorkerFiles } from './task-files.ts'
import { adoptTask, runTask } from './task-runner.ts'
import { TaskQueue } from './task-queue.ts'
import { DEFAULT_LOG_LIMIT_BYTES, WorkerTask } from './worker-task.ts'

/** How long stopping waits for cancelled tasks: the executor's SIGTERM grace plus removal. */
export const CANCEL_ALL_TIMEOUT_MS = 20_000
/** Finished tasks kept in memory for quick re-attach; older ones are read back from the store. */
export const MAX_FINISHED_TASKS = 1000

/**
 * A Submit under a task id this node already uses for another submitter's task, or for a
 * task this node sent elsewhere: each id names one task per node, and its events would mix.
 */
export class TaskIdTakenError extends CloudaiError {
  override readonly code = 'TASK_ID_TAKEN'
}

export interface WorkerInit {
  executor: Executor
  capacity: ResourceAmounts
  nodeId: string
  store: TaskStore
  /** Output kept per task (default DEFAULT_LOG_LIMIT_BYTES). */
  logLimitBytes?: number
  /** What this worker accepts (default: every member's task that fits). */
  policy?: WorkerPolicy
  /** Called once per new task, before it runs (the "TASK RECEIVED FROM MASTER" box). */
  onReceived?: (spec: TaskSpec, submitter: string) => void
  /** Called on each state change of a task, for the worker's terminal. */
  onState?: (task: WorkerTask, state: TaskState) => void
  /** Called when a container of this node that no task claims is removed at start-up. */
  onOrphan?: (taskId: string) => void
  /** Called when the tasks re-adopted at start-up hold more than the node now offers (it restarted with less): what is over. */
  onOverCommit?: (detail: string) => void
  /** Fetches a task's image from its submitter when the engine lacks it; undefined: the executor pulls it. */
  images?: ImageFetcher
  /** Inputs and outputs of tasks (undefined: a task that names files fails with INPUT_FAILED). */
  files?: WorkerFiles
  /** Called when a task is refused by the policy or the rate limit (the audit log). */
  onRefused?: (submitter: string, taskId: string, code: string, reason: string) => void
}

/**
 * The worker role: admits tasks against a ledger of this node's resources, queues those
 * that fit later (first in, first out), runs them with the executor, and records every
 * event in the store; after a restart it picks up where the last run stopped.
 */
export class Worker implements TaskHost {
  private readonly init: WorkerInit
  private readonly tasks = new Map<string, WorkerTask>()
  private readonly ledger: ResourceLedger
  private readonly queue = new TaskQueue<WorkerTask>()
  /** Admitted and not finished: each holds a reservation. */
  private readonly admitted = new Set<WorkerTask>()
  private readonly policy: WorkerPolicy
  private readonly limiter: SubmissionLimiter

  constructor (init: WorkerInit) {
    this.init = init
    this.ledger = new ResourceLedger(init.capacity)
    this.policy = init.policy ?? DEFAULT_POLICY
    this.limiter = new SubmissionLimiter(this.policy.submissions)
  }

  /** A task this node executes or executed, from memory or from the store. */
  get (taskId: string): WorkerTask | undefined {
    const known = this.tasks.get(taskId)
    if (known != null) return known
    const record = this.init.store.task(taskId, 'executed')
    return record != null ? this.restore(record) : undefined
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

  /** Cancel every queued and active task and wait (bounded) until each has ended; the node stops after. */
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
    // Still running past the bound (an engine that does not answer): the node is stopping and
    // its store closes next, so they record nothing more here.
    for (const task of active) if (!task.finished) task.detach()
  }

  /**
   * The task `by` (a peer ID; undefined: this node itself) may follow or cancel: only its
   * submitter or the node may. The one place that rule is checked.
   */
  taskFor (taskId: string, by?: string): WorkerTask {
    const task = this.get(taskId)
    if (task == null) throw new TaskNotFoundError(`this node has no task ${taskId}`)
    if (by != null && task.submitter !== by) throw new NotSubmitterError(`task ${taskId} was submitted by another node: only its submitter may follow or cancel it`)
    return task
  }

  /**
   * The outputs this node kept of a finished task, for `by` as `taskFor` allows: the
   * summaries and the archive (read from disk as it is sent).
   */
  async outputs (taskId: string, by?: string): Promise<{ sets: OutputSet[], archive: Readable }> {
    const task = this.taskFor(taskId, by)
    if (!task.finished) throw new NoOutputsError(`task ${taskId} has not ended: its outputs are collected when its container exits`)
    const kept = await this.init.files?.store.archive(taskId, task.spec.attempt)
    if (kept == null) throw new NoOutputsError(`this node keeps no outputs of task ${taskId}: it asked for none, it never ran, or they left with its history`)
    return kept
  }

  /** Cancel a task for `by`, as `taskFor` allows. A task that has ended already is left as it is, and the answer says so. */
  cancel (taskId: string, by?: string): TaskStanding {
    const task = this.taskFor(taskId, by)
    const { state, lastSeq } = task
    task.cancel()
    return { state, cancelled: !isTerminal(state), lastSeq }
  }

  /**
   * Accept a task, or attach to the existing one with the same id (submission is
   * idempotent); the same id from anyone but the task's submitter throws TaskIdTakenError. A
   * task the policy or the submitter's rate limit refuses is answered, audited and forgotten
   * (`RefusedTask`): not stored, not shown, not kept. Admission (docs/architecture.md, "Roles"): a task that can never fit this node is rejected
   * with the numbers; one that fits now and has nobody waiting ahead of it runs; any other
   * waits in the queue, or is rejected when the queue is full.
   */
  submit (spec: TaskSpec, submitter: string, submitterName = ''): WorkerTask | RefusedTask {
    const existing = this.get(spec.id)
    // A task this node sent shares its id's events with the worker's: only the node itself (`self`) may run it here.
    const owner = existing?.submitter ?? (this.init.store.currentAttempt(spec.id, 'submitted') != null ? this.init.nodeId : undefined)
    if (owner != null && owner !== submitter) {
      const message = `task id ${spec.id} is taken on this node by a task of another submitter: the master must choose a new id`
      this.init.onRefused?.(submitter, spec.id, 'TASK_ID_TAKEN', message)
      throw new TaskIdTakenError(message)
    }
    if (existing != null) return existing
    // Checked before anything is kept or shown: a refused Submit leaves only its audit line.
    const refusal = this.refusal(spec, submitter)
    if (refusal != null) {
      this.init.onRefused?.(submitter, spec.id, refusal.code, refusal.message)
      return new RefusedTask(spec, submitter, refusal)
    }
    const task = new WorkerTask(spec, submitter, this.init.store, this.taskOptions())
    try {
      this.init.store.createTask({ spec, role: 'executed', peerId: submitter, peerName: submitterName })
    } catch (err) {
      if (!(err instanceof StoreFullError)) throw err
      // No room to record it: the master hears why (its answer lives in memory), and this node keeps nothing of it.
      task.endForLackOfRoom(err, true)
      return this.track(task)
    }
    this.track(task)
    this.init.onReceived?.(spec, submitter)
    const problem = this.ledger.neverFits(spec.resources)
    if (problem != null) {
      task.append({ state: TaskState.REJECTED, error: { code: 'NEVER_FITS', message: `this task can never run here: it ${problem}` } })
    } else if (this.queue.size === 0 && this.ledger.fits(spec.resources)) {
      this.admit(task)
    } else {
      this.enqueue(task)
    }
    return task
  }

  /** Why the policy or the submitter's rate limit refuses this task (the node's own tasks pass the rate limit). */
  private refusal (spec: TaskSpec, submitter: string): { code: string, message: string } | undefined {
    const forbidden = policyRefusal(this.policy, spec, submitter, this.init.nodeId)
    if (forbidden != null) return { code: 'POLICY', message: forbidden }
    if (submitter !== this.init.nodeId && !this.limiter.take(submitter)) {
      return { code: 'RATE_LIMITED', message: `${submitter} sent more than ${this.policy.submissions.burst} tasks at once or ${this.policy.submissions.perSecond} a second: this node refuses the excess; try again shortly` }
    }
    return undefined
  }

  /**
   * After a restart: re-adopt the containers of tasks that were running (their output and
   * exit still reach the store), even past a capacity lowered since (reported through
   * `onOverCommit`), run afresh those that never started one, queue again those that were
   * queued (refusing any that can no longer fit), and remove containers of this node that no
   * unfinished task claims.
   */
  async recover (): Promise<void> {
    const unfinished = this.init.store.unfinished('executed')
    const waiting: WorkerTask[] = []
    for (const record of unfinished) {
      const task = this.restore(record)
      if (record.state === TaskState.PENDING || record.state === TaskState.QUEUED) {
        waiting.push(task)
        continue
      }
      let found: FoundContainer | undefined
      try {
        found = await this.init.executor.find({ taskId: task.spec.id, attempt: task.spec.attempt })
      } catch (err: any) {
        task.append({ state: TaskState.FAILED, error: { code: 'ENGINE_UNREACHABLE', message: `the node restarted and could not look for the task's container (${err?.message ?? err}); check the Docker engine and submit the task again` } })
        continue
      }
      if (found != null) {
        const { gpuDeviceIds } = this.ledger.readopt(task.spec.id, task.spec.resources, found.gpuDeviceIds)
        this.admitted.add(task)
        void adoptTask(task, this.runInit(gpuDeviceIds), recordedOutput(this.init.store, task.spec.id, task.spec.attempt))
      } else if (record.state === TaskState.RUNNING) {
        task.append({ state: TaskState.FAILED, error: { code: 'CONTAINER_GONE', message: 'the node restarted and the task\'s container was gone: its exit code is unknown; submit the task again' } })
      } else {
        waiting.unshift(task) // it was admitted before any of the queued ones: first in line
      }
    }
    const overCommit = this.ledger.overCommit()
    if (overCommit != null) this.init.onOverCommit?.(overCommit)
    for (const task of waiting) {
      // The node may have restarted with less: a task that can no longer fit would hold the head of the queue for good.
      const problem = this.ledger.neverFits(task.spec.resources)
      if (problem != null) task.append({ state: TaskState.REJECTED, error: { code: 'NEVER_FITS', message: `this node restarted with less capacity and this task can no longer run here: it ${problem}` } })
      else if (this.queue.size === 0 && this.ledger.fits(task.spec.resources)) this.admit(task)
      else this.enqueue(task)
    }
    const claimed = new Set(unfinished.map(record => `${record.taskId}/${record.attempt}`))
    const containers = await this.init.executor.taskIds(this.init.nodeId).catch(() => [])
    for (const orphan of containers.filter(key => !claimed.has(`${key.taskId}/${key.attempt}`))) {
      this.init.onOrphan?.(orphan.taskId)
      await this.init.executor.remove(orphan)
    }
  }

  private taskOptions (): ConstructorParameters<typeof WorkerTask>[3] {
    return {
      logLimitBytes: this.init.logLimitBytes ?? DEFAULT_LOG_LIMIT_BYTES,
      onEvent: (event, previous) => {
        const task = this.tasks.get(event.taskId)
        if (task == null) return
        if (event.state !== previous) this.init.onState?.(task, event.state)
        if (isTerminal(event.state)) {
          // The outputs count towards the history's size, and leave with the task.
          if (event.outputs != null) this.init.store.keepBeside(task.spec.id, event.outputs.sets.reduce((sum, set) => sum + set.bytes, 0))
          this.ended(task)
        }
      }
    }
  }

  /** A task as the store knows it. */
  private restore (record: TaskRecord): WorkerTask {
    const totals = this.init.store.outputTotals(record.taskId, record.attempt)
    return this.track(new WorkerTask(record.spec, record.peerId, this.init.store, {
      ...this.taskOptions(),
      restored: { state: record.state, lastSeq: record.lastSeq, logBytes: totals.storedBytes, outputBytes: totals.stdoutBytes + totals.stderrBytes, truncated: totals.truncated }
    }))
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
    // A queued task has no executor run to stop: cancelling it takes it out of the line. Listened
    // for before its first event, which may already end it (no room in the store).
    task.cancelSignal.addEventListener('abort', () => {
      if (this.queue.remove(task.spec.id)) task.append({ state: TaskState.CANCELLED })
    }, { once: true })
    task.append({ state: TaskState.QUEUED, queuedPosition: position })
  }

  private admit (task: WorkerTask): void {
    const { gpuDeviceIds } = this.ledger.reserve(task.spec.id, task.spec.resources)
    this.admitted.add(task)
    void runTask(task, this.runInit(gpuDeviceIds))
  }

  private runInit (gpuDeviceIds: string[]): Parameters<typeof runTask>[1] {
    return {
      executor: this.init.executor,
      nodeId: this.init.nodeId,
      gpuDeviceIds,
      ...(this.policy.strict != null ? { strict: this.policy.strict } : {}),
      ...(this.init.images != null ? { images: this.init.images } : {}),
      ...(this.init.files != null ? { files: { ...this.init.files, maxInputBytes: this.policy.maxInputBytes, maxOutputBytes: this.policy.maxOutputBytes } } : {})
    }
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

  /** Keep a task in memory: every unfinished one, and the most recent finished ones. */
  private track (task: WorkerTask): WorkerTask {
    this.tasks.set(task.spec.id, task)
    if (this.tasks.size > MAX_FINISHED_TASKS) {
      for (const [id, old] of this.tasks) {
        if (this.tasks.size <= MAX_FINISHED_TASKS) break
        if (old.finished) this.tasks.delete(id)
      }
    }
    return task
  }
}
