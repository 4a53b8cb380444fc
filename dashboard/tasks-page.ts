/** The history: newest first, filtered by state, peer and image, searched by id prefix, kept live by the daemon's feed. */
import type { Page } from './app.ts'
import { ApiFailure, getJson, type TaskView } from './api.ts'
import { el, replace } from './dom.ts'
import { ago, formatDuration, shortId } from './format.ts'
import { timeline } from './timeline.ts'

/** Tasks fetched per refresh: the newest page; older ones are one search away. */
const PAGE = 200
const STATES = ['PENDING', 'QUEUED', 'PULLING', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED', 'LOST']
/** A burst of changes (many tasks at once) refreshes the list once. */
const REFRESH_DEBOUNCE_MS = 150

export const renderTasks: Page = ({ main, live, params }) => {
  let tasks: TaskView[] = []
  /** A task found by its id prefix beyond the newest page. */
  let found: TaskView[] = []
  let selfName = ''
  const filters = {
    state: params.get('state') ?? '',
    peer: params.get('peer') ?? '',
    image: params.get('image') ?? '',
    q: params.get('q') ?? ''
  }
  const stateSelect = el('select', { id: 'filter-state', name: 'state' }, el('option', { value: '' }, 'any'), ...STATES.map(state => el('option', { value: state }, state)))
  stateSelect.value = filters.state
  const peerSelect = el('select', { id: 'filter-peer', name: 'peer' }, el('option', { value: '' }, 'any'))
  const imageInput = el('input', { id: 'filter-image', name: 'image', type: 'search', placeholder: 'part of the image', value: filters.image })
  const searchInput = el('input', { id: 'search', name: 'q', type: 'search', placeholder: 'task id prefix', value: filters.q, autocomplete: 'off' })
  const status = el('p', { class: 'muted', role: 'status' }, 'Loading…')
  const picture = el('div', { id: 'timeline' })
  const body = el('tbody', { id: 'task-rows' })
  replace(main,
    el('h1', {}, 'Tasks'),
    el('form', { class: 'filters', role: 'search', onsubmit: (event: Event) => { event.preventDefault() } },
      el('label', {}, 'State', stateSelect),
      el('label', {}, 'Peer', peerSelect),
      el('label', {}, 'Image', imageInput),
      el('label', {}, 'Search by id', searchInput)),
    status,
    picture,
    el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {}, ...['Task', 'State', 'Image', 'Command', 'Peer', 'Role', 'Created', 'Duration', 'Exit'].map(h => el('th', { scope: 'col' }, h)))),
      body)))

  const nodeOf = (task: TaskView): string => task.role === 'executed' ? (selfName || 'this node') : (task.role === 'both' ? (selfName || task.peerName) : (task.peerName || shortId(task.peerId)))

  const shown = (): TaskView[] => tasks.filter(task =>
    (filters.peer === '' || nodeOf(task) === filters.peer || task.peerName === filters.peer) &&
    (filters.image === '' || task.image.includes(filters.image)) &&
    (filters.q === '' || task.taskId.startsWith(filters.q)))

  const row = (task: TaskView): HTMLElement => el('tr', { 'data-task': task.taskId, 'data-state': task.state },
    el('td', { class: 'mono' }, el('a', { href: `#/task/${encodeURIComponent(task.taskId)}` }, shortId(task.taskId))),
    el('td', {}, el('span', { class: `state ${task.state}` }, task.state), task.unreachableSince != null ? el('span', { class: 'badge bad' }, ' unreachable') : null),
    el('td', { class: 'mono' }, task.image),
    el('td', { class: 'mono' }, task.command.join(' ').slice(0, 60)),
    el('td', {}, task.peerName || shortId(task.peerId)),
    el('td', {}, task.role),
    el('td', { title: task.createdAt }, ago(task.createdAt)),
    el('td', {}, task.durationMs != null ? formatDuration(task.durationMs) : '—'),
    el('td', {}, task.exitCode != null ? String(task.exitCode) : (task.error?.code ?? '')))

  const draw = (): void => {
    const peers = [...new Set(tasks.map(nodeOf))].sort()
    const chosen = filters.peer
    replace(peerSelect, el('option', { value: '' }, 'any'), ...peers.map(peer => el('option', { value: peer }, peer)))
    if (chosen !== '' && !peers.includes(chosen)) peerSelect.appendChild(el('option', { value: chosen }, chosen))
    peerSelect.value = chosen
    const list = [...found, ...shown()]
    status.textContent = `${list.length} task${list.length === 1 ? '' : 's'} shown${tasks.length >= PAGE ? ` (of the newest ${PAGE})` : ''}.`
    replace(picture, list.length > 0 ? timeline(list.slice(0, 100), nodeOf) : null)
    replace(body, ...list.map(row))
    if (list.length === 0) body.appendChild(el('tr', {}, el('td', { colspan: 9, class: 'muted' }, 'No tasks match.')))
  }

  let aborted = new AbortController()
  const load = async (): Promise<void> => {
    aborted.abort()
    const signal = (aborted = new AbortController()).signal
    try {
      tasks = await getJson<TaskView[]>(`/v1/tasks?limit=${PAGE}${filters.state !== '' ? `&state=${filters.state}` : ''}`, signal)
      // An id prefix beyond the newest page: the daemon resolves it.
      found = []
      if (filters.q.length >= 4 && !tasks.some(task => task.taskId.startsWith(filters.q))) {
        found = [await getJson<TaskView>(`/v1/tasks/${encodeURIComponent(filters.q)}`, signal).catch((err: unknown) => { if (err instanceof ApiFailure && err.status < 500) return undefined; throw err })].filter((t): t is TaskView => t != null && (filters.state === '' || t.state === filters.state))
      }
      draw()
    } catch (err) {
      if (signal.aborted) return
      status.textContent = (err as Error).message
      status.className = 'error'
    }
  }

  const keepInUrl = (): void => {
    const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== '')).toString()
    // Not a hash change: that would draw the page again and lose the caret.
    history.replaceState(null, '', `#/tasks${query !== '' ? `?${query}` : ''}`)
  }
  stateSelect.addEventListener('change', () => { filters.state = stateSelect.value; keepInUrl(); void load() })
  peerSelect.addEventListener('change', () => { filters.peer = peerSelect.value; keepInUrl(); draw() })
  imageInput.addEventListener('input', () => { filters.image = imageInput.value.trim(); keepInUrl(); draw() })
  searchInput.addEventListener('input', () => { filters.q = searchInput.value.trim(); keepInUrl(); void load() })

  let timer: ReturnType<typeof setTimeout> | undefined
  const unsubscribe = live.on('tasks', () => {
    if (timer != null) return
    timer = setTimeout(() => { timer = undefined; void load() }, REFRESH_DEBOUNCE_MS)
  })
  // Running tasks' bars grow with time even when nothing changes.
  const tick = setInterval(() => { if (tasks.some(task => task.finishedAt == null)) draw() }, 5_000)
  getJson<{ name: string }>('/v1/id').then(info => { selfName = info.name; draw() }, () => {})
  void load()
  return () => { unsubscribe(); aborted.abort(); clearInterval(tick); if (timer != null) clearTimeout(timer) }
}
