import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { BenchRow } from './report.ts'
import { rssMiB } from './daemon-usage.ts'

const CLI = resolve(import.meta.dirname, '../../../cli.js')
const BARE_NODE = resolve(import.meta.dirname, 'bare-node.js')
/** Let start-up garbage settle before reading the resident set. */
const IDLE_SETTLE_MS = 5_000
const READY_LIMIT_MS = 30_000

/** Start a process, wait until `ready(output)`, idle, read its RSS in MiB, stop it. */
async function idleRss (args: string[], ready: (output: string) => boolean): Promise<number> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', chunk => { output += chunk })
  child.stderr.on('data', chunk => { output += chunk })
  try {
    const deadline = Date.now() + READY_LIMIT_MS
    while (!ready(output)) {
      if (Date.now() > deadline || child.exitCode != null) throw new Error(`process did not become ready:\n${output}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    await new Promise(resolve => setTimeout(resolve, IDLE_SETTLE_MS))
    return await rssMiB(child.pid!)
  } finally {
    child.kill('SIGTERM')
    await new Promise(resolve => child.once('exit', resolve))
  }
}

export async function idleRssBench (): Promise<BenchRow[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cloudai-bench-rss-'))
  const tag = `bench-${randomBytes(4).toString('hex')}`
  try {
    const bare = await idleRss([BARE_NODE, tag], output => output.includes('ready'))
    const daemon = await idleRss(
      [CLI, '--data-dir', dataDir, 'start', '--open', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--mdns-tag', tag],
      output => output.includes('Press Ctrl-C to stop')
    )
    return [{ name: 'idle RSS of one daemon process', value: daemon, unit: 'MiB', baseline: 'bare libp2p node process', baselineValue: bare }]
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
}
