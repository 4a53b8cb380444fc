import { LogStream, TaskState, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import type { TaskRole, TaskStore } from '../../node/src/store/store.ts'
import { storedSpec } from './store.ts'

/** A container's log chunk at its largest: output is stored in events of at most this much. */
export const OUTPUT_CHUNK_BYTES = 64 * 1024

export interface PastTask {
  /** `both`: a task this node sent to itself (two rows, one set of events). Default `submitted`. */
  role?: TaskRole | 'both'
  /** When it ended (ms since the epoch); undefined: it is still running. */
  endedAt?: number
  /** When it started running; default an hour before it ended (or a year ago for one still running). */
  startedAt?: number
  /** Output to record, in chunks of OUTPUT_CHUNK_BYTES. */
  outputBytes?: number
  /** Pull-progress events to record before it runs. */
  pullEvents?: number
  /** The other side: its worker (or its master, for a task it ran). A node that follows its unfinished tasks again needs a real peer ID. */
  peerId?: string
}

/** Distinct creation times: the store orders tasks by the millisecond they were recorded. */
export async function nextMillisecond (): Promise<void> {
  const start = Date.now()
  while (Date.now() === start) await new Promise(resolve => setTimeout(resolve, 1))
}

/**
 * Record a task as a node would have, its events dated in the past: RUNNING, its output, and
 * SUCCEEDED at `endedAt` (if it ended). Returns how many events it has.
 */
export function recordPastTask (store: TaskStore, taskId: string, task: PastTask = {}): number {
  const roles: TaskRole[] = task.role === 'both' ? ['submitted', 'executed'] : [task.role ?? 'submitted']
  const startedAt = task.startedAt ?? (task.endedAt != null ? task.endedAt - 3_600_000 : Date.now() - 365 * 86_400_000)
  const events: TaskEvent[] = []
  for (let pulled = 1; pulled <= (task.pullEvents ?? 0); pulled++) {
    events.push({ taskId, seq: events.length + 1, timeMs: startedAt, state: TaskState.PULLING, pull: { doneBytes: pulled, totalBytes: task.pullEvents! } })
  }
  events.push({ taskId, seq: events.length + 1, timeMs: startedAt, state: TaskState.RUNNING, containerId: 'c0ffee' })
  for (let written = 0; written < (task.outputBytes ?? 0); written += OUTPUT_CHUNK_BYTES) {
    const data = new Uint8Array(Math.min(OUTPUT_CHUNK_BYTES, task.outputBytes! - written)).fill(0x61) as Uint8Array<ArrayBuffer>
    events.push({ taskId, seq: events.length + 1, timeMs: startedAt, state: TaskState.RUNNING, log: { stream: LogStream.STDOUT, data, segments: [] } })
  }
  if (task.endedAt != null) events.push({ taskId, seq: events.length + 1, timeMs: task.endedAt, state: TaskState.SUCCEEDED, exit: { code: 0, oomKilled: false, timedOut: false } })
  for (const role of roles) {
    store.createTask({ spec: storedSpec(taskId), role, peerId: task.peerId ?? 'peer', peerName: 'peer' })
    for (const event of events) store.recordEvent(role, 1, event)
  }
  return events.length
}
