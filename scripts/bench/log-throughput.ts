/**
 * Throughput of streaming 100 MiB of container output to the submitter's CLI, against
 * `docker run` of the same container attached (stdout read to the end), measured in the same
 * run (docs/architecture.md, "Tests").
 *
 * Two daemon processes on loopback (`--open --no-mdns`, the master connected to the worker
 * with `cloudai connect`). For each payload, each round runs, in an order that rotates from
 * round to round:
 * - `cloudai task self <busybox> --quiet -- sh -c <payload>` on the master: a CLI process,
 *   the daemon's API, the local worker and the engine;
 * - `cloudai task <worker> …`: the same, with the task protocol over libp2p in between;
 * - the baseline: `docker run` of the same container attached (named, kept), then `docker
 *   logs` of it read to the end, timed alone (in the note); the container is removed after.
 * Each figure is bytes received on stdout over the wall time from spawn to exit. The task
 * figures subtract nothing, so they include a CLI start-up and a container's whole life; the
 * time of a `-- true` task is in the note. Our executor caps the json-file log (LOG_MAX_SIZE);
 * plain `docker run` does not, so `docker logs` has all of it.
 *
 * Two payloads: zeros without a newline (what `head -c … /dev/zero` writes; json-file
 * escapes each NUL as \u0000, six bytes, so docker logs reads ~6x the bytes), and 1 KiB text
 * lines (like real logs; one json-file entry per line).
 */
import { randomBytes } from 'node:crypto'
import { rm, stat } from 'node:fs/promises'
import { startDaemonProcess, type DaemonProcess } from '../../test/helpers/cli.ts'
import { isQuick } from './quick.ts'
import type { BenchRow } from './report.ts'
import { BENCH_IMAGE, benchDataDir, cli, expectSuccess, median, requireEngine, timedRun } from './task-latency.ts'
import { peakRss } from './daemon-usage.ts'

const MiB = 1024 * 1024
/** `--quick`: a third of the payload, one round. */
const PAYLOAD_BYTES = (isQuick() ? 32 : 100) * MiB
/** Measured rounds per payload; a round takes 15-20 s on a 2-core machine, so three keep the bench near 2 minutes. */
const ROUNDS = isQuick() ? 1 : 3
/** No single 100 MiB run may take longer than this. */
const RUN_LIMIT_MS = 90_000
/** How long the master may take to see the worker as reachable after `connect`. */
const CONNECT_LIMIT_MS = 15_000

const PAYLOADS = [
  { label: 'zeros', script: `head -c ${PAYLOAD_BYTES} /dev/zero` },
  { label: '1 KiB lines', script: `yes "$(head -c 1023 /dev/zero | tr '\\0' x)" | head -c ${PAYLOAD_BYTES}` }
]

function mibPerSecond (bytes: number, ms: number): number {
  return bytes / MiB / (ms / 1000)
}

function expectBytes (what: string, bytes: number): void {
  if (bytes !== PAYLOAD_BYTES) throw new Error(`${what} delivered ${bytes} bytes, not ${PAYLOAD_BYTES}`)
}

/** `docker run` (kept, attached, stdout counted), then `docker logs` of it timed alone. */
async function dockerLogsRun (script: string): Promise<{ logsMs: number, runMs: number, logFileBytes: number }> {
  const name = `cloudai-bench-logs-${randomBytes(6).toString('hex')}`
  try {
    // The limits cloudai task gives the container by default, so the producer runs alike.
    const run = expectSuccess('docker run', await timedRun('docker', ['run', '--name', name, '--network', 'none', '--cpus', '1', '--memory', '512m', BENCH_IMAGE, 'sh', '-c', script], { limitMs: RUN_LIMIT_MS }))
    expectBytes('docker run', run.stdoutBytes)
    const logs = expectSuccess('docker logs', await timedRun('docker', ['logs', name], { limitMs: RUN_LIMIT_MS }))
    expectBytes('docker logs', logs.stdoutBytes)
    return { logsMs: logs.ms, runMs: run.ms, logFileBytes: await logFileSize(name) }
  } finally {
    await timedRun('docker', ['rm', '--force', name], { limitMs: 30_000 })
  }
}

/** The json-file log's size on disk (readable as root; NaN otherwise). */
async function logFileSize (container: string): Promise<number> {
  const inspect = await timedRun('docker', ['inspect', '--format', '{{.LogPath}}', container], { limitMs: 30_000, keepStdout: true })
  return await stat(inspect.stdout.trim()).then(s => s.size, () => NaN)
}

/** Bytes a container writes switching between stdout and stderr at every one (a write each). */
const ALTERNATING_BYTES = 20_000

/**
 * How many output events the master stores for a container that alternates one byte on
 * stdout and one on stderr, beside the bytes (one event per write is what unbatched output
 * costs).
 */
async function alternatingRows (masterDir: string, workerName: string): Promise<BenchRow> {
  const script = `i=0; while [ $i -lt ${ALTERNATING_BYTES / 2} ]; do printf o; printf e >&2; i=$((i+1)); done`
  expectSuccess('alternating task', await cli(['--data-dir', masterDir, 'task', workerName, BENCH_IMAGE, '--quiet', '--', 'sh', '-c', script], { limitMs: RUN_LIMIT_MS }))
  const listed = expectSuccess('cloudai tasks', await cli(['--data-dir', masterDir, 'tasks', '--json'], { keepStdout: true }))
  const taskId = (JSON.parse(listed.stdout) as Array<{ taskId: string }>)[0].taskId
  const logs = expectSuccess('cloudai logs', await cli(['--data-dir', masterDir, 'logs', taskId, '--json'], { keepStdout: true }))
  const events = logs.stdout.split('\n').filter(line => line.includes('"log"')).length
  return {
    name: `${ALTERNATING_BYTES} bytes alternating stdout/stderr: output events stored (master)`,
    value: events,
    unit: 'events',
    baseline: 'one event per write',
    baselineValue: ALTERNATING_BYTES,
    note: 'task <peer>; fewer is better'
  }
}

/** Poll the master's peer list until the worker is reachable (bounded). */
async function waitReachable (masterDir: string, workerName: string): Promise<void> {
  const deadline = Date.now() + CONNECT_LIMIT_MS
  while (true) {
    const peers = await cli(['--data-dir', masterDir, 'peers', '--json'], { keepStdout: true })
    if (peers.code === 0 && (JSON.parse(peers.stdout) as Array<{ name: string, reachable: boolean }>).some(peer => peer.name === workerName && peer.reachable)) return
    if (Date.now() > deadline) throw new Error(`the master does not see ${workerName} as reachable after connect:\n${peers.stdout}${peers.stderr}`)
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}

export async function logThroughputBench (): Promise<BenchRow[]> {
  await requireEngine()
  const suffix = randomBytes(3).toString('hex')
  const workerName = `bench-worker-${suffix}`
  const masterDir = await benchDataDir('logs-master')
  const workerDir = await benchDataDir('logs-worker')
  const daemons: DaemonProcess[] = []
  try {
    // The whole payload must be kept: the default --log-limit (16 MiB) would truncate it.
    const keepAll = ['--log-limit', `${2 * PAYLOAD_BYTES}`]
    daemons.push(await startDaemonProcess(masterDir, ['--open', '--no-mdns', '--name', `bench-master-${suffix}`, ...keepAll]))
    daemons.push(await startDaemonProcess(workerDir, ['--open', '--no-mdns', '--name', workerName, ...keepAll]))
    const [master, worker] = daemons

    const id = expectSuccess('cloudai id', await cli(['--data-dir', workerDir, 'id', '--json'], { keepStdout: true }))
    const workerAddr = (JSON.parse(id.stdout) as { addrs: string[] }).addrs[0]
    expectSuccess('cloudai connect', await cli(['--data-dir', masterDir, 'connect', workerAddr]))
    await waitReachable(masterDir, workerName)

    const task = async (target: string, script: string[]): Promise<{ ms: number, bytes: number }> => {
      const run = expectSuccess(`cloudai task ${target}`, await cli(['--data-dir', masterDir, 'task', target, BENCH_IMAGE, '--quiet', '--', ...script], { limitMs: RUN_LIMIT_MS }))
      return { ms: run.ms, bytes: run.stdoutBytes }
    }
    // Warm-up: the first task on each path (image inspect, stream set-up, JIT).
    await task('self', ['true'])
    await task(workerName, ['true'])

    const trueSelf: number[] = []
    const trueRemote: number[] = []
    const rows: BenchRow[] = []
    for (const payload of PAYLOADS) {
      const self: number[] = []
      const remote: number[] = []
      const logs: number[] = []
      const attached: number[] = []
      let logFileBytes = NaN
      const variants: Array<() => Promise<void>> = [
        async () => {
          const run = await task('self', ['sh', '-c', payload.script])
          expectBytes('cloudai task self', run.bytes)
          self.push(mibPerSecond(run.bytes, run.ms))
        },
        async () => {
          const run = await task(workerName, ['sh', '-c', payload.script])
          expectBytes(`cloudai task ${workerName}`, run.bytes)
          remote.push(mibPerSecond(run.bytes, run.ms))
        },
        async () => {
          const run = await dockerLogsRun(payload.script)
          logs.push(mibPerSecond(PAYLOAD_BYTES, run.logsMs))
          attached.push(mibPerSecond(PAYLOAD_BYTES, run.runMs))
          logFileBytes = run.logFileBytes
        },
        // The fixed cost inside each figure, measured alongside the first payload only.
        ...(payload === PAYLOADS[0]
          ? [
              async () => { trueSelf.push((await task('self', ['true'])).ms) },
              async () => { trueRemote.push((await task(workerName, ['true'])).ms) }
            ]
          : [])
      ]
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < variants.length; i++) await variants[(round + i) % variants.length]()
      }
      const baseline = `docker run attached, ${payload.label}`
      const logFile = Number.isFinite(logFileBytes) ? `; its json-file log ${(logFileBytes / MiB).toFixed(0)} MiB` : ''
      const size = `${PAYLOAD_BYTES / MiB} MiB`
      rows.push({
        name: `${size} stdout (${payload.label}) → CLI: task self`,
        value: median(self),
        unit: 'MiB/s',
        baseline,
        baselineValue: median(attached),
        note: `median of ${ROUNDS}, spawn to exit; docker logs ${median(logs).toFixed(0)} MiB/s${logFile}`
      })
      rows.push({
        name: `${size} stdout (${payload.label}) → CLI: task <peer> over libp2p`,
        value: median(remote),
        unit: 'MiB/s',
        baseline,
        baselineValue: median(attached),
        note: `median of ${ROUNDS}, spawn to exit; two daemons on loopback`
      })
    }
    rows.push(await alternatingRows(masterDir, workerName))
    const rss = `peak RSS master ${(await peakRss(master.child.pid)).toFixed(0)} MiB, worker ${(await peakRss(worker.child.pid)).toFixed(0)} MiB`
    rows[0].note += `; a -- true task takes ${median(trueSelf).toFixed(0)} ms`
    rows[1].note += `; a -- true task takes ${median(trueRemote).toFixed(0)} ms; ${rss}`
    return rows
  } finally {
    for (const daemon of daemons) await daemon.stop()
    await rm(masterDir, { recursive: true, force: true })
    await rm(workerDir, { recursive: true, force: true })
  }
}
