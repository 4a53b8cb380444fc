/** Send a task: image, command, resources, peer or auto; where auto would place it (the CLI's --explain) is shown before anything is sent. */
import type { Page } from './app.ts'
import { getJson, ndjson, postJson, type MeshView, type Placement } from './api.ts'
import { el, replace } from './dom.ts'
import { formatBytes, parseDuration, parseSize, shortId, splitWords } from './format.ts'

/** The form is explained again this long after the last keystroke. */
const EXPLAIN_DEBOUNCE_MS = 300

interface TaskRequest {
  image: string
  command: string[]
  resources: { cpu: number, memoryBytes: number, storageBytes: number, gpus: number }
  network: 'none' | 'bridge'
  timeoutMs?: number
  env: Record<string, string>
  labels: Record<string, string>
}

function keyValues (text: string): Record<string, string> | string {
  const result: Record<string, string> = {}
  for (const word of splitWords(text)) {
    const eq = word.indexOf('=')
    if (eq <= 0) return `"${word}" is not key=value`
    result[word.slice(0, eq)] = word.slice(eq + 1)
  }
  return result
}

export const renderSubmit: Page = ({ main, live, go }) => {
  const field = (label: string, input: HTMLElement, wide = false): HTMLElement => el('label', { class: wide ? 'wide' : undefined }, label, input)
  const image = el('input', { id: 'image', name: 'image', required: true, placeholder: 'e.g. 127.0.0.1:5000/cloudai/busybox:1', autocomplete: 'off' })
  const command = el('input', { id: 'command', name: 'command', placeholder: 'e.g. sh -c "echo hello"', autocomplete: 'off' })
  const cpu = el('input', { id: 'cpu', name: 'cpu', type: 'number', min: '0.01', step: '0.01', value: '1' })
  const memory = el('input', { id: 'memory', name: 'memory', value: '512m' })
  const storage = el('input', { id: 'storage', name: 'storage', value: '1g' })
  const gpus = el('input', { id: 'gpus', name: 'gpus', type: 'number', min: '0', step: '1', value: '0' })
  const network = el('select', { id: 'network', name: 'network' }, el('option', { value: 'none' }, 'none'), el('option', { value: 'bridge' }, 'bridge'))
  const timeout = el('input', { id: 'timeout', name: 'timeout', placeholder: 'none, or e.g. 10m' })
  const env = el('input', { id: 'env', name: 'env', placeholder: 'K=V K2=V2' })
  const labels = el('input', { id: 'labels', name: 'labels', placeholder: 'k=v' })
  const peer = el('select', { id: 'peer', name: 'peer' }, el('option', { value: 'auto' }, 'auto (choose for me)'), el('option', { value: 'self' }, 'this node'))
  const send = el('button', { type: 'submit', class: 'primary', id: 'send' }, 'Send task')
  const problem = el('p', { class: 'error', id: 'form-error', role: 'alert' })
  const explain = el('section', { class: 'explain card', id: 'explain', 'aria-live': 'polite' }, el('p', { class: 'muted' }, 'Fill in an image to see where the task would go.'))
  const form = el('form', { class: 'submit', id: 'submit-form' },
    field('Image', image, true), field('Command', command, true),
    field('CPU cores', cpu), field('Memory', memory), field('Storage', storage), field('GPUs', gpus),
    field('Peer', peer), field('Network', network), field('Timeout', timeout),
    field('Environment', env, true), field('Labels', labels, true),
    el('div', { class: 'wide' }, send), problem)
  replace(main, el('h1', {}, 'Submit a task'), form, el('h2', {}, 'Where it would run'), explain)

  const fillPeers = (view: MeshView): void => {
    const chosen = peer.value
    replace(peer, el('option', { value: 'auto' }, 'auto (choose for me)'), el('option', { value: 'self' }, `this node (${view.self.name})`),
      ...view.peers.filter(p => p.reachable).map(p => el('option', { value: p.peerId }, `${p.name} (${shortId(p.peerId)})`)))
    peer.value = [...peer.options].some(option => option.value === chosen) ? chosen : 'auto'
  }
  if (live.lastMesh != null) fillPeers(live.lastMesh)
  getJson<MeshView>('/v1/dashboard/mesh').then(fillPeers, () => {})
  const unsubscribe = live.on('mesh', data => { fillPeers(data as MeshView) })

  const request = (): TaskRequest | string => {
    if (image.value.trim() === '') return 'an image is needed'
    const memoryBytes = parseSize(memory.value)
    const storageBytes = parseSize(storage.value)
    if (memoryBytes == null) return `memory "${memory.value}" is not a size (e.g. 512m, 2g)`
    if (storageBytes == null) return `storage "${storage.value}" is not a size (e.g. 1g)`
    const timeoutMs = timeout.value.trim() === '' ? undefined : parseDuration(timeout.value)
    if (timeoutMs === undefined && timeout.value.trim() !== '') return `timeout "${timeout.value}" is not a duration (e.g. 30s, 10m)`
    const envs = keyValues(env.value)
    const labelValues = keyValues(labels.value)
    if (typeof envs === 'string') return `environment: ${envs}`
    if (typeof labelValues === 'string') return `labels: ${labelValues}`
    return {
      image: image.value.trim(),
      command: splitWords(command.value),
      resources: { cpu: Number(cpu.value), memoryBytes, storageBytes, gpus: Number(gpus.value) },
      network: network.value as 'none' | 'bridge',
      ...(timeoutMs != null ? { timeoutMs } : {}),
      env: envs,
      labels: labelValues
    }
  }

  let explaining = new AbortController()
  const showPlacement = async (): Promise<void> => {
    explaining.abort()
    const signal = (explaining = new AbortController()).signal
    const task = request()
    if (typeof task === 'string') { replace(explain, el('p', { class: 'muted' }, `Not yet: ${task}.`)); return }
    if (peer.value !== 'auto') {
      replace(explain, el('p', {}, `Sent to ${peer.selectedOptions[0]?.textContent ?? peer.value} directly: it admits the task, queues it, or refuses it.`))
      return
    }
    replace(explain, el('p', { class: 'muted' }, 'Asking the candidates…'))
    try {
      const placement = await postJson<Placement>('/v1/placement', task, signal)
      const choice = placement.choices[0]
      replace(explain,
        el('p', { id: 'explain-choice' }, choice != null ? el('strong', {}, `Would run on ${choice.name} (${shortId(choice.peerId)}): ${choice.reason}`) : 'No peer would take it now.'),
        placement.probed.length > 0 ? el('div', { class: 'table-wrap' }, el('table', {},
          el('thead', {}, el('tr', {}, ...['Candidate', 'Score', 'Fits now', 'CPU free', 'Memory free', 'Running', 'Queued'].map(h => el('th', { scope: 'col' }, h)))),
          el('tbody', {}, ...placement.probed.map(c => el('tr', {},
            el('td', {}, `${c.name} (${shortId(c.peerId)})`), el('td', {}, c.score.toFixed(3)), el('td', {}, c.fitsNow ? 'yes' : 'no, would queue'),
            el('td', {}, String(Math.round((c.capacity.cpu - c.allocated.cpu) * 100) / 100)), el('td', {}, formatBytes(c.capacity.memoryBytes - c.allocated.memoryBytes)),
            el('td', {}, String(c.running)), el('td', {}, String(c.queued))))))) : null,
        ...placement.excluded.map(x => el('p', { class: 'muted' }, `Not ${x.name} (${shortId(x.peerId)}): ${x.reason}`)))
    } catch (err) {
      if (!signal.aborted) replace(explain, el('p', { class: 'error' }, (err as Error).message))
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const explainSoon = (): void => {
    if (timer != null) clearTimeout(timer)
    timer = setTimeout(() => { timer = undefined; void showPlacement() }, EXPLAIN_DEBOUNCE_MS)
  }
  form.addEventListener('input', explainSoon)
  form.addEventListener('change', explainSoon)

  const sending = new AbortController()
  form.addEventListener('submit', event => {
    event.preventDefault()
    const task = request()
    if (typeof task === 'string') { problem.textContent = `Cannot send: ${task}.`; return }
    problem.textContent = ''
    send.disabled = true
    void (async () => {
      try {
        // The answer streams the task to its end; the first line names it, and the daemon follows it whether or not anyone reads on.
        for await (const line of ndjson('/v1/tasks', { method: 'POST', signal: sending.signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: peer.value, ...task }) })) {
          if ('accepted' in line) {
            sending.abort()
            go(`/task/${encodeURIComponent(line.accepted.taskId)}`)
            return
          }
        }
      } catch (err) {
        if (sending.signal.aborted) return
        problem.textContent = (err as Error).message
        send.disabled = false
      }
    })()
  })
  return () => { unsubscribe(); explaining.abort(); if (timer != null) clearTimeout(timer) }
}
