import type { Libp2p, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { EventCursor } from '../protocol/ack-window.ts'
import { attachToPeer, cancelOnPeer, requestStatus } from '../protocol/node-protocol.ts'
import type { EventLog, TaskStanding } from '../protocol/task-host.ts'
import type { TaskSpec } from '../protocol/task-messages.ts'
import { ACK_TIMEOUT_MS, type TaskSession } from '../protocol/task-protocol.ts'
import type { TaskStreams } from '../protocol/task-streams.ts'
import type { Worker } from '../worker/worker.ts'
import type { PeerWatch } from './peer-watch.ts'
import type { CandidateStatus } from './placement.ts'

/**
 * How a master reaches the worker of one task: this node's own worker, or a peer's over
 * libp2p. The master chooses once, when it picks the worker; everything after (send, follow,
 * re-attach, cancel, probe) is the same code for both.
 */
export interface WorkerLink {
  /** Send the task; its events follow from seq 1. Idempotent: a task the worker knows is attached to. */
  submit: (spec: TaskSpec, signal: AbortSignal) => Promise<TaskSession>
  /** Follow a task from `fromSeq`; TaskNotFoundError when the worker does not know it. */
  attach: (taskId: string, fromSeq: number, signal: AbortSignal) => Promise<TaskSession>
  /** Cancel a task; says how it stood. TaskNotFoundError when the worker does not know it. */
  cancel: (taskId: string, signal: AbortSignal) => Promise<TaskStanding>
  /** The worker's status now, for placement. */
  status: (signal: AbortSignal) => Promise<CandidateStatus>
  /** Call `onSilent` when the worker stops answering; returns the function that stops watching. */
  watch: (onSilent: () => void) => () => void
  /** After this node restarted: the last seq to count as seen, given the last one the master recorded. */
  resumeAfter: (recordedSeq: number) => number
}

/** Follow a task on this node's own worker, with the same flow control as a stream has. */
function localSession (task: EventLog, fromSeq: number, signal: AbortSignal): TaskSession {
  return {
    events: (async function * () {
      const cursor = new EventCursor(task, fromSeq)
      for (let event = await cursor.next(signal, ACK_TIMEOUT_MS); event != null; event = await cursor.next(signal, ACK_TIMEOUT_MS)) {
        cursor.ack(event.seq)
        yield event
      }
    })(),
    cancel: async () => { task.cancel() }
  }
}

/** The worker is this node's own (`self`): no stream, no probe; the node itself may do anything to its tasks. */
export function localLink (worker: Worker, self: { peerId: string, name: string }, status: () => CandidateStatus): WorkerLink {
  return {
    submit: async (spec, signal) => localSession(worker.submit(spec, self.peerId, self.name), 1, signal),
    attach: async (taskId, fromSeq, signal) => localSession(worker.taskFor(taskId), fromSeq, signal),
    cancel: async taskId => worker.cancel(taskId),
    status: async () => status(),
    watch: () => () => {},
    // The master's record shares its events with the worker's, which may be ahead of it:
    // read them all again, so that the record catches up with every state they passed.
    resumeAfter: () => 0
  }
}

/**
 * The worker is a peer: the master's one task stream to it to send (shared by all the tasks
 * sent there), the node protocol to attach, cancel and probe, the peer watch to notice silence.
 */
export function remoteLink (libp2p: Libp2p, taskStreams: TaskStreams, peerId: string, watch: PeerWatch): WorkerLink {
  // Parsed only when a request needs it: parsing a peer ID costs more than sending a task on an open stream.
  let parsed: PeerId | undefined
  const peer = (): PeerId => (parsed ??= peerIdFromString(peerId))
  return {
    submit: async (spec, signal) => await taskStreams.submit(peerId, spec, signal),
    attach: async (taskId, fromSeq, signal) => await attachToPeer(libp2p, peer(), taskId, fromSeq, signal),
    cancel: async (taskId, signal) => await cancelOnPeer(libp2p, peer(), taskId, signal),
    status: async signal => ({ ...(await requestStatus(libp2p, peer(), { signal })).status, peerId }),
    watch: onSilent => watch.watch(peerId, onSilent),
    resumeAfter: recordedSeq => recordedSeq
  }
}
