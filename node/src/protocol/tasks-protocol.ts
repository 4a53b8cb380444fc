import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { TaskEvent as TaskEventCodec } from '../../../protocols/task.ts'
import { DeadlineError, ProtocolError, UnexpectedEndError, toError } from '../errors.ts'
import { EventCursor } from './ack-window.ts'
import { decodeFrame, FramedStream, NO_DEADLINE } from './framing.ts'
import type { StreamRegistrar } from './peer-streams.ts'
import type { EventLog, TaskHost } from './task-host.ts'
import { ACK_TIMEOUT_MS, MAX_MASTER_FRAME_BYTES, WRITE_BATCH_BYTES, WRITE_BATCH_EVENTS } from './task-protocol.ts'
import { checkTaskId, MASTER_MESSAGE_LIMITS, MAX_TASK_ID_LENGTH, MasterMessage, TaskState, validateSpec, type TaskEvent, type TaskSpec } from './task-messages.ts'
import { sharedDeadline } from './shared-deadline.ts'

/**
 * `/cloudai/tasks/1.0.0`: one long-lived stream from a master to a worker carries every task
 * the master sends there, each task's messages named by its id. A task attempt then costs
 * two frames and no stream set-up (a stream per task cost yamux's opening and closing
 * frames, protocol negotiation and a peer-store update, several times the task's own work).
 * Each task keeps what it had on a stream of its own: its events in order, its own ack
 * window (the worker sends from its store, never more than ACK_WINDOW_EVENTS past the
 * master's acks, and the master's reader hands each task's events to that task's queue
 * without waiting for it: one slow task holds up no other), Cancel, and an end that says why.
 */
export const TASKS_PROTOCOL = '/cloudai/tasks/1.0.0'

/**
 * Tasks one stream may carry at once: a master's queued and running tasks on one worker (the
 * queue holds 1,000). Past it a Submit is refused with a session frame (TOO_MANY_TASKS).
 */
export const MAX_TASKS_PER_STREAM = 2_048
/** Task streams per connection each way: a master holds one per worker; a few more cover one being replaced while the old one closes. */
export const TASKS_MAX_STREAMS = 4
/**
 * A stream that carries no task is closed by its master after MASTER_IDLE_MS (the next task
 * opens another: a stream costs little once per burst); the worker resets one that stays
 * idle past IDLE_TIMEOUT_MS, so a peer that opens streams and sends nothing, or drips a frame,
 * holds none for long.
 */
export const MASTER_IDLE_MS = 5_000
export const IDLE_TIMEOUT_MS = 10_000

/** The codes a session frame's error carries: why the worker ended a task's session on the stream. */
export const SESSION_CODES = {
  /** The worker holds no more tasks on this stream. */
  TOO_MANY_TASKS: 'TOO_MANY_TASKS',
  /** The worker took nothing from the master for ACK_TIMEOUT_MS while the window was full. */
  ACK_TIMEOUT: 'ACK_TIMEOUT',
  /** The worker refused the Submit (e.g. the id is another submitter's task). */
  REFUSED: 'REFUSED'
} as const

/**
 * A session frame: a TaskEvent with seq 0, which no event has. Without an error it answers a
 * Detach (nothing more of that task follows on the stream); with one, the worker ended the
 * task's session (the task itself may run on: the master attaches again to follow it).
 */
export function sessionFrame (taskId: string, error?: { code: string, message: string }): TaskEvent {
  return { taskId, seq: 0, timeMs: Date.now(), state: TaskState.PENDING, error }
}

/** How long the worker's side waits for a master. */
export interface TasksProtocolTimeouts {
  /** For an ack when a task's window is full, and for each write. */
  ackMs: number
  /** For the next message while the stream carries no task. */
  idleMs: number
}

/**
 * The task id of a Submit that failed to decode (past a limit, a number out of range), read
 * field by field without limits; the frame itself is bounded by MAX_MASTER_FRAME_BYTES.
 */
function submittedTaskId (frame: Uint8ArrayList): string | undefined {
  try {
    for (const field of MasterMessage.stream(frame)) {
      // protons-runtime 7 names the path '..submit.spec.id' where the generated types say '$.submit.spec.id'.
      if (field.field.endsWith('.submit.spec.id')) return (field as { value: string }).value
    }
  } catch {}
  return undefined
}

/** Exactly one of submit, ack, cancel, detach; all but a Submit name their task. */
function checkMessage (message: MasterMessage): void {
  const set = [message.submit, message.ack, message.cancel, message.detach].filter(field => field != null).length
  if (set !== 1) throw new ProtocolError(`a message on a task stream must carry exactly one of submit, ack, cancel, detach (it carries ${set})`)
  if (message.submit == null) checkTaskId(message.taskId ?? '')
}

/** Why a session's sender stops: one error for all (an abort without a reason makes a DOMException, with its stack, per task). */
const SESSION_ENDED = new DeadlineError('the task\'s session on the stream ended')

/** One task sent on the stream: its events go out from `cursor` until the terminal one, or until `life` aborts. */
interface Session {
  task: EventLog
  cursor: EventCursor
  life: AbortController
}

/** The worker's side of one master's task stream. */
class ServedStream {
  private readonly framed: FramedStream
  private readonly submitter: string
  private readonly sessions = new Map<string, Session>()
  private readonly init: TasksProtocolInit
  private readonly timeouts: TasksProtocolTimeouts
  /** Armed while no task is on the stream. */
  private idle?: NodeJS.Timeout

  constructor (stream: Stream, private readonly remote: PeerId, init: TasksProtocolInit, timeouts: TasksProtocolTimeouts) {
    this.framed = new FramedStream(stream, MAX_MASTER_FRAME_BYTES, 0, true)
    this.submitter = remote.toString()
    this.init = init
    this.timeouts = timeouts
  }

  async serve (): Promise<void> {
    try {
      // While tasks are on it, the master may stay silent however long (a task may run for days);
      // with none, it has IDLE_TIMEOUT_MS to send something (`idleCheck`).
      this.idleCheck()
      for (;;) {
        const frame = await this.framed.readFrame(NO_DEADLINE)
        clearTimeout(this.idle)
        this.idle = undefined
        await this.handle(frame)
        this.idleCheck()
      }
    } catch (err) {
      const error = toError(err)
      // A master closing a stream it no longer uses (between frames) is how a stream ends well.
      if (error instanceof UnexpectedEndError && !this.framed.endedInsideFrame && this.sessions.size === 0) {
        await this.framed.close(sharedDeadline(this.timeouts.ackMs)).catch(() => {})
        return
      }
      this.init.onBadStream?.(this.remote, error)
      this.framed.stream.abort(error)
    } finally {
      clearTimeout(this.idle)
      for (const session of this.sessions.values()) session.life.abort(SESSION_ENDED)
      this.sessions.clear()
    }
  }

  /** With no task on the stream (the last one just ended, or none came yet), reset it unless a message comes within the idle deadline. */
  private idleCheck (): void {
    if (this.sessions.size > 0 || this.idle != null) return
    this.idle = setTimeout(() => {
      this.idle = undefined
      if (this.sessions.size === 0) this.framed.stream.abort(new DeadlineError(`the task stream carried no task for ${this.timeouts.idleMs} ms`))
    }, this.timeouts.idleMs)
    this.idle.unref()
  }

  private async handle (frame: Uint8ArrayList): Promise<void> {
    let message: MasterMessage
    try {
      message = decodeFrame(MasterMessage, frame, MASTER_MESSAGE_LIMITS)
    } catch (err) {
      const taskId = submittedTaskId(frame)
      if (taskId == null) throw err
      await this.reject(taskId, toError(err))
      return
    }
    checkMessage(message)
    if (message.submit != null) {
      await this.submit(message.submit.spec)
      return
    }
    // A message about a task not on the stream (any more) is one that crossed its end: nothing to do.
    const taskId = message.taskId ?? ''
    const session = this.sessions.get(taskId)
    if (message.ack != null) session?.cursor.ack(message.ack.seq)
    else if (message.cancel != null) session?.task.cancel()
    else {
      this.end(taskId)
      // Waited for: a master that asks faster than it reads its answers stops being read.
      await this.framed.write(sessionFrame(taskId), TaskEventCodec, sharedDeadline(this.timeouts.ackMs))
    }
  }

  /** Tell the master why its task was refused (it shows the user) as the task's only event. */
  private async reject (taskId: string, err: Error): Promise<void> {
    const id = taskId.slice(0, MAX_TASK_ID_LENGTH)
    if (this.sessions.has(id)) throw new ProtocolError('a second Submit for a task already on the stream')
    await this.framed.write({ taskId: id, seq: 1, timeMs: Date.now(), state: TaskState.REJECTED, error: { code: 'INVALID_SPEC', message: err.message } }, TaskEventCodec, sharedDeadline(this.timeouts.ackMs))
  }

  private async submit (wire: Parameters<typeof validateSpec>[0]): Promise<void> {
    let spec: TaskSpec
    try {
      spec = validateSpec(wire)
    } catch (err) {
      await this.reject(wire?.id ?? '', toError(err))
      return
    }
    if (this.sessions.has(spec.id)) throw new ProtocolError('a second Submit for a task already on the stream')
    const maxTasks = this.init.maxTasks ?? MAX_TASKS_PER_STREAM
    if (this.sessions.size >= maxTasks) {
      await this.endWith(spec.id, SESSION_CODES.TOO_MANY_TASKS, `this worker follows at most ${maxTasks} tasks per master stream; send more when some have ended`)
      return
    }
    let task: EventLog
    try {
      task = this.init.host.submit(spec, this.submitter, this.init.nameOf?.(this.submitter) ?? '')
    } catch (err) {
      const error = toError(err)
      this.init.onBadStream?.(this.remote, error)
      await this.endWith(spec.id, SESSION_CODES.REFUSED, error.message)
      return
    }
    const session: Session = { task, cursor: new EventCursor(task, 1), life: new AbortController() }
    this.sessions.set(spec.id, session)
    void this.send(spec.id, session)
  }

  private async endWith (taskId: string, code: string, message: string): Promise<void> {
    await this.framed.write(sessionFrame(taskId, { code, message }), TaskEventCodec, sharedDeadline(this.timeouts.ackMs))
  }

  /** Stop sending a task's events: nothing more of it is written after this returns. */
  private end (taskId: string): void {
    const session = this.sessions.get(taskId)
    if (session == null) return
    session.life.abort(SESSION_ENDED)
    this.sessions.delete(taskId)
    this.idleCheck()
  }

  /** Send a task's events from its store to its end, within its ack window. */
  private async send (taskId: string, session: Session): Promise<void> {
    const { cursor, life } = session
    try {
      for (let event = await cursor.next(life.signal, this.timeouts.ackMs); event != null; event = await cursor.next(life.signal, this.timeouts.ackMs)) {
        // Checked in the same turn as the send: after a Detach (or the stream's end) nothing of the task may follow.
        if (life.signal.aborted) return
        // What is on disk by now goes in the same write: a task's events mostly come in bursts.
        const events = [event, ...cursor.ready(WRITE_BATCH_EVENTS, WRITE_BATCH_BYTES)]
        try {
          await this.framed.writeAll(events, TaskEventCodec, sharedDeadline(this.timeouts.ackMs))
        } catch (err) {
          // The stream no longer takes what we send: every task on it is cut off alike.
          this.framed.stream.abort(toError(err))
          return
        }
      }
      this.end(taskId)
    } catch (err) {
      if (life.signal.aborted) return
      this.end(taskId)
      // The window stayed full: the master took none of this task's events. The task runs on.
      const message = err instanceof DeadlineError ? `the master acknowledged nothing for ${this.timeouts.ackMs} ms` : toError(err).message
      await this.endWith(taskId, SESSION_CODES.ACK_TIMEOUT, message).catch((error: unknown) => { this.framed.stream.abort(toError(error)) })
    }
  }
}


export interface TasksProtocolInit {
  /** Who takes the tasks: this node's worker. */
  host: TaskHost
  /** A peer's human name, if this node knows it (recorded with the tasks it sends). */
  nameOf?: (peerId: string) => string
  /** A stream ended with an error, or a Submit was refused: for logs. */
  onBadStream?: (remote: PeerId, err: Error) => void
  /** The production deadlines unless given: a test that waits one out gives a short one. */
  timeouts?: Partial<TasksProtocolTimeouts>
  /** MAX_TASKS_PER_STREAM unless given: a test of the bound gives a small one. */
  maxTasks?: number
}

export async function registerTasksProtocol (libp2p: StreamRegistrar, init: TasksProtocolInit): Promise<void> {
  const timeouts: TasksProtocolTimeouts = { ackMs: ACK_TIMEOUT_MS, idleMs: IDLE_TIMEOUT_MS, ...init.timeouts }
  await libp2p.handle(TASKS_PROTOCOL, async (stream: Stream, connection: Connection) => {
    await new ServedStream(stream, connection.remotePeer, init, timeouts).serve()
  }, { maxInboundStreams: TASKS_MAX_STREAMS, maxOutboundStreams: TASKS_MAX_STREAMS })
}
