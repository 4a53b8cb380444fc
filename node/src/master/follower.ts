import { setTimeout as delay } from 'node:timers/promises'
import type { Logger } from 'pino'
import { NotSubmitterError, PeerUnreachableError, StoreFullError, TaskNotFoundError, toError } from '../errors.ts'
import type { TaskStanding } from '../protocol/task-host.ts'
import { isTerminal, TaskState, type TaskEvent, type TaskSpec } from '../protocol/task-messages.ts'
import type { TaskSession } from '../protocol/task-protocol.ts'
import { STORE_RETRY_MS } from '../store/store-space.ts'
import type { OutputAllowance } from './output-allowance.ts'
import type { WorkerLink } from './worker-link.ts'

/** Default time a worker may stay unreachable before its task is LOST (`--lost-after`). */
export const DEFAULT_LOST_AFTER_MS = 30_000
/** Pause between attempts to re-attach to an unreachable worker. */
export const REATTACH_RETRY_MS = 2_000
/** Pause between attempts to cancel the stale copy of a LOST task on a worker that may come back. */
export const STALE_CANCEL_RETRY_MS = 5_000

/** The attempt a follower follows, as the master recorded it. */
export interface FollowedTask {
  spec: TaskSpec
  peerId: string
  peerName: string
}

/** What a follower tells its master: it decides what to store and what comes next. */
export interface FollowerReports {
  /** An event the worker sent, or the follower concluded (LOST); settles once it is on disk (the worker is acknowledged after). */
  onEvent: (task: FollowedTask, event: TaskEvent) => void | Promise<void>
  /** The worker stopped or started answering (`unreachableSince` changed). */
  onReachability: (task: FollowedTask) => void
  /** What happened to the worker's copy of a LOST task, once it is known. */
  onNote: (task: FollowedTask, note: string) => void
}

export interface FollowerInit extends FollowerReports {
  link: WorkerLink
  lostAfterMs: number
  log: Logger
  /** Aborted when the master stops. */
  stopped: AbortSignal
}

/**
 * Turns a worker link into the events of one attempt, for as long as it runs, whether or not
 * anyone watches: re-attaches from the last seq after the worker or the link failed, concludes
 * LOST past the loss deadline, and then cancels the copy the worker may still hold when it
 * comes back, so a LOST task never finishes silently. It stores nothing and decides no retry:
 * it reports to its master.
 */
export class Follower {
  readonly task: FollowedTask
  /** Since when the worker has been unreachable (a view, not a state); undefined while it answers. */
  unreachableSince?: number
  private readonly init: FollowerInit
  private lastSeq: number
  /** A cancel asked for while the worker was unreachable: sent once it answers again. */
  private cancelWanted = false
  private running: Promise<void> = Promise.resolve()

  /** What the worker's events may make this node store (a worker that ignores the log limit is held to it here). */
  private readonly allowance: OutputAllowance

  constructor (init: FollowerInit, task: FollowedTask, lastSeq: number, allowance: OutputAllowance) {
    this.init = init
    this.task = task
    this.lastSeq = lastSeq
    this.allowance = allowance
  }

  private get taskId (): string {
    return this.task.spec.id
  }

  /** Send the task (its first attempt at reaching the worker); throws if it cannot be sent, then follows it in the background. */
  async submit (): Promise<void> {
    const abort = new AbortController()
    const session = await this.init.link.submit(this.task.spec, abort.signal)
    this.running = this.guard(this.follow({ session, abort }))
  }

  /** Follow a task recorded before this node restarted: attach from the last seq recorded. */
  resume (): void {
    this.running = this.guard(this.follow(undefined))
  }

  /** Settles when the follower has nothing more to do for its task. */
  get done (): Promise<void> {
    return this.running
  }

  private async guard (following: Promise<void>): Promise<void> {
    await following.catch((err: unknown) => {
      this.init.log.error({ task: this.taskId, err: toError(err).message }, 'stopped following a task')
    })
  }

  /** Cancel the task on its worker; if the worker cannot be reached now, the cancel is sent when it can. */
  async cancel (): Promise<TaskStanding> {
    try {
      return await this.init.link.cancel(this.taskId, this.init.stopped)
    } catch (err) {
      this.cancelWanted = true
      throw new PeerUnreachableError(`could not reach ${this.task.peerName} to cancel task ${this.taskId} (${toError(err).message}); the cancel is sent when it answers again`)
    }
  }

  private async follow (first: { session: TaskSession, abort: AbortController } | undefined): Promise<void> {
    const { stopped } = this.init
    let current = first
    while (!stopped.aborted) {
      const abort = current?.abort ?? new AbortController()
      const stopListener = (): void => { abort.abort() }
      stopped.addEventListener('abort', stopListener, { once: true })
      const unwatch = this.init.link.watch(() => { abort.abort() })
      try {
        const session = current?.session ?? await this.open(abort.signal)
        this.setReachable(undefined)
        if (this.cancelWanted) {
          await session.cancel()
          this.cancelWanted = false
        }
        for await (const event of session.events) {
          const kept = this.allowance.admit(event)
          if (kept != null) await this.report(kept)
          this.lastSeq = event.seq
          if (isTerminal(event.state)) return
        }
        return
      } catch (err) {
        if (stopped.aborted) return
        if (err instanceof TaskNotFoundError) return this.lose(err.message)
        this.setReachable(this.unreachableSince ?? Date.now())
        this.init.log.debug({ task: this.taskId, peer: this.task.peerId, err: toError(err).message }, 'worker unreachable')
        if (Date.now() - this.unreachableSince! >= this.init.lostAfterMs) {
          return this.lose(`${this.task.peerName} has been unreachable since ${new Date(this.unreachableSince!).toISOString()}, longer than the loss deadline (${this.init.lostAfterMs / 1000} s): the task is lost. If the worker comes back, its copy is cancelled`)
        }
        await delay(REATTACH_RETRY_MS, undefined, { signal: stopped }).catch(() => {})
      } finally {
        current = undefined
        unwatch()
        stopped.removeEventListener('abort', stopListener)
      }
    }
  }

  /** Attach from the event after the last one seen; a worker that never got the Submit gets it again. */
  private async open (signal: AbortSignal): Promise<TaskSession> {
    try {
      return await this.init.link.attach(this.taskId, this.lastSeq + 1, signal)
    } catch (err) {
      if (!(err instanceof TaskNotFoundError)) throw err
      // Submission is idempotent: if our Submit never arrived, this one starts the task.
      if (this.lastSeq === 0) return await this.init.link.submit(this.task.spec, signal)
      throw new TaskNotFoundError(`${this.task.peerName} no longer knows task ${this.taskId} (its data was lost?): the task is lost`)
    }
  }

  /**
   * Tell the master of an event. While its store has no room, try again (the worker waits
   * meanwhile, and its copy of the events is kept): nothing is skipped, and the task is not
   * taken for lost, since it is this node that cannot go on.
   */
  private async report (event: TaskEvent): Promise<void> {
    const { stopped } = this.init
    for (let tries = 1; ; tries++) {
      try {
        await this.init.onEvent(this.task, event)
        return
      } catch (err) {
        if (!(err instanceof StoreFullError) || stopped.aborted) throw err
        if (tries === 1) this.init.log.warn({ task: this.taskId, seq: event.seq, err: err.message }, 'no room to record the task\'s events: waiting for room')
      }
      await delay(STORE_RETRY_MS, undefined, { signal: stopped }).catch(() => {})
    }
  }

  private setReachable (since: number | undefined): void {
    if (since === this.unreachableSince) return
    this.unreachableSince = since
    this.init.onReachability(this.task)
  }

  /** Report LOST (after the last event seen), then make sure the worker's copy never finishes unnoticed. */
  private async lose (reason: string): Promise<void> {
    await this.report({
      taskId: this.taskId, seq: this.lastSeq + 1, timeMs: Date.now(), state: TaskState.LOST, error: { code: 'LOST', message: reason }
    })
    // The LOST event ends the view (and told every reader); "reachable again" would be untrue.
    this.unreachableSince = undefined
    const { stopped } = this.init
    while (!stopped.aborted) {
      try {
        const reply = await this.init.link.cancel(this.taskId, stopped)
        const at = new Date().toISOString()
        this.init.onNote(this.task, isTerminal(reply.state)
          ? `${this.task.peerName} came back at ${at}; its copy had ended ${reply.state} after the task was lost, and that result is not used`
          : `${this.task.peerName} came back at ${at}; its stale copy (${reply.state}) was cancelled`)
        return
      } catch (err) {
        if (err instanceof TaskNotFoundError || err instanceof NotSubmitterError) {
          this.init.onNote(this.task, `${this.task.peerName} came back without the task: nothing to cancel`)
          return
        }
      }
      await delay(STALE_CANCEL_RETRY_MS, undefined, { signal: stopped }).catch(() => {})
    }
  }
}
