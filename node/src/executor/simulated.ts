import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type { ExecutionErrorCode, ExecutionObserver, ExecutionResult, Executor, ExecutorTask } from './executor.ts'
import { InvalidSpecError, validateTask } from './host-config.ts'

/** Long enough that a sim sees a `pulling` phase, short enough that a hundred nodes start in a blink. */
export const DEFAULT_PULL_MS = 20
/** Docker's create+start takes tens of milliseconds; the sim keeps that order without slowing benchmarks. */
export const DEFAULT_START_MS = 5
/** The size reported for every simulated image, so progress events carry plausible numbers. */
const SIMULATED_IMAGE_BYTES = 8 * 1024 * 1024
/** The most one onLog call carries, as the Executor interface promises. */
const MAX_CHUNK_BYTES = 64 * 1024
/** What `bytes:<n>` writes, repeated: printable and in lines, so logs of a sim stay readable. */
const PATTERN = new TextEncoder().encode('abcdefghijklmnopqrstuvwxyz0123456789\n')
/** Exit codes as a shell reports deaths by signal: 128 + SIGKILL (timeout, OOM), 128 + SIGTERM (cancel). */
const EXIT_KILLED = 137
const EXIT_TERMINATED = 143

export interface SimulatedExecutorInit {
  /** How long an image not yet seen by this executor takes to pull. */
  pullMs?: number
  /** The delay between the image being present and the container running. */
  startMs?: number
  /** Images the "registry" has; the rest fail with IMAGE_NOT_FOUND. Default: all. */
  knownImages?: (image: string) => boolean
  /** An unhealthy executor refuses every run with ENGINE_UNREACHABLE, as a dead engine does. */
  healthy?: boolean
}

export interface SimulatedExecutor extends Executor {
  /** Containers started and not yet ended. */
  running(): number
}

type Step =
  | { kind: 'sleep', ms: number }
  | { kind: 'write', stream: 'stdout' | 'stderr', text: string }
  | { kind: 'bytes', count: number }
  | { kind: 'exit', code: number }
  | { kind: 'oom' }

/** Parses the whole script before start, as exec fails before any output: `unknown` is the first step with no "executable". */
function parseSteps (command: string[]): { steps: Step[] } | { unknown: string } {
  const steps: Step[] = []
  for (const arg of command) {
    const colon = arg.indexOf(':')
    const [name, value] = colon < 0 ? [arg, ''] : [arg.slice(0, colon), arg.slice(colon + 1)]
    const num = Number(value)
    if (name === 'out' || name === 'err') steps.push({ kind: 'write', stream: name === 'out' ? 'stdout' : 'stderr', text: value })
    else if (name === 'sleep' && value !== '' && num >= 0 && Number.isFinite(num)) steps.push({ kind: 'sleep', ms: num })
    else if (name === 'bytes' && value !== '' && Number.isSafeInteger(num) && num >= 0) steps.push({ kind: 'bytes', count: num })
    else if (name === 'exit' && value !== '' && Number.isInteger(num) && num >= 0 && num <= 255) steps.push({ kind: 'exit', code: num })
    else if (arg === 'oom') steps.push({ kind: 'oom' })
    else return { unknown: arg }
  }
  return { steps }
}

/** A fresh copy each time: an observer may keep the chunk it was given. */
function patternChunk (offset: number, length: number): Uint8Array {
  const chunk = new Uint8Array(length)
  for (let i = 0; i < length; i++) chunk[i] = PATTERN[(offset + i) % PATTERN.length]
  return chunk
}

/** Waits, unless the run is stopped first; the timer is cleared either way. */
async function sleep (ms: number, stop: AbortSignal): Promise<void> {
  if (ms > 0) await delay(ms, undefined, { signal: stop }).catch(() => {})
}

export function createSimulatedExecutor (init: SimulatedExecutorInit = {}): SimulatedExecutor {
  const pullMs = init.pullMs ?? DEFAULT_PULL_MS
  const startMs = init.startMs ?? DEFAULT_START_MS
  const knownImages = init.knownImages ?? (() => true)
  const healthy = init.healthy ?? true
  // Like an engine's image store: only the first run of an image pays for the pull.
  const pulled = new Set<string>()
  let running = 0

  const failure = (code: ExecutionErrorCode, message: string): ExecutionResult =>
    ({ oomKilled: false, timedOut: false, cancelled: false, error: { code, message } })
  // Cancelled before the container ran: there is no exit code, as with the Docker executor.
  const cancelledEarly = (): ExecutionResult => ({ oomKilled: false, timedOut: false, cancelled: true })

  async function run (task: ExecutorTask, observer: ExecutionObserver, signal: AbortSignal): Promise<ExecutionResult> {
    if (!healthy) return failure('ENGINE_UNREACHABLE', 'the simulated engine is down')
    try {
      validateTask(task)
    } catch (err) {
      if (err instanceof InvalidSpecError) return failure('INVALID_SPEC', err.message)
      throw err
    }
    if (signal.aborted) return cancelledEarly()
    // One controller ends every wait of this run, whether the user cancelled or the timeout fired.
    const stop = new AbortController()
    let why: 'cancel' | 'timeout' | undefined
    const cancel = (): void => { why ??= 'cancel'; stop.abort() }
    signal.addEventListener('abort', cancel, { once: true })
    let timer: NodeJS.Timeout | undefined
    let started = false
    try {
      if (!pulled.has(task.image)) {
        if (!knownImages(task.image)) return failure('IMAGE_NOT_FOUND', `image ${task.image} was not found in the simulated registry. Check its name and tag.`)
        observer.onPullProgress?.({ doneBytes: SIMULATED_IMAGE_BYTES / 2, totalBytes: SIMULATED_IMAGE_BYTES })
        await sleep(pullMs, stop.signal)
        if (stop.signal.aborted) return cancelledEarly()
        pulled.add(task.image)
        observer.onPullProgress?.({ doneBytes: SIMULATED_IMAGE_BYTES, totalBytes: SIMULATED_IMAGE_BYTES })
      }
      // An image already there reports no progress, as the Docker executor does (its inspect finds it).
      observer.onPulled?.()
      const parsed = parseSteps(task.command)
      if ('unknown' in parsed) {
        return failure('COMMAND_NOT_FOUND', `the command was not found in image ${task.image} (exec: "${parsed.unknown}": executable file not found in $PATH). Steps are sleep:<ms>, out:<text>, err:<text>, bytes:<n>, exit:<code>, oom.`)
      }
      await sleep(startMs, stop.signal)
      if (stop.signal.aborted) return cancelledEarly()

      started = true
      running++
      observer.onStarted?.(randomBytes(32).toString('hex'))
      if (task.timeoutMs !== undefined) timer = setTimeout(() => { why ??= 'timeout'; stop.abort() }, task.timeoutMs)
      const exit = await runSteps(parsed.steps, observer, stop.signal)
      // A kill that lands during an awaited onLog takes effect once that write is done, as a pipe would.
      if (why !== undefined) {
        return { exitCode: why === 'timeout' ? EXIT_KILLED : EXIT_TERMINATED, oomKilled: false, timedOut: why === 'timeout', cancelled: why === 'cancel' }
      }
      return exit
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', cancel)
      if (started) running--
    }
  }

  return {
    async health () {
      return healthy ? { healthy, detail: 'simulated executor' } : { healthy, detail: 'simulated engine is down' }
    },
    // A simulated container writes nothing to disk, so it can never exceed a storage limit.
    async storageEnforced () { return true },
    run,
    // A simulated container lives in the run() call that made it: none outlives its node.
    async find () { return undefined },
    async adopt () { return failure('ENGINE_ERROR', 'the simulated engine keeps no containers across a restart') },
    async taskIds () { return [] },
    async remove () {},
    running: () => running
  }
}

/** Runs the script until it ends, exits, or `stop` fires (checked between steps and chunks). */
async function runSteps (steps: Step[], observer: ExecutionObserver, stop: AbortSignal): Promise<ExecutionResult> {
  const ended = (exitCode: number, oomKilled = false): ExecutionResult => ({ exitCode, oomKilled, timedOut: false, cancelled: false })
  for (const step of steps) {
    if (stop.aborted) break
    if (step.kind === 'sleep') await sleep(step.ms, stop)
    else if (step.kind === 'write') await observer.onLog(step.stream, new TextEncoder().encode(`${step.text}\n`))
    else if (step.kind === 'exit') return ended(step.code)
    else if (step.kind === 'oom') return ended(EXIT_KILLED, true)
    else {
      for (let sent = 0; sent < step.count && !stop.aborted;) {
        const length = Math.min(MAX_CHUNK_BYTES, step.count - sent)
        await observer.onLog('stdout', patternChunk(sent, length))
        sent += length
      }
    }
  }
  return ended(0)
}
