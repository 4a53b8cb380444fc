import { UnsupportedProtocolError } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { TaskEvent as TaskEventCodec } from '../../../protocols/task.ts'
import { DeadlineError, PeerUnreachableError, ProtocolError, UnexpectedEndError, toError } from '../errors.ts'
import { ACK_WINDOW_EVENTS } from './ack-window.ts'
import { FramedStream, NO_DEADLINE } from './framing.ts'
import type { StreamDialer } from './peer-streams.ts'
import { ACK_EVERY_EVENTS, ACK_TIMEOUT_MS, checkEvent, MAX_EVENT_FRAME_BYTES, type TaskSession } from './task-protocol.ts'
import { MASTER_IDLE_MS, MAX_TASKS_PER_STREAM, TASKS_PROTOCOL } from './tasks-protocol.ts'
import { encodeSpec, isTerminal, MasterMessage, type TaskEvent, type TaskSpec, type TaskState } from './task-messages.ts'
import { TASK_EVENT_LIMITS } from './task-output.ts'
import { sharedDeadline } from './shared-deadline.ts'


/** One task's events as the stream's reader hands them over, waiting for the task's reader to take them. */
class SessionQueue {
  private readonly events: TaskEvent[] = []
  private failure?: Error
  private wake?: () => void

  /** Events received, and the last seq acknowledged: the worker may be at most the ack window ahead. */
  private received = 0
  acked = 0

  push (event: TaskEvent): void {
    // We ack only what the task's reader took, so this also bounds what waits here for it.
    if (++this.received - this.acked > ACK_WINDOW_EVENTS) throw new ProtocolError(`the worker sent more than ${ACK_WINDOW_EVENTS} events of task ${event.taskId} past the master's acknowledgements`)
    this.events.push(event)
    this.wake?.()
  }

  fail (error: Error): void {
    this.failure ??= error
    this.wake?.()
  }

  async next (signal: AbortSignal): Promise<TaskEvent> {
    for (;;) {
      const event = this.events.shift()
      if (event != null) return event
      if (this.failure != null) throw this.failure
      if (signal.aborted) throw new DeadlineError('the task\'s reader stopped following')
      await new Promise<void>(resolve => {
        const listens = signal !== NO_DEADLINE
        const done = (): void => {
          if (listens) signal.removeEventListener('abort', done)
          this.wake = undefined
          resolve()
        }
        this.wake = done
        if (listens) signal.addEventListener('abort', done, { once: true })
      })
    }
  }
}

/**
 * A master's stream to one worker (`/cloudai/tasks/1.0.0`), shared by every task it sends
 * there. Its reader never waits for a task's reader: it hands each event to its task's queue,
 * which the worker's ack window bounds, so one task that is read slowly holds up no other.
 */
class MasterStream {
  readonly framed: FramedStream
  /** The tasks on the stream; `closing`: detached, its events until the worker's answer are dropped. */
  private readonly sessions = new Map<string, SessionQueue | 'closing'>()
  private failure?: Error
  /** Set while the stream carries no task: it closes when that lasts MASTER_IDLE_MS. */
  private idle?: NodeJS.Timeout

  constructor (framed: FramedStream) {
    this.framed = framed
    void this.read()
  }

  /** Failed, or closed for idleness: the next task opens another stream. */
  get broken (): boolean {
    return this.failure != null
  }

  /** Called whenever a task leaves the stream. */
  private checkIdle (): void {
    if (this.sessions.size > 0 || this.idle != null || this.failure != null) return
    this.idle = setTimeout(() => {
      this.idle = undefined
      if (this.sessions.size > 0 || this.failure != null) return
      this.failure = new UnexpectedEndError('the task stream was closed for idleness')
      this.framed.close(sharedDeadline(ACK_TIMEOUT_MS)).catch((err: unknown) => { this.framed.stream.abort(toError(err)) })
    }, MASTER_IDLE_MS)
    this.idle.unref()
  }

  private async read (): Promise<void> {
    try {
      for (;;) {
        const event = await this.framed.read(TaskEventCodec, NO_DEADLINE, TASK_EVENT_LIMITS)
        const session = this.sessions.get(event.taskId)
        if (event.seq === 0) {
          // About the session: a Detach answered, or the worker ended it. Late ones (a session
          // the worker ended as we detached it) are about no session and change nothing.
          if (session === 'closing') {
            this.sessions.delete(event.taskId)
            this.checkIdle()
          } else if (session != null) {
            this.sessions.delete(event.taskId)
            this.checkIdle()
            const why = event.error != null ? `${event.error.code.slice(0, 40)}: ${event.error.message.slice(0, 300)}` : 'without a reason'
            // Not a ProtocolError: that would discredit the whole stream, and the worker only ended this task's session.
            session.fail(new UnexpectedEndError(`the worker ended task ${event.taskId}'s session on the task stream (${why})`))
          }
          continue
        }
        if (session == null) throw new ProtocolError(`the worker sent an event of task ${event.taskId.slice(0, 40)}, which this master did not send on the stream`)
        if (session !== 'closing') session.push(event)
      }
    } catch (err) {
      this.fail(toError(err))
    }
  }

  /** Every task on the stream fails alike: each follower attaches again on its own. */
  fail (err: Error): void {
    clearTimeout(this.idle)
    if (this.failure != null) return
    this.failure = err instanceof UnexpectedEndError ? new UnexpectedEndError('the worker closed the task stream') : err
    this.framed.stream.abort(this.failure)
    for (const session of this.sessions.values()) if (session !== 'closing') session.fail(this.failure)
    this.sessions.clear()
  }

  private async write (message: MasterMessage): Promise<void> {
    if (this.failure != null) throw this.failure
    try {
      await this.framed.write(message, MasterMessage, sharedDeadline(ACK_TIMEOUT_MS))
    } catch (err) {
      this.fail(toError(err))
      // Why the stream failed, which a write after it would hide.
      throw this.failure ?? err
    }
  }

  async submit (spec: TaskSpec, signal: AbortSignal | undefined): Promise<TaskSession> {
    if (this.failure != null) throw this.failure
    const taskId = spec.id
    if (this.sessions.has(taskId)) throw new ProtocolError(`task ${taskId} is still on the stream to this worker (its earlier session is closing): try again`)
    if (this.sessions.size >= MAX_TASKS_PER_STREAM) throw new ProtocolError(`this master already follows ${MAX_TASKS_PER_STREAM} tasks on this worker`)
    const queue = new SessionQueue()
    this.sessions.set(taskId, queue)
    clearTimeout(this.idle)
    this.idle = undefined
    try {
      await this.write({ submit: { spec: encodeSpec(spec) } })
    } catch (err) {
      if (this.sessions.get(taskId) === queue) this.sessions.delete(taskId)
      throw err
    }
    return this.session(taskId, queue, signal ?? NO_DEADLINE)
  }

  /** The task's events from seq 1 to its terminal one, acknowledged once its reader took them (recorded them on disk). */
  private session (taskId: string, queue: SessionQueue, signal: AbortSignal): TaskSession {
    const stream = this
    return {
      events: (async function * () {
        let previous: TaskState | undefined
        let seq = 0
        try {
          while (previous == null || !isTerminal(previous)) {
            const event = await queue.next(signal)
            checkEvent(event, taskId, seq + 1, previous)
            seq = event.seq
            previous = event.state
            yield event
            // No ack for the terminal event: the worker needs none (a reader stops there anyway).
            if (seq % ACK_EVERY_EVENTS === 0 && !isTerminal(event.state)) {
              queue.acked = seq
              await stream.write({ taskId, ack: { seq } })
            }
          }
        } catch (err) {
          // A task whose events break the protocol discredits the stream they came on.
          if (err instanceof ProtocolError) stream.fail(err)
          throw err
        } finally {
          stream.leave(taskId, queue, previous != null && isTerminal(previous))
        }
      })(),
      cancel: async () => {
        await stream.write({ taskId, cancel: {} })
      }
    }
  }

  /** The task's reader is done with it: at its end, or before (then the worker is told to stop sending it). */
  private leave (taskId: string, queue: SessionQueue, ended: boolean): void {
    if (this.sessions.get(taskId) !== queue) return
    if (ended || this.failure != null) {
      this.sessions.delete(taskId)
      this.checkIdle()
      return
    }
    this.sessions.set(taskId, 'closing')
    this.write({ taskId, detach: true }).catch(() => {})
  }
}

/**
 * The master's task streams, one per worker, opened at the first task sent there and kept
 * while they work; a broken one is replaced at the next task.
 */
export class TaskStreams {
  private readonly dialer: StreamDialer
  private readonly streams = new Map<string, Promise<MasterStream>>()

  constructor (dialer: StreamDialer) {
    this.dialer = dialer
  }

  /** Send a task to `peer` (a peer ID) and follow its events from seq 1. */
  async submit (peer: string, spec: TaskSpec, signal?: AbortSignal): Promise<TaskSession> {
    const stream = await this.streamTo(peer, signal)
    return await stream.submit(spec, signal)
  }

  private async streamTo (key: string, signal: AbortSignal | undefined): Promise<MasterStream> {
    const known = this.streams.get(key)
    if (known != null) {
      const stream = await known.catch(() => undefined)
      if (stream != null && !stream.broken) return stream
      if (this.streams.get(key) === known) this.streams.delete(key)
      if (this.streams.has(key)) return await this.streamTo(key, signal)
    }
    const opening = (async () => {
      const stream = await this.dialer.dialProtocol(peerIdFromString(key), TASKS_PROTOCOL, { signal }).catch((err: unknown) => {
        // It answered, but takes no tasks on this protocol: a cloudai from before it (the
        // task never ran there; `auto` tries the next candidate).
        if (err instanceof UnsupportedProtocolError) throw new PeerUnreachableError(`${key} takes no tasks on ${TASKS_PROTOCOL}: it runs an earlier version of cloudai; upgrade it to this one`)
        throw err
      })
      return new MasterStream(new FramedStream(stream, MAX_EVENT_FRAME_BYTES, 0, true))
    })()
    this.streams.set(key, opening)
    try {
      return await opening
    } catch (err) {
      if (this.streams.get(key) === opening) this.streams.delete(key)
      throw err
    }
  }

  /** Close every stream (the node stops): its tasks' readers fail and their followers stop. */
  close (): void {
    for (const opening of this.streams.values()) {
      opening.then(stream => { stream.fail(new UnexpectedEndError('the master stopped')) }, () => {})
    }
    this.streams.clear()
  }
}
