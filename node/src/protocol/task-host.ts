import type { PeerId } from '@libp2p/interface'
import type { PeerStatus } from './node-messages.ts'
import type { TaskEvent, TaskSpec, TaskState } from './task-messages.ts'

/**
 * What the two protocols serve, declared here so that protocol/ depends on no role: the
 * worker implements these, and the protocols only read and write the wire.
 */

/** One task's events as the protocols send them: stored in order, numbered from 1, read back by seq. */
export interface EventLog {
  readonly state: TaskState
  readonly lastSeq: number
  readonly finished: boolean
  /** The peer that submitted the task: the only one that may follow or cancel it. */
  readonly submitter: string
  eventAt(seq: number): TaskEvent | undefined
  /** Resolves on the next event (or `wake()`); rejects after `deadlineMs` or when `signal` aborts. */
  changed(signal: AbortSignal, deadlineMs?: number): Promise<void>
  /** Wake whoever waits in `changed()`: an acknowledgement opened the window. */
  wake(): void
  cancel(): void
}

/** How a task stood when a cancel reached it: a terminal state means it had ended already. */
export interface TaskStanding {
  state: TaskState
  /** False when the task had ended already. */
  cancelled: boolean
  lastSeq: number
}

/** What `/cloudai/tasks/1.0.0` serves: a worker that takes tasks. */
export interface TaskHost {
  /**
   * Accept a task, or return the one already known by its id (submission is idempotent).
   * Throws when the id belongs to a task of another submitter on this node (the stream is reset).
   */
  submit(spec: TaskSpec, submitter: string, submitterName: string): EventLog
}

/** What `/cloudai/node/1.0.0` serves. */
export interface NodeHost {
  /** This node's status, as answered to `remote`. */
  status: (remote: PeerId) => Promise<PeerStatus>
  /** The task `remote` submitted here; throws TaskNotFoundError or NotSubmitterError. */
  attach: (remote: PeerId, taskId: string) => EventLog
  /** Cancel a task `remote` submitted here; throws as `attach` does. */
  cancel: (remote: PeerId, taskId: string) => TaskStanding
  /** Called when a peer sent something we refused, for logs. */
  onBadRequest?: (remote: PeerId, err: Error) => void
  /** Status links (`StatusRequest.link`); without it, a link request is answered once, as a plain one. */
  links?: StatusLinkHost
}

/** What serving a status link needs: this node's status changes, and where the peer's go. */
export interface StatusLinkHost {
  /** This node's status now (with member hints), and its changes. */
  feed: { current: () => PeerStatus, listen: (onChange: (status: PeerStatus) => void) => () => void }
  /**
   * A peer opened a link and sent its status; `end` ends the link (a newer one from the
   * same peer replaces it). The returned object hears of the peer's later status and of
   * the link's end.
   */
  opened: (remote: PeerId, status: PeerStatus, end: () => void) => { status: (status: PeerStatus) => void, ended: () => void }
}
