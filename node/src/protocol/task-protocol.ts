import { TaskEvent as TaskEventCodec } from '../../../protocols/task.ts'
import { ProtocolError, toError } from '../errors.ts'
import { EventCursor } from './ack-window.ts'
import { FramedStream } from './framing.ts'
import { checkLogChunk, TASK_EVENT_LIMITS } from './task-output.ts'
import type { EventLog } from './task-host.ts'
import { checkOneOf, isTerminal, MASTER_MESSAGE_LIMITS, MasterMessage, type TaskEvent, type TaskState } from './task-messages.ts'
import { sharedDeadline } from './shared-deadline.ts'

/**
 * What every stream of task events shares, and one task's events on a stream of its own: the
 * node protocol's Attach, which follows a task again after a failure or a restart. Tasks are
 * sent on the master's shared task stream (`tasks-protocol.ts`, `task-streams.ts`).
 */

/** A spec with the largest command and environment we accept fits. */
export const MAX_MASTER_FRAME_BYTES = 1024 * 1024
/** A 64 KiB log chunk plus the event's other fields. */
export const MAX_EVENT_FRAME_BYTES = 64 * 1024 + 4096
/** A master that lets the ack window fill and acknowledges nothing for this long is cut off; the task runs on. */
export const ACK_TIMEOUT_MS = 60_000
/** The master acknowledges every this many events, well inside ACK_WINDOW_EVENTS. */
export const ACK_EVERY_EVENTS = 16
/** Events sent in one write at most (`EventCursor.ready`), and about this much output in them. */
export const WRITE_BATCH_EVENTS = 16
export const WRITE_BATCH_BYTES = 128 * 1024

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
    else throw new ProtocolError('only Ack and Cancel may follow an Attach')
  }
}

/**
 * Send a task's events on `framed` from `fromSeq` to its end, reading the master's Acks and
 * Cancel meanwhile; then close. Serves the node protocol's Attach.
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
      await framed.writeAll(events, TaskEventCodec, sharedDeadline(ackTimeoutMs))
    }
  } finally {
    life.abort()
    await reading
  }
  // After the master's reader stopped: closing ends reading, which that reader would take for the master going away.
  await framed.close(sharedDeadline(ackTimeoutMs))
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
  const writeDeadline = (): AbortSignal => sharedDeadline(ACK_TIMEOUT_MS)
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
