import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_KEEP_FOR_MS } from '../node/src/defaults.ts'
import type { TaskState } from '../node/src/protocol/task-messages.ts'
import type { PruneReport, RetentionRules } from '../node/src/store/retention.ts'
import type { TaskStore } from '../node/src/store/store.ts'
import type { TaskStatusView, TaskView } from '../node/src/store/task-views.ts'
import type { TaskHistory } from '../node/src/tasks/task-history.ts'
import type { CancelReply } from '../node/src/tasks/task-service.ts'
import { findApi, NoDaemonError, type ApiClient, type ClientOptions } from './client.ts'
import { EXIT, ExitError } from './exit.ts'
import { ndjsonSource, type TaskSource } from './task-source.ts'

/**
 * The task commands' view of this node's tasks: through the daemon when one runs, else
 * straight from the store in the data dir (history survives a stopped or crashed daemon).
 */
export interface TaskAccess {
  /** Whether a daemon answers: only then can a task be followed live or cancelled. */
  readonly live: boolean
  /** One page of the history, newest first; `before`: after that task. */
  list(options: { limit?: number, state?: string, before?: string }): Promise<TaskView[]>
  status(idOrPrefix: string): Promise<TaskStatusView>
  /** The task's lines: `{task}` first, then its feed (with follow, until the task ends). */
  lines(idOrPrefix: string, options: { fromSeq?: number, follow: boolean }): Promise<TaskSource>
  cancel(idOrPrefix: string): Promise<CancelReply>
  /**
   * Remove the finished tasks the retention rules do not keep: a daemon's own rules, with
   * those given in their place; without a daemon, tasks that ended over 30 days ago (or
   * `olderThanMs`), and by size only when `keepBytes` is given (the daemon's `--keep-size`
   * is not known then, and a guess could remove what it keeps).
   */
  prune(rules: Partial<RetentionRules>): Promise<PruneReport>
  close(): void
}

function daemonAccess (client: ApiClient): TaskAccess {
  const path = (idOrPrefix: string): string => `/v1/tasks/${encodeURIComponent(idOrPrefix)}`
  return {
    live: true,
    list: async ({ limit, state, before }) => {
      const query = new URLSearchParams({ ...(limit != null ? { limit: String(limit) } : {}), ...(state != null ? { state } : {}), ...(before != null ? { before } : {}) })
      return await client.request<TaskView[]>('GET', `/v1/tasks${query.size > 0 ? `?${query}` : ''}`)
    },
    status: async idOrPrefix => await client.request<TaskStatusView>('GET', path(idOrPrefix)),
    lines: async (idOrPrefix, { fromSeq, follow }) =>
      await ndjsonSource(client, 'GET', `${path(idOrPrefix)}/events?${new URLSearchParams({ ...(fromSeq != null ? { from: String(fromSeq) } : {}), follow: follow ? '1' : '0' })}`),
    cancel: async idOrPrefix => await client.request<CancelReply>('POST', `${path(idOrPrefix)}/cancel`),
    prune: async rules => await client.request<PruneReport>('POST', '/v1/prune', rules),
    close: () => {}
  }
}

function storeAccess (store: TaskStore, history: TaskHistory): TaskAccess {
  return {
    live: false,
    list: async ({ limit, state, before }) => history.list({ limit, state: state as TaskState | undefined, ...(before != null ? { before } : {}) }),
    status: async idOrPrefix => history.status(idOrPrefix),
    lines: async (idOrPrefix, { fromSeq }) => {
      const stop = new AbortController()
      // No daemon: nothing is arriving, so what is stored is all there is.
      const { header, lines } = history.follow(idOrPrefix, { fromSeq, follow: false, signal: stop.signal })
      return {
        lines: (async function * () {
          yield { task: header }
          yield * lines
        })(),
        close: async () => { stop.abort() },
        keepsRunning: true
      }
    },
    cancel: async () => {
      throw new ExitError(EXIT.FAILURE, 'no daemon runs for this data dir: start it with "cloudai start" to cancel tasks (a restarted node picks its tasks up again)')
    },
    prune: async rules => {
      const { pruneHistory } = await import('../node/src/store/retention.ts')
      return await pruneHistory(store, { olderThanMs: DEFAULT_KEEP_FOR_MS, ...rules })
    },
    close: () => { store.close() }
  }
}

export async function openTasks (options: ClientOptions): Promise<TaskAccess> {
  const client = await findApi(options)
  if (client != null) {
    // A daemon that was killed leaves its api file behind: then read the store instead.
    const answers = await client.request('GET', '/v1/id').then(() => true, (err: unknown) => {
      if (err instanceof NoDaemonError) return false
      throw err
    })
    if (answers) return daemonAccess(client)
  }
  const { STORE_FILE, TaskStore } = await import('../node/src/store/store.ts')
  if (!existsSync(join(options.dataDir, STORE_FILE))) {
    throw new ExitError(EXIT.FAILURE, `no tasks yet: ${options.dataDir} has no task store (start a node with "cloudai start", or pass --data-dir)`)
  }
  const { TaskHistory } = await import('../node/src/tasks/task-history.ts')
  const store = TaskStore.open(options.dataDir)
  return storeAccess(store, new TaskHistory(store))
}
