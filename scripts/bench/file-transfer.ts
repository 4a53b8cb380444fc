/**
 * A task's files through cloudai against `docker cp`, measured in the same run: one large
 * file (1 GiB; 64 MiB with --quick) goes into a container on a peer with `--input` and comes
 * back with `--output`, against `docker cp` of the same file into a created container and
 * out of it again on this machine's engine.
 *
 * Two daemon processes on loopback (`--open --no-mdns`, the master connected to the worker).
 * The cloudai figure is the file's bytes, in and out (2x its size), over the wall time of
 * `cloudai task <worker> … --input … --output … -- true`, spawn to exit: it includes a CLI
 * start-up and a container's whole life (the time of a file-less `-- true` task is in the
 * note, and so are the phases, from the task's event times, and the machine's load). The baseline is 2x the size over `docker create` + `docker cp` in + `docker cp` out
 * + `docker rm`. What lands is checked byte for byte (SHA-256) on both paths; the peak RSS of
 * both daemons shows that nothing is held whole in memory.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemonProcess, type DaemonProcess } from '../../test/helpers/cli.ts'
import type { BenchRow } from './report.ts'
import { BENCH_IMAGE, benchDataDir, cli, expectSuccess, requireEngine, timedRun } from './task-latency.ts'
import { cpuMs, peakRss, profiling } from './daemon-usage.ts'
import { cliCpu, CpuTimeline, enginePid } from './cpu-timeline.ts'

const MiB = 1024 * 1024
const RUN_LIMIT_MS = 600_000
const CONNECT_LIMIT_MS = 15_000

async function writeData (path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256')
  const out = createWriteStream(path)
  const block = randomBytes(MiB)
  for (let written = 0; written < bytes; written += MiB) {
    // Each MiB differs (its index in front), so nothing compresses or deduplicates along the way.
    block.writeUInt32LE(written / MiB, 0)
    hash.update(block)
    if (!out.write(block)) await new Promise<void>(resolve => { out.once('drain', () => { resolve() }) })
  }
  await new Promise<void>((resolve, reject) => { out.end(() => { resolve() }); out.once('error', reject) })
  return hash.digest('hex')
}

async function sha256 (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk)
  return hash.digest('hex')
}

async function waitReachable (masterDir: string, workerName: string): Promise<void> {
  const deadline = Date.now() + CONNECT_LIMIT_MS
  while (true) {
    const peers = await cli(['--data-dir', masterDir, 'peers', '--json'], { keepStdout: true })
    if (peers.code === 0 && (JSON.parse(peers.stdout) as Array<{ name: string, reachable: boolean }>).some(peer => peer.name === workerName && peer.reachable)) return
    if (Date.now() > deadline) throw new Error(`the master does not see ${workerName} after connect`)
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}

/**
 * Where the time went, from the task's own event times (the daemons' clocks are this
 * machine's): up to the first STARTING (CLI start-up, submit), STARTING → RUNNING (the
 * container created and the inputs put in), RUNNING → the end (the run and the outputs
 * collected on the worker), the end → exit (the download to the CLI); with each process's
 * CPU in each phase.
 */
function phasesOf (ndjson: string, spawnedAt: number, exitedAt: number, cpu: CpuTimeline): string {
  const events = ndjson.trim().split('\n').map(line => JSON.parse(line) as { state?: string, time?: string }).filter(event => event.time !== undefined && event.state !== undefined)
  const at = (state: string): number | undefined => { const found = events.find(event => event.state === state); return found === undefined ? undefined : Date.parse(found.time as string) }
  const starting = at('STARTING')
  const running = at('RUNNING')
  const ended = at('SUCCEEDED')
  if (starting === undefined || running === undefined || ended === undefined) return 'phases unknown'
  const phase = (name: string, from: number, to: number): string => `${name} ${((to - from) / 1000).toFixed(1)} s (CPU ${cpu.between(from, to)})`
  return [phase('submit', spawnedAt, starting), phase('create + inputs', starting, running), phase('run + collect', running, ended), phase('download', ended, exitedAt)].join(', ')
}

function mibPerSecond (bytes: number, ms: number): number {
  return bytes / MiB / (ms / 1000)
}

export async function fileTransferBench (quick = false): Promise<BenchRow[]> {
  await requireEngine()
  // CLOUDAI_BENCH_FILE_MIB: another size, for trying a change at less than the full gibibyte.
  const size = Number(process.env.CLOUDAI_BENCH_FILE_MIB ?? (quick ? 64 : 1024)) * MiB
  const suffix = randomBytes(3).toString('hex')
  const workerName = `bench-files-${suffix}`
  const scratch = await mkdtemp(join(tmpdir(), 'cloudai-bench-files-'))
  const masterDir = await benchDataDir('files-master')
  const workerDir = await benchDataDir('files-worker')
  const daemons: DaemonProcess[] = []
  const container = `cloudai-bench-files-${suffix}`
  try {
    const source = join(scratch, 'data.bin')
    const digest = await writeData(source, size)
    daemons.push(await startDaemonProcess(masterDir, ['--open', '--no-mdns', '--name', `bench-files-master-${suffix}`], { env: profiling('files-master') }))
    daemons.push(await startDaemonProcess(workerDir, ['--open', '--no-mdns', '--name', workerName], { env: profiling('files-worker') }))
    const [master, worker] = daemons
    const id = expectSuccess('cloudai id', await cli(['--data-dir', workerDir, 'id', '--json'], { keepStdout: true }))
    expectSuccess('cloudai connect', await cli(['--data-dir', masterDir, 'connect', (JSON.parse(id.stdout) as { addrs: string[] }).addrs[0]]))
    await waitReachable(masterDir, workerName)
    const trueTask = expectSuccess('cloudai task -- true', await cli(['--data-dir', masterDir, 'task', workerName, BENCH_IMAGE, '--quiet', '--', 'true'], { limitMs: 60_000 }))

    // The baseline first: the file is then in the page cache for both.
    const engine = await enginePid()
    const engineBefore = await cpuMs(engine)
    const dockerStart = performance.now()
    const dockerCli = await cliCpu(async () => {
      expectSuccess('docker create', await timedRun('docker', ['create', '--name', container, '--network', 'none', BENCH_IMAGE, 'true'], { limitMs: 60_000 }))
      expectSuccess('docker cp in', await timedRun('docker', ['cp', source, `${container}:/data.bin`], { limitMs: RUN_LIMIT_MS }))
      expectSuccess('docker cp out', await timedRun('docker', ['cp', `${container}:/data.bin`, join(scratch, 'docker-out.bin')], { limitMs: RUN_LIMIT_MS }))
      expectSuccess('docker rm', await timedRun('docker', ['rm', '--force', container], { limitMs: 60_000 }))
    })
    const dockerMs = performance.now() - dockerStart
    const dockerCpu = `CPU engine ${((await cpuMs(engine) - engineBefore) / 1000).toFixed(1)} s, docker CLI ${(dockerCli.cpuMs / 1000).toFixed(1)} s`
    if (await sha256(join(scratch, 'docker-out.bin')) !== digest) throw new Error('docker cp brought back other bytes')
    await rm(join(scratch, 'docker-out.bin'))

    const landed = join(scratch, 'cloudai-out')
    const cpuBefore = await Promise.all(daemons.map(async daemon => await cpuMs(daemon.child.pid)))
    const timeline = new CpuTimeline({ master: master.child.pid, worker: worker.child.pid, engine })
    await timeline.start()
    const spawnedAt = Date.now()
    const task = await cliCpu(async () => await cli(['--data-dir', masterDir, 'task', workerName, BENCH_IMAGE, '--json', '--storage', '4g',
      '--input', `${source}:/in/data.bin`, '--output', `/in:${landed}`, '--output-limit', `${2 * size}`, '--', 'true'], { limitMs: RUN_LIMIT_MS, keepStdout: true }))
    const run = expectSuccess('cloudai task --input --output', task.result)
    await timeline.stop()
    const cpuAfter = await Promise.all(daemons.map(async daemon => await cpuMs(daemon.child.pid)))
    const phases = phasesOf(run.stdout, spawnedAt, spawnedAt + run.ms, timeline)
    if (await sha256(join(landed, 'data.bin')) !== digest) throw new Error('cloudai brought back other bytes')
    const rss = `peak RSS master ${(await peakRss(master.child.pid)).toFixed(0)} MiB, worker ${(await peakRss(worker.child.pid)).toFixed(0)} MiB`
    return [{
      name: `${size / MiB} MiB file in and out of a container on a peer: task --input --output`,
      value: mibPerSecond(2 * size, run.ms),
      unit: 'MiB/s',
      baseline: 'docker cp in and out, same engine',
      baselineValue: mibPerSecond(2 * size, dockerMs),
      note: `${(run.ms / 1000).toFixed(1)} s vs ${(dockerMs / 1000).toFixed(1)} s, spawn to exit (${phases}); a -- true task takes ${trueTask.ms.toFixed(0)} ms; CPU master ${((cpuAfter[0] - cpuBefore[0]) / 1000).toFixed(1)} s, worker ${((cpuAfter[1] - cpuBefore[1]) / 1000).toFixed(1)} s, CLI ${(task.cpuMs / 1000).toFixed(1)} s (docker cp: ${dockerCpu}); ${rss}; bytes checked by SHA-256; load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`
    }]
  } finally {
    await timedRun('docker', ['rm', '--force', container], { limitMs: 60_000 }).catch(() => {})
    for (const daemon of daemons) await daemon.stop()
    await rm(masterDir, { recursive: true, force: true })
    await rm(workerDir, { recursive: true, force: true })
    await rm(scratch, { recursive: true, force: true })
  }
}
