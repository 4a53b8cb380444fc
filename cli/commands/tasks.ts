import { formatDuration } from '../../node/src/units.ts'
import type { TaskView } from '../../node/src/store/task-views.ts'
import type { ClientOptions } from '../client.ts'
import { colors, printJson, shortId, table, type Printer } from '../render.ts'
import { openTasks } from '../task-access.ts'

export interface TasksOptions extends ClientOptions {
  json?: boolean
  limit?: number
  state?: string
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

/** The task history of this node: what it sent and what it ran, newest first. */
export async function tasks (options: TasksOptions, print: Printer): Promise<void> {
  const access = await openTasks(options)
  try {
    const list = await access.list({ limit: options.limit, state: options.state })
    if (options.json === true) {
      printJson(print, list)
      return
    }
    if (list.length === 0) {
      print.out(options.state != null ? `No ${options.state} tasks.` : 'No tasks yet. Send one with "cloudai task <peer> <image>".')
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
  } finally {
    access.close()
  }
}
