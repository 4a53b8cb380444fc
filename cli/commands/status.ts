import type { TaskEventJson } from '../../node/src/protocol/task-messages.ts'
import type { TaskStatusView } from '../../node/src/store/task-views.ts'
import { formatBytes, formatDuration } from '../../node/src/units.ts'
import type { ClientOptions } from '../client.ts'
import { formatResources, printJson, type Printer } from '../render.ts'
import { openTasks } from '../task-access.ts'
import { stateText } from './tasks.ts'

/** One event's detail, for the events list of `status`. */
function detail (event: TaskEventJson): string {
  if (event.queuedPosition != null) return `position ${event.queuedPosition}`
  if (event.pull != null) return `pulled ${formatBytes(event.pull.doneBytes)}${event.pull.totalBytes > 0 ? ` of ${formatBytes(event.pull.totalBytes)}` : ''}`
  if (event.containerId != null) return `container ${event.containerId.slice(0, 12)}`
  if (event.transfer != null) return `${event.transfer.direction}: ${formatBytes(event.transfer.doneBytes)}, ${event.transfer.doneFiles} files`
  if (event.truncated != null) return event.truncated.cause === 'engine-log-gap' ? `output after ${formatBytes(event.truncated.limitBytes)} lost while the worker was down` : `output past ${formatBytes(event.truncated.limitBytes)} not kept`
  const exit = event.exit != null ? `exit ${event.exit.code}${event.exit.oomKilled ? ', out of memory' : ''}${event.exit.timedOut ? ', timed out' : ''}` : ''
  const error = event.error != null ? `${event.error.code}: ${event.error.message}` : ''
  return [exit, error].filter(text => text !== '').join('; ')
}

function render (task: TaskStatusView): string {
  const rows: Array<[string, string | undefined]> = [
    ['Task', task.taskId],
    ['State', stateText(task)],
    ['Role', task.role === 'submitted' ? 'sent by this node' : task.role === 'executed' ? 'run by this node' : 'sent to and run by this node'],
    [task.role === 'executed' ? 'Submitter' : 'Worker', `${task.peerName !== '' ? `${task.peerName} ` : ''}(${task.peerId})`],
    ['Image', task.image],
    ['Command', task.command.length > 0 ? task.command.join(' ') : '(image default)'],
    ['Resources', formatResources(task.resources)],
    ['Created', task.createdAt],
    ['Started', task.startedAt],
    ['Finished', task.finishedAt],
    ['Duration', task.durationMs != null ? formatDuration(task.durationMs) : undefined],
    ['Exit code', task.exitCode != null ? String(task.exitCode) : undefined],
    ['Error', task.error != null ? `${task.error.code}: ${task.error.message}` : undefined],
    ['Output', `${formatBytes(task.logBytes.stdout)} stdout, ${formatBytes(task.logBytes.stderr)} stderr${task.logTruncated ? ' (truncated)' : ''}`],
    ['Note', task.note]
  ]
  const lines = rows.filter((row): row is [string, string] => row[1] != null).map(([key, value]) => `${`${key}:`.padEnd(11)} ${value}`)
  if (task.attempts.length > 1) {
    lines.push('', 'Attempts:')
    for (const attempt of task.attempts) {
      lines.push(`  ${String(attempt.attempt).padStart(2)}  ${(attempt.peerName !== '' ? attempt.peerName : '(not placed)').padEnd(16)}  ${attempt.state.padEnd(9)}  ${attempt.error != null ? `${attempt.error.code}: ${attempt.error.message}` : ''}`.trimEnd())
    }
  }
  const outputs = task.events.findLast(event => event.outputs != null)?.outputs
  if (outputs != null && outputs.length > 0) {
    lines.push('', 'Outputs (kept by the worker; "cloudai results" fetches them):')
    for (const set of outputs) {
      lines.push(`  ${set.path}  ${set.files} file${set.files === 1 ? '' : 's'}  ${formatBytes(set.bytes)}  sha256 ${set.sha256}  ${set.complete ? 'complete' : `incomplete: ${set.note ?? ''}`}`)
    }
  }
  lines.push('', task.attempts.length > 1 ? `Events (attempt ${task.attempt}):` : 'Events:')
  task.events.forEach((event, i) => {
    // The events held are the first half and the last half: say where the others were left out.
    if (task.eventsOmitted != null && i === task.events.length / 2) lines.push(`        … ${task.eventsOmitted} more events (${task.events[i - 1].seq + 1} to ${event.seq - 1}) not shown`)
    lines.push(`  ${String(event.seq).padStart(4)}  ${event.time}  ${event.state.padEnd(9)}  ${detail(event)}`.trimEnd())
  })
  return lines.join('\n')
}

/** One task's state, peer, timings, resources and events. */
export async function status (idOrPrefix: string, options: ClientOptions & { json?: boolean }, print: Printer): Promise<void> {
  const access = await openTasks(options)
  try {
    const task = await access.status(idOrPrefix)
    if (options.json === true) printJson(print, task)
    else print.out(render(task))
  } finally {
    access.close()
  }
}
