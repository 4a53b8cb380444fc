import { eventToJson, isTerminal, type TaskEvent, type TaskEventJson } from '../protocol/task-messages.ts'
import type { TaskStore } from './store.ts'

/** What someone following a task sees: its events, and changes in whether its worker answers. */
export type FeedItem =
  | { event: TaskEvent, attempt: number }
  | { attempt: AttemptStart }
  | { unreachable: { since: number } }
  | { reachable: Record<string, never> }

/** A task placed again: the events that follow are the new attempt's, from seq 1. */
export interface AttemptStart {
  attempt: number
  peerId: string
  peerName: string
}

/** A feed item as one NDJSON line of the API (and what the CLI reads). */
export type FeedLine =
  | { event: TaskEventJson & { attempt: number } }
  | { attempt: AttemptStart }
  | { unreachable: { since: string } }
  | { reachable: Record<string, never> }

export function feedLine (item: FeedItem): FeedLine {
  if ('event' in item) return { event: { ...eventToJson(item.event), attempt: item.attempt } }
  if ('unreachable' in item) return { unreachable: { since: new Date(item.unreachable.since).toISOString() } }
  return item
}

/** Events read from the store per query. */
const FEED_BATCH = 256

export interface FeedOptions {
  fromSeq?: number
  /** Keep waiting for new events until the terminal one (`logs -f`); otherwise stop at the last stored. */
  follow: boolean
  /** Since when the task's worker has been unreachable, if it is (the master's view). */
  unreachableSince?: () => number | undefined
  signal: AbortSignal
}

/** The attempt after `attempt`, once this node (as the task's master) has started it. */
function nextAttempt (store: TaskStore, taskId: string, attempt: number): boolean {
  return (store.currentAttempt(taskId, 'submitted') ?? 0) > attempt
}

/**
 * A task's events from the store, in order, each once, from `attempt` on; with `follow`, new
 * ones as they are stored, until the terminal event of its last attempt (a task this node
 * sent goes on when it is placed again). Memory stays flat however far behind the reader is.
 */
export async function * taskFeed (store: TaskStore, taskId: string, first: number, options: FeedOptions): AsyncGenerator<FeedItem> {
  let attempt = first
  let announced = attempt
  let nextSeq = Math.max(1, options.fromSeq ?? 1)
  let reportedUnreachable: number | undefined
  while (!options.signal.aborted) {
    const events = store.events(taskId, attempt, nextSeq, FEED_BATCH)
    if (announced < attempt) {
      const started = store.attempts(taskId).find(record => record.attempt === attempt)
      // Announced once its worker is chosen, or once it has ended without one.
      if (started != null && (started.peerId !== '' || events.length > 0)) {
        announced = attempt
        yield { attempt: { attempt, peerId: started.peerId, peerName: started.peerName } }
        continue
      }
    }
    if (events.length > 0 && announced === attempt) {
      for (const event of events) {
        yield { event, attempt }
        nextSeq = event.seq + 1
        if (isTerminal(event.state)) {
          if (!nextAttempt(store, taskId, attempt)) return
          attempt++
          nextSeq = 1
          reportedUnreachable = undefined // that was the last attempt's worker
          break
        }
      }
      continue // the reader took its time: look again before waiting
    }
    if (!options.follow) return
    // A reader that starts past the end of a finished task has nothing left to wait for.
    const last = store.lastEvent(taskId, attempt)
    if (last != null && isTerminal(last.state)) {
      if (!nextAttempt(store, taskId, attempt)) return
      attempt++
      nextSeq = 1
      continue
    }
    const since = options.unreachableSince?.()
    if (since !== reportedUnreachable) {
      reportedUnreachable = since
      yield since != null ? { unreachable: { since } } : { reachable: {} }
      continue
    }
    // Reached only straight after reads that found nothing, with no yield between: no event can slip past.
    await store.changed(taskId, options.signal)
  }
}
