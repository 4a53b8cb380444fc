import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { TaskEvent as TaskEventCodec } from '../../../protocols/task.ts'
import { ProtocolError, toError } from '../errors.ts'
import { EventCursor } from './ack-window.ts'
import { decodeFrame, FramedStream } from './framing.ts'
import { checkLogChunk, TASK_EVENT_LIMITS } from './task-output.ts'
import type { StreamRegistrar } from './peer-streams.ts'
import type { EventLog, TaskHost } from './task-host.ts'
import { checkOneOf, isTerminal, MASTER_MESSAGE_LIMITS, MAX_TASK_ID_LENGTH, MasterMessage, TaskState, validateSpec, type TaskEvent, type TaskSpec } from './task-messages.ts'

export const TASK_PROTOCOL = '/cloudai/task/1.0.0'

/** A spec with the largest command and environment we accept fits. */
export const MAX_MASTER_FRAME_BYTES = 1024 * 1024
/** A 64 KiB log chunk plus the event's other fields. */
export const MAX_EVENT_FRAME_BYTES = 64 * 1024 + 4096
/** A master that opened a task stream has this long to send its Submit. */
export const SUBMIT_TIMEOUT_MS = 10_000
/** A master that lets the ack window fill and acknowledges nothing for this long is cut off; the task runs on. */
export const ACK_TIMEOUT_MS = 60_000
/** The master acknowledges every this many events (and the last one), well inside ACK_WINDOW_EVENTS. */
export const ACK_EVERY_EVENTS = 16
/** Events sent in one write at most (`EventCursor.ready`), and about this much output in them. */
const WRITE_BATCH_EVENTS = 16
const WRITE_BATCH_BYTES = 128 * 1024
/** Task streams one connection may hold: one per task attempt in flight between two nodes. */
export const TASK_MAX_INBOUND_STREAMS = 256
export const TASK_MAX_OUTBOUND_STREAMS = 256

/** How long the worker's side of the protocol waits for a master. */
export interface TaskProtocolTimeouts {
  /** For the Submit on a new stream. */
  submitMs: number
  /** For an ack when the window is full, and for each write. */
  ackMs: number
}

export const TASK_PROTOCOL_TIMEOUTS: TaskProtocolTimeouts = { submitMs: SUBMIT_TIMEOUT_MS, ackMs: ACK_TIMEOUT_MS }

/** The events of one task, as a master reads them, and a way to cancel it. */
export interface TaskSession {
  events: AsyncIterable<TaskEvent>
  cancel: () => Promise<void>
}

/** Read the master's Acks and Cancel for as long as the stream lives. */
async function readMasterMessages (framed: FramedStream, task: EventLog, cursor: EventCursor, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const message = await framed.read(MasterMessage, signal, MASTER_MESSAGE_LIMITS)
    checkOneOf(message)
    if (message.ack != null) cursor.ack(message.ack.seq)
    else if (message.cancel != null) task.cancel()
    else throw new ProtocolError('a second Submit on one task stream')
  }
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

/** Tell the master why its task was refused (it shows the user), then close. */
async function reject (framed: FramedStream, taskId: string, err: Error, timeoutMs: number): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs)
  await framed.write({ taskId: taskId.slice(0, MAX_TASK_ID_LENGTH), seq: 1, timeMs: Date.now(), state: TaskState.REJECTED, error: { code: 'INVALID_SPEC', message: err.message } }, TaskEventCodec, signal)
  await framed.close(signal)
}

/**
 * Send a task's events on `framed` from `fromSeq` to its end, reading the master's Acks and
 * Cancel meanwhile; then close. Shared by Submit (task protocol) and Attach (node protocol).
 */
export async function streamTaskEvents (framed: FramedStream, task: EventLog, fromSeq: number, ackTimeoutMs = ACK_TIMEOUT_MS): Promise<void> {
  const { stream } = framed
  const life = new AbortController()
  const cursor = new EventCursor(task, fromSeq)
  const reading = readMasterMessages(framed, task, cursor, life.signal).catch((err: unknown) => {
    if (life.signal.aborted) return
    stream.abort(toError(err))
    life.abort() // the master is gone: stop waiting for its acks
  })
  try {
    for (let event = await cursor.next(life.signal, ackTimeoutMs); event != null; event = await cursor.next(life.signal, ackTimeoutMs)) {
      // What is on disk by now goes in the same write: a task's events mostly come in bursts.
      const events = [event, ...cursor.ready(WRITE_BATCH_EVENTS, WRITE_BATCH_BYTES)]
      await framed.writeAll(events, TaskEventCodec, AbortSignal.timeout(ackTimeoutMs))
    }
  } finally {
    life.abort()
    await reading
  }
  // After the master's reader stopped: closing ends reading, which that reader would take for the master going away.
  await framed.close(AbortSignal.timeout(ackTimeoutMs))
}

async function serveTask (stream: Stream, connection: Connection, host: TaskHost, nameOf: (peer: string) => string, onBadStream: (remote: PeerId, err: Error) => void, timeouts: TaskProtocolTimeouts): Promise<void> {
  const framed = new FramedStream(stream, MAX_MASTER_FRAME_BYTES)
  try {
    const frame = await framed.readFrame(AbortSignal.timeout(timeouts.submitMs))
    let first: MasterMessage
    try {
      first = decodeFrame(MasterMessage, frame, MASTER_MESSAGE_LIMITS)
    } catch (err) {
      const taskId = submittedTaskId(frame)
      if (taskId == null) throw err
      await reject(framed, taskId, toError(err), timeouts.submitMs)
      return
    }
    checkOneOf(first)
    if (first.submit == null) throw new ProtocolError('the first message on a task stream must be Submit')
    let spec: TaskSpec
    try {
      spec = validateSpec(first.submit.spec)
    } catch (err) {
      await reject(framed, first.submit.spec?.id ?? '', toError(err), timeouts.submitMs)
      return
    }
    const submitter = connection.remotePeer.toString()
    const task = host.submit(spec, submitter, nameOf(submitter))
    await streamTaskEvents(framed, task, 1, timeouts.ackMs)
  } catch (err) {
    const error = toError(err)
    onBadStream(connection.remotePeer, error)
    stream.abort(error)
  }
}

export interface TaskProtocolInit {
  /** Who takes the tasks: this node's worker. */
  host: TaskHost
  /** A peer's human name, if this node knows it (recorded with the tasks it sends). */
  nameOf?: (peerId: string) => string
  onBadStream?: (remote: PeerId, err: Error) => void
  /** TASK_PROTOCOL_TIMEOUTS unless given: a test that waits out a deadline gives a short one. */
  timeouts?: Partial<TaskProtocolTimeouts>
}

export async function registerTaskProtocol (libp2p: StreamRegistrar, init: TaskProtocolInit): Promise<void> {
  const timeouts = { ...TASK_PROTOCOL_TIMEOUTS, ...init.timeouts }
  await libp2p.handle(TASK_PROTOCOL, async (stream, connection) => {
    await serveTask(stream, connection, init.host, init.nameOf ?? (() => ''), init.onBadStream ?? (() => {}), timeouts)
  }, { maxInboundStreams: TASK_MAX_INBOUND_STREAMS, maxOutboundStreams: TASK_MAX_OUTBOUND_STREAMS })
}

export function checkEvent (event: TaskEvent, taskId: string, expectedSeq: number, previous: TaskState | undefined): void {
  if (event.taskId !== taskId) throw new ProtocolError(`the worker sent an event for task ${event.taskId.slice(0, 40)}, not ${taskId}`)
  if (event.seq !== expectedSeq) throw new ProtocolError(`the worker sent event ${event.seq} where ${expectedSeq} was due`)
  if (previous != null && isTerminal(previous)) throw new ProtocolError('the worker sent an event after the terminal one')
  if (event.log != null) checkLogChunk(event.log)
}

/**
 * Read a task's events from a worker's stream, from `fromSeq` on, acknowledging as we go,
 * until the terminal one; a stream that ends before it throws (the worker or the link failed).
 */
export function readTaskEvents (framed: FramedStream, taskId: string, fromSeq: number, signal?: AbortSignal): TaskSession {
  const { stream } = framed
  const writeDeadline = (): AbortSignal => AbortSignal.timeout(ACK_TIMEOUT_MS)
  const life = signal ?? new AbortController().signal
  return {
    events: (async function * () {
      let previous: TaskState | undefined
      let seq = fromSeq - 1
      let failure: Error | undefined
      try {
        while (previous == null || !isTerminal(previous)) {
          const event = await framed.read(TaskEventCodec, life, TASK_EVENT_LIMITS)
          checkEvent(event, taskId, seq + 1, previous)
          seq = event.seq
          previous = event.state
          yield event
          // Acknowledged once the reader has taken it (a master has it on disk by then). A
          // reader that stops at the terminal event sends no last ack: the worker needs none.
          if (seq % ACK_EVERY_EVENTS === 0 || isTerminal(event.state)) {
            await framed.write({ ack: { seq } }, MasterMessage, writeDeadline())
          }
        }
      } catch (err) {
        failure = toError(err)
        throw err
      } finally {
        // Also when the reader stops at the terminal event without asking for more: an open
        // write side would hold one of the connection's task-stream slots for good.
        if (failure == null && previous != null && isTerminal(previous)) await framed.close(writeDeadline()).catch(() => {})
        else stream.abort(failure ?? new ProtocolError('the reader stopped before the task ended'))
      }
    })(),
    cancel: async () => {
      await framed.write({ cancel: {} }, MasterMessage, writeDeadline())
    }
  }
}
