import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { IDENTITY_FILE, loadOrCreateIdentity } from '../../node/src/mesh/identity.ts'
import { UNHANDLED_MESSAGE } from '../../node/src/process-guard.ts'
import { waitFor } from './env.ts'

/** The launcher a user runs, at the project root. */
export const CLI = resolve(import.meta.dirname, '../../../cli.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Run `node cli.js …` to completion (bounded), as a user would type it; `input`, if given, is piped to its stdin. */
export async function runCli (args: string[], { timeoutMs = 30_000, env = {}, input }: { timeoutMs?: number, env?: Record<string, string>, input?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: [input != null ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
  if (input != null) child.stdin!.end(input)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', chunk => { stdout += chunk })
  child.stderr!.on('data', chunk => { stderr += chunk })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/**
 * Every daemon the suite runs is checked as it stops: an error its process guard caught (a
 * rejection or exception no code handled) fails the test that ran it, although the daemon
 * ran on.
 */
export function assertNothingUnhandled (what: string, output: string): void {
  const caught = output.split('\n').filter(line => line.includes(UNHANDLED_MESSAGE))
  if (caught.length > 0) throw new Error(`the daemon of ${what} logged ${caught.length} error(s) no code handled:\n${caught.join('\n')}`)
}

export interface DaemonProcess {
  child: ChildProcess
  dataDir: string
  output: () => string
  /** SIGTERM, then wait (bounded) for the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

/** Start `cloudai start` as its own process on loopback and wait until its API file appears. */
export async function startDaemonProcess (dataDir: string, args: string[], { readyTimeoutMs = 20_000, env = {} }: { readyTimeoutMs?: number, env?: Record<string, string> } = {}): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [CLI, '--data-dir', dataDir, 'start', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout!.on('data', chunk => { output += chunk })
  child.stderr!.on('data', chunk => { output += chunk })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => { resolve(code) }))
  const daemon: DaemonProcess = {
    child,
    dataDir,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode == null && child.signalCode == null) child.kill(signal)
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 15_000)
      const code = await exited
      clearTimeout(timer)
      assertNothingUnhandled(dataDir, output)
      return code
    }
  }
  const ready = await waitFor(async () => child.exitCode != null || await readFile(join(dataDir, 'api')).then(() => true, () => false), readyTimeoutMs)
  if (!ready || child.exitCode != null) {
    await daemon.stop('SIGKILL')
    throw new Error(`the daemon did not become ready (exit ${child.exitCode}):\n${output}`)
  }
  return daemon
}

/** `cloudai init` for each named node in `root/<name>`, every one holding the first one's cluster key. */
export async function initNodes<N extends string> (root: string, names: readonly N[]): Promise<{ dataDirs: Record<N, string>, peerIds: Record<N, string> }> {
  const dataDirs = {} as Record<N, string>
  const peerIds = {} as Record<N, string>
  for (const name of names) {
    dataDirs[name] = join(root, name)
    const init = await runCli(['--data-dir', dataDirs[name], 'init', '--json'])
    if (init.code !== 0) throw new Error(`cloudai init for ${name} failed: ${init.stderr}`)
    peerIds[name] = JSON.parse(init.stdout).peerId
  }
  for (const name of names.slice(1)) await copyFile(join(dataDirs[names[0]], 'swarm.key'), join(dataDirs[name], 'swarm.key'))
  return { dataDirs, peerIds }
}

/**
 * A data dir with an identity of its own, made here rather than by a CLI run, and the peer ID
 * it gives: embedded nodes that run at once each need their own, because a starting node
 * removes the containers labelled with its ID that its store does not claim.
 */
export async function dataDirWithIdentity (dataDir: string): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const { key } = await loadOrCreateIdentity(join(dataDir, IDENTITY_FILE))
  return peerIdFromPrivateKey(key).toString()
}
