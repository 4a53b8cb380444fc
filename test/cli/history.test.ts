import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { TaskStore } from '../../node/src/store/store.ts'
import { runCli, startDaemonProcess, type CliResult, type DaemonProcess } from '../helpers/cli.ts'
import { tempDir, waitFor } from '../helpers/env.ts'
import { nextMillisecond, OUTPUT_CHUNK_BYTES, recordPastTask, type PastTask } from '../helpers/history.ts'

/**
 * History retention and paging as a user meets them: `cloudai prune`
 * without a daemon and through one, `start --keep-for/--keep-size` applied at once, and
 * `tasks` a page at a time. The histories are written beforehand with the node's own store,
 * dated in the past.
 */

const DAY_MS = 86_400_000
const BOUND_MS = 30_000

let dir: { path: string, remove: () => Promise<void> }
const daemons: DaemonProcess[] = []

before(async () => { dir = await tempDir() })
after(async () => {
  await Promise.all(daemons.map(async daemon => await daemon.stop('SIGKILL')))
  await dir?.remove()
})

async function cli (dataDir: string, args: string[]): Promise<CliResult> {
  return await runCli(['--data-dir', dataDir, ...args], { timeoutMs: BOUND_MS })
}

/** A node's data dir (identity and key, as `init` makes them) whose store holds these tasks, recorded in this order. */
async function dataDirWith (name: string, tasks: Array<[string, PastTask]>): Promise<string> {
  const dataDir = join(dir.path, name)
  const init = await cli(dataDir, ['init', '--json'])
  assert.equal(init.code, 0, init.stderr)
  const store = TaskStore.open(dataDir)
  try {
    for (const [id, task] of tasks) {
      recordPastTask(store, id, task)
      await nextMillisecond()
    }
  } finally {
    store.close()
  }
  return dataDir
}

async function listed (dataDir: string, extra: string[] = []): Promise<string[]> {
  const result = await cli(dataDir, ['tasks', '--json', ...extra])
  assert.equal(result.code, 0, result.stderr)
  return JSON.parse(result.stdout).map((task: any) => task.taskId)
}

async function pruneJson (dataDir: string, extra: string[] = []): Promise<any> {
  const result = await cli(dataDir, ['prune', '--json', ...extra])
  assert.equal(result.code, 0, result.stderr)
  return JSON.parse(result.stdout)
}

async function daemon (dataDir: string, extra: string[] = []): Promise<DaemonProcess> {
  const started = await startDaemonProcess(dataDir, ['--no-mdns', ...extra])
  daemons.push(started)
  return started
}

test('prune without a daemon: finished tasks older than --older-than (30 days unless given) go with their events; unfinished ones stay', async () => {
  const now = Date.now()
  const dataDir = await dataDirWith('solo', [
    ['ancient', { endedAt: now - 400 * DAY_MS, outputBytes: 2 * OUTPUT_CHUNK_BYTES }],
    ['last-week', { endedAt: now - 7 * DAY_MS, pullEvents: 1000 }],
    ['running', {}]
  ])
  const long = await cli(dataDir, ['status', 'last-week'])
  assert.equal(long.code, 0, long.stderr)
  assert.match(long.stdout, /… 502 more events \(251 to 752\) not shown/, 'status shows the first and last of 1,002 events')
  const report = await pruneJson(dataDir)
  assert.equal(report.removedTasks, 1)
  assert.equal(report.removedEvents, 4, 'its start, two output chunks and its end')
  assert.equal(report.olderThanMs, 30 * DAY_MS)
  assert.equal(report.keepBytes, undefined, 'without a daemon, no size rule unless asked')
  assert.ok(report.bytesAfter < report.bytesBefore)
  assert.deepEqual(await listed(dataDir), ['running', 'last-week'])
  const gone = await cli(dataDir, ['status', 'ancient'])
  assert.equal(gone.code, 1)
  assert.match(gone.stderr, /no task on this node/)

  const human = await cli(dataDir, ['prune', '--older-than', '1d'])
  assert.equal(human.code, 0, human.stderr)
  assert.match(human.stdout, /Removed 1 finished task \(1002 events\)/)
  assert.deepEqual(await listed(dataDir), ['running'])

  const bySize = await pruneJson(dataDir, ['--keep-size', '0'])
  assert.equal(bySize.removedTasks, 0, 'a task that has not ended stays')
  assert.deepEqual(await listed(dataDir), ['running'])
})

test('start prunes at once by its --keep-for and --keep-size; prune through the daemon uses its rules, or --older-than', async () => {
  const now = Date.now()
  // Sent to a worker that is nowhere: the daemon follows it again, and it stays unfinished (unreachable) for the whole test.
  const absentWorker = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  const dataDir = await dataDirWith('daemon', [
    ['ancient', { endedAt: now - 400 * DAY_MS }],
    ['two-days', { endedAt: now - 2 * DAY_MS }],
    ['big', { endedAt: now - 3_600_000, outputBytes: 8 * OUTPUT_CHUNK_BYTES }],
    ['minute', { endedAt: now - 60_000 }],
    ['running', { peerId: absentWorker }]
  ])
  await daemon(dataDir, ['--keep-for', '1d', '--keep-size', '256k', '--lost-after', '1h'])
  const pruned = await waitFor(async () => (await listed(dataDir)).join() === 'running,minute', 20_000, 250)
  assert.ok(pruned, `after start, the history holds ${(await listed(dataDir)).join(', ')}`)

  const again = await pruneJson(dataDir)
  assert.equal(again.removedTasks, 0, 'the daemon\'s rules were applied already')
  assert.equal(again.olderThanMs, DAY_MS, 'the daemon\'s --keep-for')
  assert.equal(again.keepBytes, 256 * 1024, 'the daemon\'s --keep-size')

  const older = await pruneJson(dataDir, ['--older-than', '30s'])
  assert.equal(older.removedTasks, 1)
  assert.equal(older.olderThanMs, 30_000)
  assert.deepEqual(await listed(dataDir), ['running'])
})

test('tasks shows one page and how to see the next; --before pages on, with and without a daemon', async () => {
  const ids = Array.from({ length: 12 }, (_, i) => `p${String(i + 1).padStart(2, '0')}`)
  const dataDir = await dataDirWith('pages', ids.map(id => [id, { endedAt: Date.now() }]))
  const newestFirst = [...ids].reverse()

  const first = await cli(dataDir, ['tasks', '--limit', '5'])
  assert.equal(first.code, 0, first.stderr)
  for (const id of newestFirst.slice(0, 5)) assert.match(first.stdout, new RegExp(id))
  assert.doesNotMatch(first.stdout, /p07/)
  assert.match(first.stdout, /Older tasks: cloudai tasks --before p08 --limit 5/)
  assert.deepEqual(await listed(dataDir, ['--limit', '5', '--before', 'p08']), newestFirst.slice(5, 10))
  const last = await cli(dataDir, ['tasks', '--limit', '5', '--before', 'p03'])
  assert.equal(last.code, 0, last.stderr)
  assert.match(last.stdout, /p02[\s\S]*p01/)
  assert.doesNotMatch(last.stdout, /Older tasks/, 'the last page says there is no more')

  await daemon(dataDir)
  assert.deepEqual(await listed(dataDir, ['--limit', '5', '--before', 'p08']), newestFirst.slice(5, 10), 'through the daemon')
  const unknown = await cli(dataDir, ['tasks', '--before', 'nope'])
  assert.equal(unknown.code, 1)
  assert.match(unknown.stderr, /no task on this node has an id starting with "nope"/)
})
