import { DEFAULT_PAGE_TASKS } from '../../node/src/defaults.ts'
import { formatDuration } from '../../node/src/units.ts'
import type { TaskView } from '../../node/src/store/task-views.ts'
import type { ClientOptions } from '../client.ts'
import { colors, printJson, shortId, table, type Printer } from '../render.ts'
import { openTasks } from '../task-access.ts'

export interface TasksOptions extends ClientOptions {
  json?: boolean
  limit?: number
  state?: string
  /** The page after this task (an id or a unique prefix). */
  before?: string
}

const ROLE: Record<TaskView['role'], string> = { submitted: 'sent', executed: 'ran', both: 'self' }

/** How a state reads in the table: an unreachable worker is shown beside it (a view, not a state). */
export function stateText (task: TaskView): string {
  const attempt = task.attempt > 1 ? ` (attempt ${task.attempt})` : ''
  if (task.unreachableSince != null) return `${task.state}${attempt} ${colors.yellow(`(UNREACHABLE since ${task.unreachableSince})`)}`
  if (task.state === 'SUCCEEDED') return colors.green(task.state) + attempt
  if (['FAILED', 'LOST', 'REJECTED', 'CANCELLED'].includes(task.state)) return colors.red(task.state) + attempt
  return task.state + attempt
}

/** The command that shows the page after `last`, with the same options. */
function nextPage (last: string, options: TasksOptions): string {
  return ['cloudai tasks --before', last, ...(options.limit != null ? ['--limit', String(options.limit)] : []), ...(options.state != null ? ['--state', options.state] : [])].join(' ')
}

/** The task history of this node, a page at a time: what it sent and what it ran, newest first. */
export async function tasks (options: TasksOptions, print: Printer): Promise<void> {
  const access = await openTasks(options)
  try {
    const list = await access.list({ limit: options.limit, state: options.state, ...(options.before != null ? { before: options.before } : {}) })
    if (options.json === true) {
      printJson(print, list)
      return
    }
    if (list.length === 0) {
      const which = options.state != null ? `${options.state} tasks` : 'tasks'
      print.out(options.before != null ? `No ${which} before ${options.before}.` : options.state != null ? `No ${which}.` : 'No tasks yet. Send one with "cloudai task <peer> <image>".')
      return
    }
    const now = Date.now()
    print.out(table(['ID', 'Image', 'Peer', 'Role', 'State', 'Exit', 'Age', 'Duration'], list.map(task => [
      task.taskId,
      task.image,
      task.peerName !== '' ? task.peerName : shortId(task.peerId),
      ROLE[task.role],
      stateText(task),
      task.exitCode != null ? String(task.exitCode) : '',
      formatDuration(now - Date.parse(task.createdAt)),
      task.durationMs != null ? formatDuration(task.durationMs) : ''
    ])))
    // A full page: there may be more.
    if (list.length === (options.limit ?? DEFAULT_PAGE_TASKS)) print.out(`Older tasks: ${nextPage(list[list.length - 1].taskId, options)}`)
  } finally {
    access.close()
  }
}
