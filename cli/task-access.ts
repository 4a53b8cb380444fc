import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { TaskState } from '../node/src/protocol/task-messages.ts'
import type { TaskStore } from '../node/src/store/store.ts'
import type { TaskStatusView, TaskView } from '../node/src/store/task-views.ts'
import { ApiError, findApi, NoDaemonError, type ApiClient, type ClientOptions } from './client.ts'
import { EXIT, ExitError } from './exit.ts'
import { ndjsonSource, storeLines, type TaskSource } from './task-source.ts'

export interface CancelReply {
  taskId: string
  /** The state when the cancel arrived; a terminal one means the task had ended already. */
  state: TaskState
  cancelled: boolean
}

/**
 * The task commands' view of this node's tasks: through the daemon when one runs, else
 * straight from the store in the data dir (history survives a stopped or crashed daemon).
 */
export interface TaskAccess {
  /** Whether a daemon answers: only then can a task be followed live or cancelled. */
  readonly live: boolean
  list(options: { limit?: number, state?: string }): Promise<TaskView[]>
  status(idOrPrefix: string): Promise<TaskStatusView>
  /** The task's lines: `{task}` first, then its feed (with follow, until the task ends). */
  lines(idOrPrefix: string, options: { fromSeq?: number, follow: boolean }): Promise<TaskSource>
  cancel(idOrPrefix: string): Promise<CancelReply>
  close(): void
}

/** The named errors of a task lookup, as exit codes with their messages. */
export function taskExit (err: any): never {
  if (err instanceof ExitError) throw err
  const code = err instanceof ApiError ? err.code : err?.name
  if (code === 'UNKNOWN_TASK' || code === 'TaskNotFoundError') throw new ExitError(EXIT.FAILURE, err.message)
  if (code === 'AMBIGUOUS_TASK' || code === 'AmbiguousTaskError') throw new ExitError(EXIT.USAGE, err.message)
  throw err
}

function daemonAccess (client: ApiClient): TaskAccess {
  const path = (idOrPrefix: string): string => `/v1/tasks/${encodeURIComponent(idOrPrefix)}`
  return {
    live: true,
    list: async ({ limit, state }) => {
      const query = new URLSearchParams({ ...(limit != null ? { limit: String(limit) } : {}), ...(state != null ? { state } : {}) })
      return await client.request<TaskView[]>('GET', `/v1/tasks${query.size > 0 ? `?${query}` : ''}`)
    },
    status: async idOrPrefix => await client.request<TaskStatusView>('GET', path(idOrPrefix)),
    lines: async (idOrPrefix, { fromSeq, follow }) =>
      await ndjsonSource(client, 'GET', `${path(idOrPrefix)}/events?${new URLSearchParams({ ...(fromSeq != null ? { from: String(fromSeq) } : {}), follow: follow ? '1' : '0' })}`),
    cancel: async idOrPrefix => await client.request<CancelReply>('POST', `${path(idOrPrefix)}/cancel`),
    close: () => {}
  }
}

async function storeAccess (store: TaskStore): Promise<TaskAccess> {
  const { listTaskViews, resolveTaskId, taskRecord, taskStatusView } = await import('../node/src/store/task-views.ts')
  return {
    live: false,
    list: async ({ limit, state }) => listTaskViews(store, { limit, state: state as TaskState | undefined }, () => undefined),
    status: async idOrPrefix => taskStatusView(store, resolveTaskId(store, idOrPrefix)),
    lines: async (idOrPrefix, { fromSeq }) => {
      const taskId = resolveTaskId(store, idOrPrefix)
      const { peerId, peerName } = taskRecord(store, taskId)
      const stop = new AbortController()
      return {
        lines: (async function * () {
          yield { task: { taskId, peerId, peerName } }
          // No daemon: nothing is arriving, so what is stored is all there is.
          yield * storeLines(store, taskId, { fromSeq, follow: false, signal: stop.signal })
        })(),
        close: async () => { stop.abort() },
        keepsRunning: true
      }
    },
    cancel: async () => {
      throw new ExitError(EXIT.FAILURE, 'no daemon runs for this data dir: start it with "cloudai start" to cancel tasks (a restarted node picks its tasks up again)')
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
  return await storeAccess(TaskStore.open(options.dataDir))
}
