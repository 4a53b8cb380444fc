/**
 * Latency of a trivial task (`true`) on this node through the daemon, against plain
 * `docker run --rm` of the same image, measured in the same run (docs/architecture.md, "Tests").
 *
 * One daemon process (`cloudai start --open --no-mdns`, loopback only). Each round runs, in
 * an order that rotates from round to round so that every variant shares the machine's
 * noise: `docker run --rm --network none <busybox> true` (the baseline), `cloudai task self
 * <busybox> --quiet -- true` (a CLI process talking to the daemon's API), the same request
 * sent to the API from this process (no CLI process: the daemon and engine path alone), and
 * `cloudai --version` (the CLI's start-up alone). The medians are reported.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, startDaemonProcess } from '../../test/helpers/cli.ts'
import type { BenchRow } from './report.ts'
import { ContainerEventLog, phaseSummary, wallNow, type RunWindow } from './container-phases.ts'
import { isQuick } from './quick.ts'

/** The test image scripts/ensure-docker.sh pushes to the local registry. */
export const BENCH_IMAGE = '127.0.0.1:5000/cloudai/busybox:1'
/** Measured rounds; each variant also runs once before them, untimed. */
/** Read when the benchmark runs: run.ts sets --quick after the modules are loaded. */
function rounds (): number { return isQuick() ? 5 : 15 }
/** No single run may take longer than this. */
const RUN_LIMIT_MS = 60_000
/** What `cloudai task` asks for by default (cli/main.ts), so the API request is the CLI's. */
const DEFAULT_RESOURCES = { cpu: 1, memoryBytes: 512 * 1024 ** 2, storageBytes: 1024 ** 3, gpus: 0 }

export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export interface TimedRun {
  /** From spawn until the process exited and its output was read to the end. */
  ms: number
  /** Bytes the process wrote to stdout (counted, then dropped unless kept). */
  stdoutBytes: number
  /** Its stdout as text, with `keepStdout` only. */
  stdout: string
  code: number | null
  stderr: string
}

/** Run a process to completion (bounded), counting its stdout; the time is spawn to close. */
export async function timedRun (command: string, args: string[], { limitMs = RUN_LIMIT_MS, keepStdout = false } = {}): Promise<TimedRun> {
  const start = performance.now()
  const child = spawn(command, args, { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdoutBytes = 0
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdoutBytes += chunk.length
    if (keepStdout) stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => { if (stderr.length < 64 * 1024) stderr += chunk.toString() })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, limitMs)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  }).finally(() => { clearTimeout(timer) })
  return { ms: performance.now() - start, stdoutBytes, stdout, code, stderr }
}

/** Throws unless the run exited 0 (a failed run must not become a figure). */
export function expectSuccess (what: string, run: TimedRun): TimedRun {
  // With --json the CLI reports a failed task as events on stdout, not on stderr.
  if (run.code !== 0) throw new Error(`${what} exited ${run.code}:\n${run.stderr.slice(-2000)}${run.stdout.slice(-2000)}`)
  return run
}

/** `node cli.js …` as a user runs it. */
export async function cli (args: string[], options?: { limitMs?: number, keepStdout?: boolean }): Promise<TimedRun> {
  return await timedRun(process.execPath, [CLI, ...args], options)
}

/** The engine answers and has the image (else the benchmark would time a pull or fail midway). */
export async function requireEngine (): Promise<void> {
  const run = await timedRun('docker', ['image', 'inspect', '--format', '{{.Id}}', BENCH_IMAGE], { limitMs: 30_000 })
    .catch((err: Error) => ({ code: -1, stderr: err.message }))
  if (run.code !== 0) {
    throw new Error(`the Docker engine does not answer or lacks ${BENCH_IMAGE}: run "bash scripts/ensure-docker.sh" first\n${run.stderr}`)
  }
}

/** A new data dir for one daemon, removed by the caller. */
export async function benchDataDir (label: string): Promise<string> {
  return await mkdtemp(join(tmpdir(), `cloudai-bench-${label}-`))
}

/** Daemon-side timings of one task, from its NDJSON lines. */
interface ApiRun {
  ms: number
  /** Until the `accepted` line arrived (submit resolved on the daemon). */
  acceptedMs: number
  /** STARTING → RUNNING by the daemon's own event times: container create, attach and start. */
  startingToRunningMs: number
}

/** POST /v1/tasks from this process and read the NDJSON to the end. */
async function apiTask (url: string, token: string): Promise<ApiRun> {
  const start = performance.now()
  const res = await fetch(`${url}/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ target: 'self', image: BENCH_IMAGE, command: ['true'], env: {}, resources: DEFAULT_RESOURCES, network: 'none', labels: {} }),
    signal: AbortSignal.timeout(RUN_LIMIT_MS)
  })
  if (!res.ok) throw new Error(`POST /v1/tasks answered HTTP ${res.status}: ${await res.text()}`)
  let acceptedMs = NaN
  let buffered = ''
  const lines: any[] = []
  const decoder = new TextDecoder()
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true })
    let newline: number
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffered.slice(0, newline))
      buffered = buffered.slice(newline + 1)
      if ('accepted' in line) acceptedMs = performance.now() - start
      lines.push(line)
    }
  }
  const ms = performance.now() - start
  const events = lines.filter(line => 'event' in line).map(line => line.event)
  const last = events.at(-1)
  if (last?.state !== 'SUCCEEDED' || last.exit?.code !== 0) throw new Error(`the API task did not succeed: ${JSON.stringify(lines.at(-1))}`)
  const at = (state: string): number => Date.parse(events.find(event => event.state === state)?.time)
  return { ms, acceptedMs, startingToRunningMs: at('RUNNING') - at('STARTING') }
}

export async function taskLatencyBench (): Promise<BenchRow[]> {
  await requireEngine()
  const dataDir = await benchDataDir('latency')
  const daemon = await startDaemonProcess(dataDir, ['--open', '--no-mdns', '--name', `bench-${randomBytes(3).toString('hex')}`])
  try {
    const api = JSON.parse(await readFile(join(dataDir, 'api'), 'utf8')) as { url: string, token: string }
    // The engine's record of each variant's containers: docker run's by a label of its own, the daemon's by its node id.
    const dockerLabel = `cloudai-bench-latency=${randomBytes(4).toString('hex')}`
    const nodeId = (JSON.parse((await cli(['--data-dir', dataDir, 'id', '--json'], { keepStdout: true })).stdout) as { peerId: string }).peerId
    const dockerEvents = new ContainerEventLog(dockerLabel)
    const cliEvents = new ContainerEventLog(`cloudai.node=${nodeId}`)
    await Promise.all([dockerEvents.started(), cliEvents.started()])
    const windows = { docker: [] as RunWindow[], cli: [] as RunWindow[] }
    const timed = async (list: RunWindow[], run: () => Promise<TimedRun>): Promise<TimedRun> => {
      const spawnedAt = wallNow()
      const result = await run()
      list.push({ spawnedAt, exitedAt: wallNow() })
      return result
    }
    const samples = { docker: [] as number[], cli: [] as number[], api: [] as number[], accepted: [] as number[], engineStart: [] as number[], startup: [] as number[] }
    const variants: Array<() => Promise<void>> = [
      async () => {
        samples.docker.push(expectSuccess('docker run', await timed(windows.docker, async () => await timedRun('docker', ['run', '--rm', '--network', 'none', '--label', dockerLabel, BENCH_IMAGE, 'true']))).ms)
      },
      async () => {
        samples.cli.push(expectSuccess('cloudai task self', await timed(windows.cli, async () => await cli(['--data-dir', dataDir, 'task', 'self', BENCH_IMAGE, '--quiet', '--', 'true']))).ms)
      },
      async () => {
        const run = await apiTask(api.url, api.token)
        samples.api.push(run.ms)
        samples.accepted.push(run.acceptedMs)
        samples.engineStart.push(run.startingToRunningMs)
      },
      async () => {
        samples.startup.push(expectSuccess('cloudai --version', await cli(['--version'])).ms)
      }
    ]
    for (const variant of variants) await variant() // warm-up: caches, JIT, the daemon's first task
    for (const list of [...Object.values(samples), ...Object.values(windows)]) list.length = 0
    for (let round = 0; round < rounds(); round++) {
      for (let i = 0; i < variants.length; i++) await variants[(round + i) % variants.length]()
    }
    // The last removals may come after the last command exited.
    await new Promise(resolve => setTimeout(resolve, 1_000))
    dockerEvents.stop()
    cliEvents.stop()
    const phases = { docker: phaseSummary(dockerEvents.phases(windows.docker)), cli: phaseSummary(cliEvents.phases(windows.cli)) }
    const baseline = 'docker run --rm --network none busybox true'
    const docker = median(samples.docker)
    return [
      {
        name: 'task self -- true: CLI via daemon',
        value: median(samples.cli),
        unit: 'ms',
        baseline,
        baselineValue: docker,
        note: `median of ${rounds()}; CLI start-up alone (cloudai --version) ${median(samples.startup).toFixed(0)} ms; ` +
          `phases by the engine's events, cloudai: ${phases.cli}; docker run: ${phases.docker}`
      },
      {
        name: 'task self -- true: POST /v1/tasks',
        value: median(samples.api),
        unit: 'ms',
        baseline,
        baselineValue: docker,
        note: `median of ${rounds()}; accepted after ${median(samples.accepted).toFixed(0)} ms; STARTING→RUNNING ${median(samples.engineStart).toFixed(0)} ms`
      }
    ]
  } finally {
    await daemon.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
}
