/**
 * The dashboard's way to its daemon: the same API the CLI uses, on the same origin, with the
 * session cookie the login set (the browser sends it; scripts never see it).
 */
import type { TaskStatusView, TaskView } from '../node/src/store/task-views.ts'
import type { MeshView } from '../node/src/api/live-feed.ts'
import type { Placement } from '../node/src/master/placement.ts'
import type { TaskLine } from '../node/src/tasks/task-history.ts'

export type { MeshView, Placement, TaskLine, TaskStatusView, TaskView }

/** An answer other than 2xx: its HTTP status and the API's error code and message. */
export class ApiFailure extends Error {
  readonly status: number
  readonly code: string
  constructor (status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

async function failure (res: Response): Promise<ApiFailure> {
  const body = await res.json().catch(() => undefined) as { error?: { code?: string, message?: string } } | undefined
  if (res.status === 401) return new ApiFailure(401, 'UNAUTHORIZED', 'Logged out (the session expired or the daemon restarted): run "cloudai dashboard" for a new login URL.')
  return new ApiFailure(res.status, body?.error?.code ?? 'ERROR', body?.error?.message ?? `HTTP ${res.status}`)
}

export async function getJson<T> (path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { signal, headers: { accept: 'application/json' } })
  if (!res.ok) throw await failure(res)
  return await res.json() as T
}

export async function postJson<T> (path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { method: 'POST', signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (!res.ok) throw await failure(res)
  return await res.json() as T
}

/** An NDJSON response, one parsed line at a time, as it arrives; ends with the response or the signal. */
export async function * ndjson (path: string, init: RequestInit & { signal: AbortSignal }): AsyncGenerator<TaskLine> {
  const res = await fetch(path, init)
  if (!res.ok || res.body == null) throw await failure(res)
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffered = ''
  try {
    while (true) {
      const { done, value } = await reader.read()
      if (done) break
      buffered += value
      let newline: number
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline)
        buffered = buffered.slice(newline + 1)
        if (line.trim() !== '') yield JSON.parse(line) as TaskLine
      }
    }
  } finally {
    reader.cancel().catch(() => {})
  }
}

type LiveListener = (data: unknown) => void

/**
 * The daemon's live feed (server-sent events): `tasks` (which tasks changed) and `mesh` (the
 * members and their load). One connection for the whole page; pages subscribe and unsubscribe.
 */
export class LiveFeed {
  private source?: EventSource
  private readonly listeners = new Map<string, Set<LiveListener>>()
  private readonly onStatus: (connected: boolean) => void
  lastMesh?: MeshView

  constructor (onStatus: (connected: boolean) => void) {
    this.onStatus = onStatus
  }

  start (): void {
    const source = new EventSource('/v1/dashboard/live')
    this.source = source
    source.addEventListener('open', () => { this.onStatus(true) })
    source.addEventListener('error', () => { this.onStatus(false) })
    for (const name of ['tasks', 'mesh']) {
      source.addEventListener(name, event => {
        const data = JSON.parse((event as MessageEvent<string>).data) as unknown
        if (name === 'mesh') this.lastMesh = data as MeshView
        for (const listener of this.listeners.get(name) ?? []) listener(data)
      })
    }
  }

  stop (): void {
    this.source?.close()
  }

  on (name: 'tasks' | 'mesh', listener: LiveListener): () => void {
    let set = this.listeners.get(name)
    if (set == null) this.listeners.set(name, set = new Set())
    set.add(listener)
    return () => { set.delete(listener) }
  }
}
