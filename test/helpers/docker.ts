import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { CLI } from './cli.ts'
import { waitFor } from './env.ts'

const exec = promisify(execFile)

/** The offline test image that scripts/ensure-docker.sh pushes to the local registry. */
export const IMAGE = '127.0.0.1:5000/cloudai/busybox:1'
/** A reference the registry does not hold. */
export const MISSING_IMAGE = '127.0.0.1:5000/cloudai/does-not-exist:1'

export interface ProcessResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: Buffer
  /** Wall time from spawn to exit. */
  ms: number
}

/** Run a program to completion (SIGKILL after `timeoutMs`), keeping stdout and stderr as exact bytes. */
export async function runProcess (file: string, args: string[], { timeoutMs = 60_000, env = {} }: { timeoutMs?: number, env?: Record<string, string> } = {}): Promise<ProcessResult> {
  const started = Date.now()
  const child = spawn(file, args, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => { out.push(chunk) })
  child.stderr.on('data', (chunk: Buffer) => { err.push(chunk) })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(resolve => child.on('close', (c, s) => { resolve([c, s]) }))
  clearTimeout(timer)
  return { code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err), ms: Date.now() - started }
}

/** `node cli.js …` as a user types it, with exact output bytes. */
export async function runCliBytes (args: string[], options: { timeoutMs?: number, env?: Record<string, string> } = {}): Promise<ProcessResult> {
  return await runProcess(process.execPath, [CLI, ...args], options)
}

export interface LiveCli {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string | null>
  /** Wait (bounded) until stdout satisfies `check`; true if it did. */
  waitForStdout: (check: (stdout: string) => boolean, timeoutMs: number) => Promise<boolean>
  kill: () => void
}

/** Start `node cli.js …` and watch its output while it runs (SIGKILL after `timeoutMs`). */
export function spawnCli (args: string[], { timeoutMs = 60_000 }: { timeoutMs?: number } = {}): LiveCli {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
  const exited = new Promise<number | string | null>(resolve => child.on('close', (code, signal) => { clearTimeout(timer); resolve(code ?? signal) }))
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForStdout: async (check, ms) => await waitFor(() => check(stdout), ms),
    kill: () => { if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL') }
  }
}

/** Run the docker CLI (bounded); rejects on a non-zero exit. */
export async function docker (args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await exec('docker', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 })
  return stdout
}

/** Containers (running or not) that cloudai created on behalf of any of these node peer IDs. */
export async function taskContainers (nodeIds: string[]): Promise<string[]> {
  const names: string[] = []
  for (const nodeId of nodeIds) {
    const out = await docker(['ps', '-a', '--filter', 'label=cloudai.task-id', '--filter', `label=cloudai.node=${nodeId}`, '--format', '{{.Names}}'])
    names.push(...out.split('\n').filter(line => line !== ''))
  }
  return names
}

/** IDs of the containers, running or not, labelled with this task id. */
export async function containersOfTask (taskId: string): Promise<string[]> {
  const out = await docker(['ps', '-a', '--filter', `label=cloudai.task-id=${taskId}`, '--format', '{{.ID}}'])
  return out.split('\n').filter(line => line !== '')
}

/** Force-remove whatever cloudai left behind for these nodes (cleanup after a failed assertion). */
export async function removeTaskContainers (nodeIds: string[]): Promise<void> {
  const names = await taskContainers(nodeIds)
  if (names.length > 0) await docker(['rm', '-f', ...names]).catch(() => '')
}

/** Make sure the engine holds the test image (the registry has it after ensure-docker.sh). */
export async function ensureTestImage (): Promise<void> {
  await docker(['image', 'inspect', IMAGE]).catch(async () => await docker(['pull', IMAGE]))
}

/**
 * Make sure the local registry holds `image`: the busybox test image plus a layer of
 * `bytes` random bytes at /blob, which no other image shares, so pulling it after `docker
 * rmi` moves real bytes. Built offline (`docker run` + `commit`, network none). The engine
 * pushes, so this works from inside the tests' network namespace.
 */
export async function ensureRegistryImage (image: string, bytes: number): Promise<void> {
  try {
    await docker(['pull', image], 30_000)
    return
  } catch {}
  const name = `cloudai-test-build-${randomBytes(4).toString('hex')}`
  try {
    await docker(['run', '--name', name, '--network', 'none', IMAGE, 'sh', '-c', `head -c ${bytes} /dev/urandom > /blob`], 30_000)
    await docker(['commit', name, image], 30_000)
    await docker(['push', image], 30_000)
  } finally {
    await docker(['rm', '-f', name]).catch(() => '')
  }
}
