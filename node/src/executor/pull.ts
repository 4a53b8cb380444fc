import type Docker from 'dockerode'
import { ExecutionError, pullError } from './docker-errors.ts'

/** A multi-GB image over a slow LAN link fits; past this the registry is not going to deliver. */
export const PULL_TIMEOUT_MS = 30 * 60_000
/** The engine reports progress several times a second while bytes flow; this long silent means the pull hangs. */
export const PULL_STALL_TIMEOUT_MS = 2 * 60_000
/** At most 4 progress reports a second: enough for a live bar, few enough to store and send. */
export const PULL_PROGRESS_INTERVAL_MS = 250

export interface PullProgress { doneBytes: number, totalBytes: number }

interface PullMessage {
  id?: string
  status?: string
  progressDetail?: { current?: number, total?: number }
  error?: string
  errorDetail?: { message?: string }
}

/**
 * Sums the engine's per-layer pull messages into bytes fetched of bytes known. A layer's
 * size is known once its download starts; layers already present count for nothing.
 */
export class PullProgressTracker {
  private readonly layers = new Map<string, { done: number, total: number }>()

  update (message: PullMessage): void {
    if (message.id === undefined || message.status === undefined) return
    const detail = message.progressDetail ?? {}
    let layer = this.layers.get(message.id)
    const known = typeof detail.total === 'number' && detail.total > 0
    if (layer === undefined) {
      if (!known) return
      layer = { done: 0, total: 0 }
      this.layers.set(message.id, layer)
    }
    if (known) layer.total = Math.max(layer.total, detail.total ?? 0)
    if (message.status === 'Downloading' && typeof detail.current === 'number') {
      layer.done = Math.min(Math.max(layer.done, detail.current), layer.total)
    } else if (/^(Download complete|Verifying Checksum|Extracting|Pull complete)/.test(message.status)) {
      layer.done = layer.total
    }
  }

  /** Everything known counts as fetched: called once the engine says the pull finished. */
  complete (): void {
    for (const layer of this.layers.values()) layer.done = layer.total
  }

  get progress (): PullProgress {
    let doneBytes = 0
    let totalBytes = 0
    for (const layer of this.layers.values()) {
      doneBytes += layer.done
      totalBytes += layer.total
    }
    return { doneBytes, totalBytes }
  }
}

export interface PullOptions {
  signal: AbortSignal
  onProgress?: (progress: PullProgress) => void
  timeoutMs?: number
  stallTimeoutMs?: number
}

/**
 * Pulls `image` (the tag `latest` when none is given), reporting throttled progress.
 * Throws ExecutionError (IMAGE_NOT_FOUND, PULL_FAILED, INVALID_SPEC, ENGINE_UNREACHABLE),
 * the signal's reason when aborted, or what `onProgress` threw.
 */
export async function pullImage (docker: Docker, image: string, options: PullOptions): Promise<void> {
  const { signal, onProgress, timeoutMs = PULL_TIMEOUT_MS, stallTimeoutMs = PULL_STALL_TIMEOUT_MS } = options
  signal.throwIfAborted()
  // Aborted by the caller, the overall deadline or a stall, with the reason to throw.
  const stop = new AbortController()
  const onAbort = (): void => { stop.abort(signal.reason) }
  signal.addEventListener('abort', onAbort, { once: true })
  const overall = setTimeout(() => {
    stop.abort(new ExecutionError('PULL_FAILED', `pulling image "${image}" did not finish within ${Math.round(timeoutMs / 1000)} s. Check the link to the registry, or pull the image on this node beforehand.`))
  }, timeoutMs)
  let stall: NodeJS.Timeout | undefined
  const armStall = (): void => {
    clearTimeout(stall)
    stall = setTimeout(() => {
      stop.abort(new ExecutionError('PULL_FAILED', `pulling image "${image}" stalled: the engine reported nothing for ${Math.round(stallTimeoutMs / 1000)} s. Check that this node reaches the registry, then submit the task again.`))
    }, stallTimeoutMs)
  }
  armStall()
  try {
    let stream: NodeJS.ReadableStream & { destroy: () => void }
    try {
      stream = await docker.pull(image, { abortSignal: stop.signal }) as typeof stream
    } catch (err) {
      stop.signal.throwIfAborted()
      throw pullError(image, err)
    }
    await followPull(stream, image, stop.signal, armStall, onProgress)
  } finally {
    clearTimeout(overall)
    clearTimeout(stall)
    signal.removeEventListener('abort', onAbort)
  }
}

/** Reads the engine's newline-delimited JSON until it ends; the first error ends the pull. */
async function followPull (
  stream: NodeJS.ReadableStream & { destroy: () => void },
  image: string,
  stop: AbortSignal,
  onActivity: () => void,
  onProgress: ((progress: PullProgress) => void) | undefined
): Promise<void> {
  const tracker = new PullProgressTracker()
  let lastReport = 0
  const report = (force: boolean): void => {
    if (onProgress === undefined) return
    const now = Date.now()
    if (!force && now - lastReport < PULL_PROGRESS_INTERVAL_MS) return
    const progress = tracker.progress
    if (progress.totalBytes === 0) return
    lastReport = now
    onProgress(progress)
  }

  await new Promise<void>((resolve, reject) => {
    let text = ''
    let settled = false
    const finish = (err?: unknown): void => {
      if (settled) return
      settled = true
      stop.removeEventListener('abort', onStop)
      if (err === undefined) {
        resolve()
        return
      }
      stream.destroy()
      reject(err)
    }
    const onStop = (): void => { finish(stop.reason) }
    stop.addEventListener('abort', onStop, { once: true })
    if (stop.aborted) onStop()

    const take = (line: string): boolean => {
      if (line.trim() === '') return true
      let message: PullMessage
      try {
        message = JSON.parse(line)
      } catch {
        return true
      }
      if (message.error !== undefined || message.errorDetail?.message !== undefined) {
        finish(pullError(image, { message: message.errorDetail?.message ?? message.error }))
        return false
      }
      tracker.update(message)
      try {
        report(false)
      } catch (err) {
        finish(err)
        return false
      }
      return true
    }

    stream.setEncoding('utf8')
    stream.on('data', (data: string) => {
      onActivity()
      text += data
      const lines = text.split('\n')
      text = lines.pop() ?? ''
      for (const line of lines) if (!take(line)) return
    })
    stream.on('end', () => {
      if (settled || !take(text)) return
      tracker.complete()
      try {
        report(true)
      } catch (err) {
        finish(err)
        return
      }
      finish()
    })
    stream.on('error', (err: unknown) => { finish(stop.aborted ? stop.reason : pullError(image, err)) })
    stream.on('close', () => {
      finish(stop.aborted ? stop.reason : new ExecutionError('PULL_FAILED', `the Docker engine closed the pull of "${image}" before it finished. Check the engine's health ("docker info") and submit the task again.`))
    })
  })
}
