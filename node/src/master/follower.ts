import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { setTimeout as delay } from 'node:timers/promises'
import type { Logger } from 'pino'
import { PeerUnreachableError, TaskNotFoundError, toError } from '../errors.ts'
import { attachToPeer, cancelOnPeer } from '../protocol/node-protocol.ts'
import { localSession, submitToPeer, type TaskSession } from '../protocol/task-protocol.ts'
import { isTerminal, TaskState, type TaskEvent, type TaskSpec } from '../protocol/task-messages.ts'
import type { TaskStore } from '../store/store.ts'
import type { CancelOutcome, Worker } from '../worker/worker.ts'
import type { PeerWatch } from './peer-watch.ts'

/** Default time a worker may stay unreachable before its task is LOST (`--lost-after`). */
export const DEFAULT_LOST_AFTER_MS = 30_000
/** Pause between attempts to re-attach to an unreachable worker. */
export const REATTACH_RETRY_MS = 2_000
/** Pause between attempts to cancel the stale copy of a LOST task on a worker that may come back. */
export const STALE_CANCEL_RETRY_MS = 5_000

export interface FollowerContext {
  libp2p: Libp2p
  store: TaskStore
  worker: Worker
  watch: PeerWatch
  selfId: string
  selfName: string
  lostAfterMs: number
  log: Logger
  /** Store an event the worker sent or the master concluded (a terminal one may start the next attempt first). */
  record: (task: FollowedTask, event: TaskEvent) => void
  /** Aborted when the master stops. */
  stopped: AbortSignal
}

/** The task a follower follows, as the master recorded it. */
export interface FollowedTask {
  spec: TaskSpec
  peerId: string
  peerName: string
}

/**
 * Follows one task this node submitted, for as long as it runs, whether or not anyone
 * watches: stores every event, re-attaches from the last stored seq after the worker or the
 * link failed, marks the task LOST past the loss deadline, and then cancels the copy the
 * worker may still hold when it comes back, so a LOST task never finishes silently.
 */
export class Follower {
  readonly task: FollowedTask
  /** Since when the worker has been unreachable (a view, not a state); undefined while it answers. */
  unreachableSince?: number
  private readonly ctx: FollowerContext
  private lastSeq: number
  /** A cancel asked for while the worker was unreachable: sent once it answers again. */
  private cancelWanted = false
  private running: Promise<void> = Promise.resolve()

  constructor (ctx: FollowerContext, task: FollowedTask, lastSeq: number) {
    this.ctx = ctx
    this.task = task
    this.lastSeq = lastSeq
  }

  private get taskId (): string {
    return this.task.spec.id
  }

  private get self (): boolean {
    return this.task.peerId === this.ctx.selfId
  }

  /** Send the task (its first attempt at reaching the worker); throws if it cannot be sent, then follows it in the background. */
  async submit (): Promise<void> {
    const abort = new AbortController()
    const session = this.self
      ? localSession(this.ctx.worker.submit(this.task.spec, this.ctx.selfId, this.ctx.selfName).task, 1, abort.signal)
      : await submitToPeer(this.ctx.libp2p, peerIdFromString(this.task.peerId), this.task.spec, abort.signal)
    this.running = this.guard(this.follow({ session, abort }))
  }

  /** Follow a task recorded before this node restarted: attach from the last stored seq. */
  resume (): void {
    this.running = this.guard(this.follow(undefined))
  }

  /** Settles when the follower has nothing more to do for its task. */
  get done (): Promise<void> {
    return this.running
  }

  private async guard (following: Promise<void>): Promise<void> {
    await following.catch((err: unknown) => {
      this.ctx.log.error({ task: this.taskId, err: toError(err).message }, 'stopped following a task')
    })
  }

  /** Cancel the task on its worker; if the worker cannot be reached now, the cancel is sent when it can. */
  async cancel (): Promise<CancelOutcome> {
    if (this.self) return this.ctx.worker.cancel(this.taskId)
    try {
      const reply = await cancelOnPeer(this.ctx.libp2p, peerIdFromString(this.task.peerId), this.taskId, this.ctx.stopped)
      return { state: reply.state as TaskState, cancelled: !isTerminal(reply.state as TaskState), lastSeq: reply.lastSeq }
    } catch (err) {
      this.cancelWanted = true
      throw new PeerUnreachableError(`could not reach ${this.task.peerName} to cancel task ${this.taskId} (${toError(err).message}); the cancel is sent when it answers again`)
    }
  }

  private async follow (first: { session: TaskSession, abort: AbortController } | undefined): Promise<void> {
    let current = first
    while (!this.ctx.stopped.aborted) {
      const abort = current?.abort ?? new AbortController()
      const stopListener = (): void => { abort.abort() }
      this.ctx.stopped.addEventListener('abort', stopListener, { once: true })
      const unwatch = this.self ? () => {} : this.ctx.watch.watch(this.task.peerId, () => { abort.abort() })
      try {
        const session = current?.session ?? await this.open(abort.signal)
        this.setReachable(undefined)
        if (this.cancelWanted) {
          await session.cancel()
          this.cancelWanted = false
        }
        for await (const event of session.events) {
          this.ctx.record(this.task, event)
          this.lastSeq = event.seq
          if (isTerminal(event.state)) return
        }
        return
      } catch (err) {
        if (this.ctx.stopped.aborted) return
        if (toError(err).name === 'TaskNotFoundError') return this.lose(toError(err).message)
        this.setReachable(this.unreachableSince ?? Date.now())
        this.ctx.log.debug({ task: this.taskId, peer: this.task.peerId, err: toError(err).message }, 'worker unreachable')
        if (Date.now() - this.unreachableSince! >= this.ctx.lostAfterMs) {
          return this.lose(`${this.task.peerName} has been unreachable since ${new Date(this.unreachableSince!).toISOString()}, longer than the loss deadline (${this.ctx.lostAfterMs / 1000} s): the task is lost. If the worker comes back, its copy is cancelled`)
        }
        await delay(REATTACH_RETRY_MS, undefined, { signal: this.ctx.stopped }).catch(() => {})
      } finally {
        current = undefined
        unwatch()
        this.ctx.stopped.removeEventListener('abort', stopListener)
      }
    }
  }

  /** Attach from the event after the last one stored; a worker that never got the Submit gets it again. */
  private async open (signal: AbortSignal): Promise<TaskSession> {
    if (this.self) {
      const task = this.ctx.worker.get(this.taskId)
      if (task == null) throw new TaskNotFoundError(`this node's worker has no record of task ${this.taskId}`)
      return localSession(task, this.lastSeq + 1, signal)
    }
    const peer = peerIdFromString(this.task.peerId)
    try {
      return await attachToPeer(this.ctx.libp2p, peer, this.taskId, this.lastSeq + 1, signal)
    } catch (err: any) {
      if (err?.name !== 'RequestRefusedError' || err.code !== 'NOT_FOUND') throw err
      // Submission is idempotent: if our Submit never arrived, this one starts the task.
      if (this.lastSeq === 0) return await submitToPeer(this.ctx.libp2p, peer, this.task.spec, signal)
      throw new TaskNotFoundError(`${this.task.peerName} no longer knows task ${this.taskId} (its data was lost?): the task is lost`)
    }
  }

  private setReachable (since: number | undefined): void {
    if (since === this.unreachableSince) return
    this.unreachableSince = since
    this.ctx.store.notify(this.taskId)
  }

  /** Record LOST (after the last event stored), then make sure the worker's copy never finishes unnoticed. */
  private async lose (reason: string): Promise<void> {
    this.ctx.record(this.task, {
      taskId: this.taskId, seq: this.lastSeq + 1, timeMs: Date.now(), state: TaskState.LOST, error: { code: 'LOST', message: reason }
    })
    // The LOST event ends the view (and told every reader); "reachable again" would be untrue.
    this.unreachableSince = undefined
    while (!this.ctx.stopped.aborted) {
      try {
        const reply = await cancelOnPeer(this.ctx.libp2p, peerIdFromString(this.task.peerId), this.taskId, this.ctx.stopped)
        const at = new Date().toISOString()
        this.ctx.store.setNote(this.taskId, 'submitted', isTerminal(reply.state as TaskState)
          ? `${this.task.peerName} came back at ${at}; its copy had ended ${reply.state} after the task was lost, and that result is not used`
          : `${this.task.peerName} came back at ${at}; its stale copy (${reply.state}) was cancelled`)
        return
      } catch (err: any) {
        if (err?.name === 'RequestRefusedError') {
          this.ctx.store.setNote(this.taskId, 'submitted', `${this.task.peerName} came back without the task: nothing to cancel`)
          return
        }
      }
      await delay(STALE_CANCEL_RETRY_MS, undefined, { signal: this.ctx.stopped }).catch(() => {})
    }
  }
}
