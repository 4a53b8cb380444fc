/** One task: its spec, attempts, every state change with its time, live output (stdout and stderr apart), exit, error, and cancel. */
import type { Page } from './app.ts'
import type { TaskOutputJson } from '../node/src/protocol/output-json.ts'
import type { OutputSetJson, TaskEventJson } from '../node/src/protocol/task-messages.ts'
import { getJson, ndjson, postJson, type TaskStatusView } from './api.ts'
import { el, replace } from './dom.ts'
import { clockTime, formatBytes, formatCores, formatDuration, outputSetLine, shortId, transferLine } from './format.ts'
import { fromBase64, OutputView } from './output-view.ts'

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED', 'LOST'])
/** State changes come in bursts (QUEUED, PULLING, STARTING, RUNNING within milliseconds): the facts are read again once per burst. */
const REFRESH_DEBOUNCE_MS = 200

interface EventLine {
  seq: number
  time: string
  state: string
  attempt: number
  queuedPosition?: number
  containerId?: string
  log?: TaskOutputJson
  pull?: { doneBytes: number, totalBytes: number }
  exit?: { code: number, oomKilled: boolean, timedOut: boolean }
  error?: { code: string, message: string }
  truncated?: { limitBytes: number, cause: string }
  transfer?: TaskEventJson['transfer']
  outputs?: OutputSetJson[]
}

function detailOf (event: EventLine): string {
  if (event.exit != null) return `exit code ${event.exit.code}${event.exit.oomKilled ? ' (out of memory)' : ''}${event.exit.timedOut ? ' (timed out)' : ''}`
  if (event.error != null) return `${event.error.code}: ${event.error.message}`
  if (event.queuedPosition != null) return `position ${event.queuedPosition} in the queue`
  if (event.containerId != null) return `container ${event.containerId.slice(0, 12)}`
  if (event.truncated != null) return `output cut at ${formatBytes(event.truncated.limitBytes)} (${event.truncated.cause})`
  if (event.transfer != null) return transferLine(event.transfer)
  return ''
}

export const renderTask: Page = ({ main }, taskId) => {
  const stopped = new AbortController()
  const stateBadge = el('span', { id: 'task-state', class: 'state', 'aria-live': 'polite' }, '…')
  const cancelButton = el('button', { type: 'button', class: 'danger', id: 'cancel', disabled: true }, 'Cancel task')
  const notice = el('p', { id: 'notice', role: 'status' })
  const facts = el('dl', { class: 'facts', id: 'facts' })
  const attempts = el('div', { id: 'attempts' })
  const results = el('div', { id: 'results' })
  const changes = el('tbody', { id: 'state-changes' })
  const stdout = new OutputView('stdout')
  const stderr = new OutputView('stderr')
  replace(main,
    el('h1', {}, 'Task ', el('span', { class: 'mono', title: taskId }, shortId(taskId)), ' ', stateBadge, ' ', cancelButton),
    notice,
    facts,
    attempts,
    results,
    el('h2', {}, 'State changes'),
    el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, el('tr', {}, ...['#', 'Time', 'State', 'Attempt', 'Detail'].map(h => el('th', { scope: 'col' }, h)))), changes)),
    el('h2', {}, 'Output'),
    el('div', { class: 'output' }, stdout.element, stderr.element))

  let state = ''
  const showState = (next: string): void => {
    state = next
    stateBadge.textContent = next
    stateBadge.className = `state ${next}`
    stateBadge.dataset.state = next
    cancelButton.disabled = TERMINAL.has(next)
  }

  const drawFacts = (task: TaskStatusView): void => {
    if (state === '' || TERMINAL.has(task.state)) showState(task.state)
    const fact = (name: string, value: string | Node | null | undefined): Array<Node | null> => value == null || value === '' ? [null] : [el('dt', {}, name), el('dd', { 'data-fact': name.toLowerCase().replace(/ /g, '-') }, value)]
    const r = task.resources
    replace(facts,
      ...fact('Task ID', el('span', { class: 'mono' }, task.taskId)),
      ...fact('Image', el('span', { class: 'mono' }, task.image)),
      ...fact('Command', el('span', { class: 'mono' }, task.command.length > 0 ? task.command.join(' ') : '(image default)')),
      ...fact(task.role === 'executed' ? 'From' : 'Peer', `${task.peerName || ''} ${shortId(task.peerId)}`.trim()),
      ...fact('Role', task.role),
      ...fact('Resources', `${formatCores(r.cpu)} CPU, ${formatBytes(r.memoryBytes)} memory, ${formatBytes(r.storageBytes)} storage, ${r.gpus} GPU`),
      ...fact('Labels', Object.entries(task.labels).map(([k, v]) => `${k}=${v}`).join(', ')),
      ...fact('Created', task.createdAt),
      ...fact('Started', task.startedAt),
      ...fact('Finished', task.finishedAt),
      ...fact('Duration', task.durationMs != null ? formatDuration(task.durationMs) : undefined),
      ...fact('Exit code', task.exitCode != null ? String(task.exitCode) : undefined),
      ...fact('Error', task.error != null ? el('span', { class: 'error' }, `${task.error.code}: ${task.error.message}`) : undefined),
      ...fact('Unreachable', task.unreachableSince != null ? el('span', { class: 'error' }, `worker unreachable since ${task.unreachableSince}`) : undefined),
      ...fact('Note', task.note),
      ...fact('Output', `${formatBytes(task.logBytes.stdout)} stdout, ${formatBytes(task.logBytes.stderr)} stderr${task.logTruncated ? ' (cut at the limit)' : ''}`))
    replace(attempts, task.attempts.length > 1
      ? el('div', {}, el('h2', {}, 'Attempts'), el('div', { class: 'table-wrap' }, el('table', {},
        el('thead', {}, el('tr', {}, ...['Attempt', 'Peer', 'State', 'Created', 'Finished', 'Error'].map(h => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, ...task.attempts.map(a => el('tr', {},
          el('td', {}, String(a.attempt)), el('td', {}, a.peerName || shortId(a.peerId)), el('td', {}, el('span', { class: `state ${a.state}` }, a.state)),
          el('td', {}, clockTime(a.createdAt)), el('td', {}, clockTime(a.finishedAt)), el('td', {}, a.error != null ? `${a.error.code}: ${a.error.message}` : '')))))))
      : null)
  }

  const refresh = async (): Promise<void> => {
    try {
      drawFacts(await getJson<TaskStatusView>(`/v1/tasks/${encodeURIComponent(taskId)}`, stopped.signal))
    } catch (err) {
      if (!stopped.signal.aborted) { notice.textContent = (err as Error).message; notice.className = 'error' }
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const refreshSoon = (): void => {
    if (timer != null) return
    timer = setTimeout(() => { timer = undefined; void refresh() }, REFRESH_DEBOUNCE_MS)
  }

  const follow = async (): Promise<void> => {
    let lastState = ''
    for await (const line of ndjson(`/v1/tasks/${encodeURIComponent(taskId)}/events?follow=1`, { signal: stopped.signal })) {
      if ('event' in line) {
        const event = line.event as unknown as EventLine
        if (event.log != null) {
          // One stream's bytes, or output that switched streams, as segments in the order written.
          for (const piece of event.log.segments ?? [{ stream: event.log.stream, data: event.log.data }]) {
            (piece.stream === 'stderr' ? stderr : stdout).append(fromBase64(piece.data))
          }
          continue
        }
        if (event.pull != null) continue
        if (event.outputs != null) {
          // The task's result files, kept by its worker: the command that fetches them, and what each set holds.
          replace(results, el('h2', {}, 'Results'),
            el('p', {}, 'Fetch them with ', el('code', {}, `cloudai results ${taskId}`), '.'),
            el('ul', { class: 'mono' }, ...event.outputs.map(set => el('li', { 'data-output': set.path }, outputSetLine(set)))))
        }
        // The badge moves the moment the event arrives; the facts follow.
        showState(event.state)
        if (event.state !== lastState || detailOf(event) !== '') {
          changes.appendChild(el('tr', { 'data-state': event.state },
            el('td', {}, String(event.seq)), el('td', { title: event.time }, clockTime(event.time)),
            el('td', {}, el('span', { class: `state ${event.state}` }, event.state)), el('td', {}, String(event.attempt)), el('td', {}, detailOf(event))))
        }
        lastState = event.state
        refreshSoon()
      } else if ('unreachable' in line) {
        notice.textContent = `The worker does not answer (since ${line.unreachable.since}); following it again as soon as it does.`
        notice.className = 'error'
      } else if ('reachable' in line) {
        notice.textContent = ''
      } else if ('attempt' in line) {
        changes.appendChild(el('tr', {}, el('td', { colspan: 5, class: 'muted' }, `Attempt ${line.attempt.attempt} on ${line.attempt.peerName || shortId(line.attempt.peerId)}`)))
      }
    }
    stdout.end()
    stderr.end()
    void refresh()
  }

  cancelButton.addEventListener('click', () => {
    cancelButton.disabled = true
    notice.textContent = 'Cancelling…'
    notice.className = ''
    postJson<{ cancelled: boolean, state: string }>(`/v1/tasks/${encodeURIComponent(taskId)}/cancel`, undefined).then(reply => {
      notice.textContent = reply.cancelled ? 'Cancelled: the container is stopped (SIGTERM, then SIGKILL after 10 s).' : `Not cancelled: the task had ended (${reply.state}).`
    }, (err: Error) => {
      notice.textContent = err.message
      notice.className = 'error'
      cancelButton.disabled = TERMINAL.has(state)
    })
  })

  void refresh()
  follow().catch((err: Error) => {
    if (stopped.signal.aborted) return
    notice.textContent = `${err.message} (reload to follow again)`
    notice.className = 'error'
  })
  return () => { stopped.abort(); if (timer != null) clearTimeout(timer) }
}
