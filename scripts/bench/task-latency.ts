/**
 * Latency of a trivial task (`true`) on this node through the daemon, against plain
 * `docker run --rm` of the same image, measured in the same run (docs/architecture.md, "Tests").
 *
 * One daemon process (`cloudai start --open --no-mdns`, loopback only). Each round runs, in
 * an order that rotates from round to round so that every variant shares the machine's
 * noise: `docker run --rm --network none <busybox> true` (the baseline), `cloudai task self
 * <busybox> --quiet -- true` (a CLI process talking to the daemon's API), the same request
 * sent to the API from this process (no CLI process: the daemon and engine path alone),
 * `cloudai --version` (the CLI's start-up alone), and the same `task` command sent to a
 * stand-in API in this process that answers at once with the lines a real task sent (when
 * the CLI's request arrives, and how long it takes to end once its answer is sent). The
 * medians are reported, with a table of where the time goes: the engine's events for each
 * command's container, the daemon's own time of acceptance, and the stand-in's arrival times.
 */
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, startDaemonProcess } from '../../test/helpers/cli.ts'
import type { BenchRow, Breakdown } from './report.ts'
import { ContainerEventLog, wallNow, type ContainerEvents, type RunWindow } from './container-phases.ts'
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
export async function timedRun (command: string, args: string[], { limitMs = RUN_LIMIT_MS, keepStdout = false, env = {} }: { limitMs?: number, keepStdout?: boolean, env?: Record<string, string> } = {}): Promise<TimedRun> {
  const start = performance.now()
  const child = spawn(command, args, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
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
export async function cli (args: string[], options?: { limitMs?: number, keepStdout?: boolean, env?: Record<string, string> }): Promise<TimedRun> {
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
  /** The response as sent: the stand-in API replays it. */
  text: string
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
  let text = ''
  let buffered = ''
  const lines: any[] = []
  const decoder = new TextDecoder()
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const decoded = decoder.decode(chunk, { stream: true })
    text += decoded
    buffered += decoded
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
  return { ms, text, acceptedMs, startingToRunningMs: at('RUNNING') - at('STARTING') }
}

/** When the stand-in API received one `POST /v1/tasks` and when it had sent its answer (wall-clock ms). */
interface StandInRequest {
  arrivedAt: number
  answeredAt: number
}

/**
 * An API that answers `POST /v1/tasks` at once with `answer` (a real task's lines), so that
 * a CLI run against it shows the CLI's own costs: start-up until its request arrives, and
 * the time from the answer to its exit.
 */
class StandInApi {
  readonly requests: StandInRequest[] = []
  private readonly server: Server
  answer = ''

  constructor () {
    this.server = createServer((req, res) => {
      const arrivedAt = wallNow()
      req.resume()
      req.once('end', () => {
        res.writeHead(req.method === 'POST' && req.url === '/v1/tasks' ? 200 : 404, { 'content-type': 'application/x-ndjson' })
        res.end(this.answer, () => { this.requests.push({ arrivedAt, answeredAt: wallNow() }) })
      })
    })
  }

  async listen (): Promise<string> {
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async close (): Promise<void> {
    this.server.closeAllConnections()
    await new Promise(resolve => this.server.close(resolve))
  }
}

/** The time of a task's first event (PULLING: the daemon accepted it), wall-clock ms, read from the daemon after the run. */
async function acceptedAt (url: string, token: string): Promise<number> {
  const get = async (path: string): Promise<any> => {
    const res = await fetch(url + path, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(RUN_LIMIT_MS) })
    if (!res.ok) throw new Error(`GET ${path} answered HTTP ${res.status}`)
    return await res.json()
  }
  const [newest] = await get('/v1/tasks?limit=1') as Array<{ taskId: string }>
  const status = await get(`/v1/tasks/${newest.taskId}`) as { events: Array<{ seq: number, time: string }> }
  return Date.parse(status.events.find(event => event.seq === 1)?.time ?? '')
}

/** Median of the finite values, formatted in whole ms; '' when there are none. */
function ms (values: number[]): string {
  const finite = values.filter(Number.isFinite)
  return finite.length > 0 ? median(finite).toFixed(0) : ''
}

/** Where the milliseconds of `task self -- true` go, beside the same phases of `docker run`. */
function phaseTable (cli: { windows: RunWindow[], containers: Array<ContainerEvents | undefined>, acceptedAt: number[] }, apiAcceptedMs: number[], standIn: { windows: RunWindow[], requests: StandInRequest[] }, docker: { windows: RunWindow[], containers: Array<ContainerEvents | undefined> }): Breakdown {
  const engine = (runs: { windows: RunWindow[], containers: Array<ContainerEvents | undefined> }, phase: (run: RunWindow, c: ContainerEvents) => number): string =>
    ms(runs.windows.map((run, i) => { const c = runs.containers[i]; return c != null ? phase(run, c) : NaN }))
  const cliStartUp = standIn.windows.map((run, i) => (standIn.requests[i]?.arrivedAt ?? NaN) - run.spawnedAt)
  const cliFinish = standIn.windows.map((run, i) => run.exitedAt - (standIn.requests[i]?.answeredAt ?? NaN))
  const cliAccepted = cli.windows.map((run, i) => cli.acceptedAt[i] - run.spawnedAt)
  const seen = cli.containers.filter(c => c != null).length
  return {
    title: `task self -- true, where the time goes (medians in ms; the engine's events for ${seen} of ${cli.windows.length} cloudai and ${docker.containers.filter(c => c != null).length} of ${docker.windows.length} docker containers)`,
    head: ['phase', 'cloudai task', 'docker run', 'what it is'],
    rows: [
      ['spawn → request at the API', ms(cliStartUp), '', 'the CLI\'s start-up until its request arrives (a stand-in API in the bench process answers at once; on a loaded machine its own wake-up adds to this)'],
      ['request → accepted', ms(apiAcceptedMs), '', 'the daemon\'s submit, seen by a client in this process (the API variant)'],
      ['spawn → accepted', ms(cliAccepted), '', 'the CLI\'s runs: to the daemon\'s time of its first event'],
      ['accepted → container created', ms(cli.windows.map((run, i) => (cli.containers[i]?.create ?? NaN) - cli.acceptedAt[i])), '', 'placement, the worker, the image check, create'],
      ['spawn → container created', engine(cli, (run, c) => c.create! - run.spawnedAt), engine(docker, (run, c) => c.create! - run.spawnedAt), 'docker run: its start-up, the image check, create'],
      ['create → start', engine(cli, (_run, c) => c.start! - c.create!), engine(docker, (_run, c) => c.start! - c.create!), 'attach, start'],
      ['start → die', engine(cli, (_run, c) => c.die! - c.start!), engine(docker, (_run, c) => c.die! - c.start!), 'the container runs `true`'],
      ['die → removed', engine(cli, (_run, c) => (c.destroy ?? NaN) - c.die!), engine(docker, (_run, c) => (c.destroy ?? NaN) - c.die!), 'removal (cloudai removes after telling the end)'],
      ['die → command exited', engine(cli, (run, c) => run.exitedAt - c.die!), engine(docker, (run, c) => run.exitedAt - c.die!), 'the final event reaches the command, which exits'],
      ['answer → CLI exited', ms(cliFinish), '', 'the CLI shows a task\'s lines and exits (stand-in API)'],
      ['spawn → exit', ms(cli.windows.map(run => run.exitedAt - run.spawnedAt)), ms(docker.windows.map(run => run.exitedAt - run.spawnedAt)), 'the whole command']
    ]
  }
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
    const windows = { docker: [] as RunWindow[], cli: [] as RunWindow[], standIn: [] as RunWindow[] }
    const cliAccepted: number[] = []
    const standIn = new StandInApi()
    const standInUrl = await standIn.listen()
    const timed = async (list: RunWindow[], run: () => Promise<TimedRun>): Promise<TimedRun> => {
      const spawnedAt = wallNow()
      const result = await run()
      list.push({ spawnedAt, exitedAt: wallNow() })
      return result
    }
    const taskArgs = ['task', 'self', BENCH_IMAGE, '--quiet', '--', 'true']
    const samples = { docker: [] as number[], cli: [] as number[], api: [] as number[], accepted: [] as number[], engineStart: [] as number[], startup: [] as number[], standIn: [] as number[] }
    const variants: Array<() => Promise<void>> = [
      async () => {
        samples.docker.push(expectSuccess('docker run', await timed(windows.docker, async () => await timedRun('docker', ['run', '--rm', '--network', 'none', '--label', dockerLabel, BENCH_IMAGE, 'true']))).ms)
      },
      async () => {
        samples.cli.push(expectSuccess('cloudai task self', await timed(windows.cli, async () => await cli(['--data-dir', dataDir, ...taskArgs]))).ms)
        cliAccepted.push(await acceptedAt(api.url, api.token))
      },
      async () => {
        const run = await apiTask(api.url, api.token)
        // The stand-in answers as the daemon last did.
        standIn.answer = run.text
        samples.api.push(run.ms)
        samples.accepted.push(run.acceptedMs)
        samples.engineStart.push(run.startingToRunningMs)
      },
      async () => {
        samples.startup.push(expectSuccess('cloudai --version', await cli(['--version'])).ms)
      },
      async () => {
        samples.standIn.push(expectSuccess('cloudai task self (stand-in API)', await timed(windows.standIn, async () => await cli(['--data-dir', dataDir, '--api', standInUrl, ...taskArgs], { env: { CLOUDAI_API_TOKEN: 'bench' } }))).ms)
      }
    ]
    // Warm-up: caches, JIT, the daemon's first task. The API variant runs first, so the stand-in has an answer.
    for (const variant of [variants[2], ...variants.filter((_, i) => i !== 2)]) await variant()
    for (const list of [...Object.values(samples), ...Object.values(windows), cliAccepted, standIn.requests]) list.length = 0
    for (let round = 0; round < rounds(); round++) {
      for (let i = 0; i < variants.length; i++) await variants[(round + i) % variants.length]()
    }
    // The last removals may come after the last command exited.
    await new Promise(resolve => setTimeout(resolve, 1_000))
    dockerEvents.stop()
    cliEvents.stop()
    await standIn.close()
    const breakdown = phaseTable(
      { windows: windows.cli, containers: cliEvents.containers(windows.cli), acceptedAt: cliAccepted },
      samples.accepted,
      { windows: windows.standIn, requests: standIn.requests },
      { windows: windows.docker, containers: dockerEvents.containers(windows.docker) })
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
          `the same command against a stand-in API that answers at once ${median(samples.standIn).toFixed(0)} ms; phases in the table below`,
        breakdown
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
