/** The task store's rows as the rest of the node sees them, and how a row becomes one. */
import type { TaskSpec, TaskState } from '../protocol/task-messages.ts'

/** Which side of a task this node is: it sent the task (master) or runs it (worker). */
export type TaskRole = 'submitted' | 'executed'

/** One row of the tasks table, as the rest of the node sees it. */
export interface TaskRecord {
  taskId: string
  role: TaskRole
  attempt: number
  spec: TaskSpec
  /** Submitted: the worker it was sent to. Executed: the master that sent it. */
  peerId: string
  peerName: string
  state: TaskState
  createdMs: number
  updatedMs: number
  startedMs?: number
  finishedMs?: number
  exitCode?: number
  errorCode?: string
  errorMessage?: string
  containerId?: string
  /** What the master noticed that the events do not say (a stale copy cancelled, a late result ignored). */
  note?: string
  /** How the master was asked to place and retry it (submitted tasks). */
  placement?: PlacementRecord
  lastSeq: number
}

/** A submitted task's placement and retry options, as recorded for a master that restarts. */
export interface PlacementRecord {
  /** What the user named: a peer, or `auto`. */
  target: string
  policy?: 'spread' | 'binpack'
  constraints?: Record<string, string>
  retries: number
  retryOnExit: boolean
}

/** One attempt of a submitted task: where it ran and how it ended. */
export interface AttemptRecord {
  attempt: number
  peerId: string
  peerName: string
  state: TaskState
  createdMs: number
  finishedMs?: number
  errorCode?: string
  errorMessage?: string
}

export interface TaskRow {
  task_id: string
  role: TaskRole
  attempt: number
  spec: string
  peer_id: string
  peer_name: string
  state: string
  created_ms: number
  updated_ms: number
  started_ms: number | null
  finished_ms: number | null
  exit_code: number | null
  error_code: string | null
  error_message: string | null
  container_id: string | null
  note: string | null
  placement: string | null
  last_seq: number
}

export function toRecord (row: TaskRow): TaskRecord {
  const optional = <K extends string, V>(key: K, value: V | null): Partial<Record<K, V>> =>
    (value != null ? { [key]: value } as Record<K, V> : {})
  return {
    taskId: row.task_id,
    role: row.role,
    attempt: row.attempt,
    spec: JSON.parse(row.spec) as TaskSpec,
    peerId: row.peer_id,
    peerName: row.peer_name,
    state: row.state as TaskState,
    createdMs: row.created_ms,
    updatedMs: row.updated_ms,
    ...optional('startedMs', row.started_ms),
    ...optional('finishedMs', row.finished_ms),
    ...optional('exitCode', row.exit_code),
    ...optional('errorCode', row.error_code),
    ...optional('errorMessage', row.error_message),
    ...optional('containerId', row.container_id),
    ...optional('note', row.note),
    ...(row.placement != null ? { placement: JSON.parse(row.placement) as PlacementRecord } : {}),
    lastSeq: row.last_seq
  }
}

