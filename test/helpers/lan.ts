/**
 * A LAN in a box for tests: scripts/lan.sh makes a bridge and N hosts as network
 * namespaces; this harness starts one `cloudai start` daemon per host (its own data dir, the
 * shared cluster key), runs the CLI inside a given host as a user would type it, kills
 * daemons, cuts links, and always tears everything down: call `teardown()` from an `after`
 * hook; a process exit or signal runs it too (synchronously) should the hook never run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { assertNothingUnhandled, CLI, runCli, type CliResult } from './cli.ts'
import { mdnsTag, tempDir, waitFor } from './env.ts'

export const LAN_SH = resolve(import.meta.dirname, '../../../scripts/lan.sh')

export interface LanDaemon {
  host: number
  name: string
  child: ChildProcess
  dataDir: string
  /** Everything the daemon printed (stdout and stderr), so far. */
  output: () => string
  exited: Promise<number | null>
  /** when the process was spawned, and when its API file appeared (ms since the epoch) */
  startedAt: number
  readyAt: number
}

/** When a daemon logged "peer joined" for each peer name (from its JSON log lines). */
export function peerJoinTimes (output: string): Map<string, number> {
  const times = new Map<string, number>()
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      const entry = JSON.parse(line)
      if (entry.msg === 'peer joined' && typeof entry.name === 'string' && !times.has(entry.name)) times.set(entry.name, entry.time)
    } catch {}
  }
  return times
}

export interface LanHost {
  index: number
  /** host-<i>, the name its daemon announces */
  name: string
  /** 10.77.0.<i> */
  address: string
  dataDir: string
  daemon?: LanDaemon
  /** Run a command inside this host's network namespace (bounded). */
  exec: (args: string[], opts?: { timeoutMs?: number }) => Promise<CliResult>
}

/** A CLI command still running inside a host (a following `task`, `logs -f`). */
export interface LanLiveCli {
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string | null>
  /** Wait (bounded) until stdout, or stderr, satisfies `check`; true if it did. */
  waitForStdout: (check: (stdout: string) => boolean, timeoutMs: number) => Promise<boolean>
  waitForStderr: (check: (stderr: string) => boolean, timeoutMs: number) => Promise<boolean>
  kill: () => void
}

export interface Lan {
  id: string
  tag: string
  hosts: LanHost[]
  /** Start host i's daemon (1-based) and wait for its API file; `env` adds to its environment (DOCKER_HOST: another engine). */
  startDaemon: (host: number, extra?: string[], options?: { env?: Record<string, string> }) => Promise<LanDaemon>
  /** `node cli.js --data-dir <host i's dir> …` inside host i's namespace. */
  cli: (host: number, args: string[], opts?: { timeoutMs?: number }) => Promise<CliResult>
  /** SIGKILL host i's daemon and wait (bounded) for it to be gone. */
  kill: (host: number) => Promise<void>
  /**
   * Start host i's daemon again on the same data dir (killing it first if it runs), with
   * `extra` start flags: removes the `api` file a killed daemon leaves behind, so that the
   * wait for the new one's file means something.
   */
  restartDaemon: (host: number, extra?: string[]) => Promise<LanDaemon>
  /** Start `node cli.js --data-dir <host i's dir> …` inside host i and watch it while it runs (SIGKILL after timeoutMs). */
  spawnCli: (host: number, args: string[], opts?: { timeoutMs?: number }) => LanLiveCli
  /** Give host i a cluster key of its own (`cloudai init` in its data dir, the shared key removed first); returns the key's fingerprint. */
  rekey: (host: number) => Promise<string>
  cut: (host: number) => Promise<void>
  restore: (host: number) => Promise<void>
  teardown: () => Promise<void>
}

/** Why a LAN cannot be made here, or undefined when it can. */
export function lanUnavailable (): string | undefined {
  if (process.getuid?.() !== 0) return 'the LAN tests need root to create network namespaces (run "npm test" as root)'
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  if (probe.error != null || probe.status !== 0) return `"ip netns" does not work here: ${probe.error?.message ?? probe.stderr}`
  return undefined
}

function run (cmd: string, args: string[], { timeoutMs = 30_000, env = {} }: { timeoutMs?: number, env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise(resolve => {
    const child = spawn(cmd, args, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => { stdout += chunk })
    child.stderr.on('data', chunk => { stderr += chunk })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
    child.on('error', err => { stderr += String(err) })
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

/** Every LAN still up in this process, for the exit handler. */
const live = new Set<{ id: string, dir: string, daemons: () => ChildProcess[] }>()
let handlersInstalled = false

function downSync (id: string, dir: string, daemons: ChildProcess[]): void {
  for (const child of daemons) if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL')
  spawnSync('bash', [LAN_SH, 'down'], { env: { ...process.env, CLOUDAI_LAN_ID: id }, stdio: 'ignore', timeout: 30_000 })
  rmSync(dir, { recursive: true, force: true })
}

function installExitHandlers (): void {
  if (handlersInstalled) return
  handlersInstalled = true
  const cleanAll = (): void => { for (const lan of live) downSync(lan.id, lan.dir, lan.daemons()); live.clear() }
  process.on('exit', cleanAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => { cleanAll(); process.kill(process.pid, signal) })
  }
}

/** Create an N-host LAN; throws (never skips) when namespaces cannot be made. */
export async function createLan (n: number, { tag = mdnsTag() }: { tag?: string } = {}): Promise<Lan> {
  const why = lanUnavailable()
  if (why != null) throw new Error(why)
  const id = randomBytes(2).toString('hex')
  const env = { CLOUDAI_LAN_ID: id }
  const daemons: LanDaemon[] = []
  const dir = await tempDir('cloudai-lan-')
  const handle = { id, dir: dir.path, daemons: () => daemons.map(d => d.child) }
  installExitHandlers()
  live.add(handle)

  const up = await run('bash', [LAN_SH, 'up', String(n)], { env, timeoutMs: 60_000 })
  if (up.code !== 0) {
    live.delete(handle)
    await dir.remove()
    throw new Error(`cannot create the LAN (lan.sh up ${n}, exit ${up.code}):\n${up.stderr}`)
  }

  const exec = async (host: number, args: string[], { timeoutMs = 30_000 } = {}): Promise<CliResult> =>
    await run('bash', [LAN_SH, 'exec', String(host), ...args], { env, timeoutMs })

  const hosts: LanHost[] = []
  for (let i = 1; i <= n; i++) {
    const dataDir = join(dir.path, `host-${i}`)
    hosts.push({ index: i, name: `host-${i}`, address: `10.77.0.${i}`, dataDir, exec: async (args, opts) => await exec(i, args, opts) })
  }

  let tornDown = false
  const lan: Lan = {
    id,
    tag,
    hosts,
    async startDaemon (host, extra = [], options = {}) {
      const h = hosts[host - 1]
      const child = spawn('bash', [LAN_SH, 'exec', String(host), process.execPath, CLI, '--data-dir', h.dataDir, 'start',
        '--name', h.name, '--api', '127.0.0.1:0', '--mdns-tag', tag, ...extra], {
        env: { ...process.env, ...env, NO_COLOR: '1', ...options.env },
        stdio: ['ignore', 'pipe', 'pipe']
      })
      let output = ''
      child.stdout!.on('data', chunk => { output += chunk })
      child.stderr!.on('data', chunk => { output += chunk })
      const exited = new Promise<number | null>(resolve => child.on('exit', code => { resolve(code) }))
      const daemon: LanDaemon = { host, name: h.name, child, dataDir: h.dataDir, output: () => output, exited, startedAt: Date.now(), readyAt: 0 }
      daemons.push(daemon)
      h.daemon = daemon
      const apiFile = join(h.dataDir, 'api')
      const ready = await waitFor(async () => child.exitCode != null || await readFile(apiFile).then(() => true, () => false), 20_000, 50)
      if (!ready || child.exitCode != null) {
        await lan.kill(host)
        throw new Error(`${h.name}'s daemon did not become ready (exit ${child.exitCode}):\n${output}`)
      }
      daemon.readyAt = Date.now()
      return daemon
    },
    async cli (host, args, opts) {
      return await exec(host, [process.execPath, CLI, '--data-dir', hosts[host - 1].dataDir, ...args], opts)
    },
    async kill (host) {
      const d = hosts[host - 1].daemon
      if (d == null) return
      // `lan.sh exec` replaces itself with `ip netns exec`, which execs node: same pid.
      if (d.child.exitCode == null && d.child.signalCode == null) d.child.kill('SIGKILL')
      await Promise.race([d.exited, new Promise(resolve => setTimeout(resolve, 10_000))])
    },
    async restartDaemon (host, extra = []) {
      await lan.kill(host)
      await rm(join(hosts[host - 1].dataDir, 'api'), { force: true })
      return await lan.startDaemon(host, extra)
    },
    spawnCli (host, args, { timeoutMs = 60_000 } = {}) {
      const child = spawn('bash', [LAN_SH, 'exec', String(host), process.execPath, CLI, '--data-dir', hosts[host - 1].dataDir, ...args], {
        env: { ...process.env, ...env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe']
      })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
      const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
      const exited = new Promise<number | string | null>(resolve => child.on('close', (code, signal) => { clearTimeout(timer); resolve(code ?? signal) }))
      return {
        stdout: () => stdout,
        stderr: () => stderr,
        exited,
        waitForStdout: async (check, ms) => await waitFor(() => check(stdout), ms),
        waitForStderr: async (check, ms) => await waitFor(() => check(stderr), ms),
        kill: () => { if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL') }
      }
    },
    async rekey (host) {
      const dataDir = hosts[host - 1].dataDir
      await mkdir(dataDir, { recursive: true, mode: 0o700 })
      await rm(join(dataDir, 'swarm.key'), { force: true })
      const init = await runCli(['--data-dir', dataDir, 'init', '--json'])
      if (init.code !== 0) throw new Error(`cloudai init on host ${host} failed: ${init.stderr}`)
      return String(JSON.parse(init.stdout).keyFingerprint ?? '')
    },
    async cut (host) {
      const r = await run('bash', [LAN_SH, 'cut', String(host)], { env })
      if (r.code !== 0) throw new Error(`lan.sh cut ${host}: ${r.stderr}`)
    },
    async restore (host) {
      const r = await run('bash', [LAN_SH, 'restore', String(host)], { env })
      if (r.code !== 0) throw new Error(`lan.sh restore ${host}: ${r.stderr}`)
    },
    async teardown () {
      if (tornDown) return
      tornDown = true
      await Promise.all(hosts.map(async h => { await lan.kill(h.index) }))
      const down = await run('bash', [LAN_SH, 'down'], { env, timeoutMs: 30_000 })
      live.delete(handle)
      await dir.remove()
      if (down.code !== 0) throw new Error(`lan.sh down failed: ${down.stderr}`)
      for (const daemon of daemons) assertNothingUnhandled(daemon.name, daemon.output())
    }
  }

  try {
    // One cluster key, made on host 1 (no network needed), copied to every host's data dir.
    await mkdir(hosts[0].dataDir, { recursive: true, mode: 0o700 })
    const init = await runCli(['--data-dir', hosts[0].dataDir, 'init', '--json'])
    if (init.code !== 0) throw new Error(`cloudai init failed: ${init.stderr}`)
    for (const h of hosts.slice(1)) {
      await mkdir(h.dataDir, { recursive: true, mode: 0o700 })
      await copyFile(join(hosts[0].dataDir, 'swarm.key'), join(h.dataDir, 'swarm.key'))
    }
  } catch (err) {
    await lan.teardown()
    throw err
  }
  return lan
}
