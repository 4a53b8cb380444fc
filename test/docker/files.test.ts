import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { CLI, type DaemonProcess, initNodes, runCli, startDaemonProcess } from '../helpers/cli.ts'
import { docker, ensureTestImage, IMAGE, removeTaskContainers } from '../helpers/docker.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'

/**
 * A task's files on the real engine, with two daemons ("alpha", the submitter, and "beta")
 * on one engine: the files come from disk and go back to disk, so one engine proves the
 * transfers. What is asserted is what a user sees: exit codes, messages, and the files that
 * land, compared byte for byte with what went in.
 */

const TASK_DIR = resolve(import.meta.dirname, '../../../sample-tasks/task1')
/** The sample task as its Dockerfile builds it, from the Python base set-up put in the engine; never pushed, so no worker pulls it. */
const SAMPLE = '127.0.0.1:5000/cloudai-files-test/sample:1'
const BOUND_MS = 90_000
const MiB = 1024 ** 2

let dir: { path: string, remove: () => Promise<void> }
const dataDirs = { alpha: '', beta: '' }
const nodeIds = { alpha: '', beta: '' }
const daemons: Partial<Record<'alpha' | 'beta', DaemonProcess>> = {}
const tag = mdnsTag()
let work = ''

async function cli (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await runCli(['--data-dir', dataDirs.alpha, ...args], { timeoutMs: BOUND_MS })
}

async function startDaemon (node: 'alpha' | 'beta'): Promise<void> {
  daemons[node] = await startDaemonProcess(dataDirs[node], ['--name', node, '--mdns-tag', tag, '--cpu', '2'])
}

async function meshReady (): Promise<boolean> {
  return await waitFor(async () => {
    const peers = await runCli(['--data-dir', dataDirs.alpha, 'peers', '--json'])
    return peers.code === 0 && (JSON.parse(peers.stdout) as any[]).some(peer => peer.name === 'beta' && peer.reachable === true)
  }, 30_000, 200)
}

/** Every file and directory under `root`, with each file's digest: two trees are equal when these are. */
async function tree (root: string): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  const walk = async (path: string, name: string): Promise<void> => {
    const info = await lstat(path)
    if (info.isDirectory()) {
      found.set(name, 'dir')
      for (const child of await readdir(path)) await walk(join(path, child), name === '' ? child : `${name}/${child}`)
    } else {
      found.set(name, createHash('sha256').update(await readFile(path)).digest('hex'))
    }
  }
  await walk(root, '')
  return found
}

before(async () => {
  requireTestNamespace()
  await ensureTestImage()
  await docker(['build', '-q', '--network', 'none', '--build-arg', 'BASE=cloudai/python-base:3', '-t', SAMPLE, TASK_DIR], 120_000)
  dir = await tempDir()
  work = join(dir.path, 'work')
  await mkdir(work)
  const nodes = await initNodes(dir.path, ['alpha', 'beta'] as const)
  Object.assign(dataDirs, nodes.dataDirs)
  Object.assign(nodeIds, nodes.peerIds)
  await Promise.all([startDaemon('alpha'), startDaemon('beta')])
  assert.ok(await meshReady(), 'alpha never saw beta')
})

after(async () => {
  for (const daemon of Object.values(daemons)) await daemon?.stop('SIGKILL')
  await removeTaskContainers(Object.values(nodeIds).filter(id => id !== ''))
  await docker(['image', 'rm', SAMPLE]).catch(() => {})
  await dir?.remove()
})

/** The sample task's run of one CSV on `target`, its results landing in `local`. */
async function sample (target: string, local: string, extra: string[] = []): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await cli(['task', target, SAMPLE, '--input', `${join(work, 'readings.csv')}`, '--output', `/out:${local}`, ...extra])
}

test('the sample task summarizes a CSV given with --input and its result file and plot come back, from self, from a peer and through auto', async () => {
  const rows = ['time,value', ...Array.from({ length: 200 }, (_, i) => `${i},${(20 + Math.sin(i / 7) * 3).toFixed(3)}`)]
  await writeFile(join(work, 'readings.csv'), rows.join('\n') + '\n')
  for (const target of ['self', 'beta']) {
    const local = join(work, `sample-${target}`)
    const run = await sample(target, local)
    assert.equal(run.code, 0, run.stderr)
    const last = JSON.parse(run.stdout.trimEnd().split('\n').at(-1) ?? '')
    assert.equal(last.count, 200)
    const summary = JSON.parse(await readFile(join(local, 'summary.json'), 'utf8'))
    assert.equal(summary.count, 200)
    assert.equal(summary.source, '/in/readings.csv')
    assert.deepEqual(summary.histogram, last.histogram)
    assert.match(await readFile(join(local, 'histogram.svg'), 'utf8'), /^<svg [^>]*>[\s\S]*<rect /)
    // Where the results are and how big, at the end of the human output.
    assert.match(run.stderr, new RegExp(`✔ /out → ${local} \\(2 files, [0-9.]+ (B|KiB), sha256 [0-9a-f]{16}…\\)`))
  }
  // auto, with --json: transfer progress as events, then one outputs line naming where they landed.
  const local = join(work, 'sample-auto')
  const run = await sample('auto', local, ['--json'])
  assert.equal(run.code, 0, run.stderr)
  const lines = run.stdout.trim().split('\n').map(line => JSON.parse(line))
  const terminal = lines.find(line => line.state === 'SUCCEEDED')
  assert.equal(terminal?.outputs?.[0]?.path, '/out')
  assert.equal(terminal.outputs[0].files, 2)
  assert.ok(lines.some(line => line.transfer?.direction === 'inputs'), 'the inputs\' transfer is reported')
  const outputs = lines.at(-1).outputs
  assert.equal(outputs[0].local, local)
  assert.equal(outputs[0].sha256, terminal.outputs[0].sha256)
  assert.equal(outputs[0].complete, true)
  assert.equal(JSON.parse(await readFile(join(local, 'summary.json'), 'utf8')).count, 200)
  // Existing results are never overwritten.
  const again = await sample('self', join(work, 'sample-self'))
  assert.equal(again.code, 1)
  assert.match(again.stderr, /sample-self exists already: results never overwrite anything/)
})

test('10,000 small files, a large one, empty directories and unicode names reach a peer\'s container and come back byte for byte; status lists the outputs', async () => {
  const input = join(work, 'many')
  for (let d = 0; d < 100; d++) {
    await mkdir(join(input, `d${d}`), { recursive: true })
    await Promise.all(Array.from({ length: 100 }, async (_, f) => { await writeFile(join(input, `d${d}`, `f${f}.txt`), `${d}/${f}\n`) }))
  }
  await mkdir(join(input, 'empty/nested-empty'), { recursive: true })
  await writeFile(join(input, 'données-✓ 数据.txt'), 'unicode ✓\n')
  const large = Buffer.alloc(8 * MiB)
  for (let at = 0; at < large.length; at += 4096) large.writeUInt32LE(at * 2654435761 >>> 0, at)
  await writeFile(join(input, 'large.bin'), large)
  const local = join(work, 'many-back')
  const run = await cli(['task', 'beta', IMAGE, '--input', `${input}:/data/many`, '--output', `/out:${local}`, '--quiet', '--', 'sh', '-c', 'mkdir /out && cp -a /data/many /out/ && ls /out/many | wc -l'])
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout.trim(), '103')
  const sent = await tree(input)
  const back = await tree(join(local, 'many'))
  assert.equal(back.size, sent.size)
  assert.deepEqual(back, sent)
  const taskId = (JSON.parse((await cli(['tasks', '--json', '--limit', '1'])).stdout) as any[])[0].taskId
  const status = await cli(['status', taskId])
  assert.equal(status.code, 0, status.stderr)
  assert.match(status.stdout, /\/out\s+10,?002 files\s+8(\.\d+)? MiB\s+sha256 [0-9a-f]{64}\s+complete/)
})

test('past --output-limit the task fails and says so with the numbers; what fits is kept, marked incomplete', async () => {
  const local = join(work, 'limited')
  const run = await cli(['task', 'self', IMAGE, '--output', `/out:${local}`, '--output-limit', '2.5m', '--', 'sh', '-c', 'mkdir /out && for i in 1 2 3; do head -c 1048576 /dev/zero > /out/part$i; done'])
  assert.equal(run.code, 1, run.stderr)
  assert.match(run.stderr, /the outputs exceed --output-limit 2\.5 MiB: "out\/part3" in \/out would bring them to 3 MiB; what fit is kept/)
  assert.match(run.stderr, /⚠ \/out is incomplete \(2 files, 2 MiB kept\)/)
  assert.deepEqual((await readdir(join(local))).sort(), ['part1', 'part2'])
})

test('--count 2 with --output: each copy\'s results land in a directory of its own, named by its task', async () => {
  const local = join(work, 'copies')
  const run = await cli(['task', 'beta', IMAGE, '--count', '2', '--output', `/out:${local}`, '--', 'sh', '-c', 'mkdir /out && hostname > /out/host'])
  assert.equal(run.code, 0, run.stderr)
  const taskIds = run.stdout.trim().split('\n').filter(line => /^[a-z0-9]+-[0-9a-f]{12}$/.test(line))
  assert.equal(taskIds.length, 2, run.stdout)
  assert.deepEqual((await readdir(local)).sort(), [...taskIds].sort())
  const hosts = await Promise.all(taskIds.map(async id => (await readFile(join(local, id, 'host'), 'utf8')).trim()))
  assert.notEqual(hosts[0], hosts[1], 'each directory holds its own copy\'s result')
  for (const id of taskIds) assert.match(run.stderr, new RegExp(`✔ /out → ${join(local, id)} \\(1 file, `))
})

test('a CLI killed mid-download leaves no results in place; after the daemon restarts, results fetches them whole', async () => {
  const big = join(work, 'big.bin')
  const bytes = Buffer.alloc(24 * MiB)
  for (let at = 0; at < bytes.length; at += 4096) bytes.writeUInt32LE((at * 40503) >>> 0, at)
  await writeFile(big, bytes)
  const local = join(work, 'interrupted')
  const child = spawn(process.execPath, [CLI, '--data-dir', dataDirs.alpha, 'task', 'beta', IMAGE, '--detach', '--input', `${big}:/in/big.bin`, '--output', `/in:${local}`, '--', 'true'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', chunk => { out += chunk })
  await new Promise(resolve => child.on('close', resolve))
  const taskId = out.trim()
  assert.match(taskId, /^[a-z0-9]+-[0-9a-f]{12}$/)
  assert.ok(await waitFor(async () => JSON.parse((await cli(['status', taskId, '--json'])).stdout).state === 'SUCCEEDED', BOUND_MS, 200), 'the task succeeded')
  // `results` is killed as soon as its download has begun.
  const dest = join(work, 'fetched')
  // Staged beside where the output lands: DEST/.cloudai-partial-<task>, moved to DEST/in once whole.
  const staging = join(dest, `.cloudai-partial-${taskId}`)
  const results = spawn(process.execPath, [CLI, '--data-dir', dataDirs.alpha, 'results', taskId, dest], { stdio: ['ignore', 'ignore', 'pipe'], cwd: work })
  let said = ''
  results.stderr.on('data', chunk => { said += chunk })
  const closed = new Promise(resolve => results.on('close', resolve))
  const begun = await waitFor(async () => await lstat(join(staging, '0')).then(() => true, () => false), 30_000, 10)
  results.kill('SIGKILL')
  await closed
  assert.ok(begun, `the download began: ${said}`)
  assert.equal(await lstat(join(dest, 'in')).then(() => 'there', () => 'absent'), 'absent', 'an interrupted download puts nothing where the results go')
  await daemons.alpha?.stop('SIGTERM')
  await startDaemon('alpha')
  assert.ok(await meshReady(), 'alpha sees beta again')
  const fetched = await runCli(['--data-dir', dataDirs.alpha, 'results', taskId.slice(0, 12), dest, '--json'], { timeoutMs: BOUND_MS })
  assert.equal(fetched.code, 0, fetched.stderr)
  assert.deepEqual(await tree(join(dest, 'in')), new Map([['', 'dir'], ['big.bin', createHash('sha256').update(bytes).digest('hex')]]))
  assert.equal(await lstat(staging).then(() => 'there', () => 'gone'), 'gone')
  const landed = JSON.parse(fetched.stdout.trim().split('\n').at(-1) ?? '').outputs
  assert.equal(landed[0].bytes, 24 * MiB)
})
