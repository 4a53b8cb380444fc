import assert from 'node:assert/strict'
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { ensureDataDir } from '../../node/src/data-dir.ts'
import { TaskState } from '../../node/src/protocol/task-messages.ts'
import { STORE_FILE, TaskStore } from '../../node/src/store/store.ts'
import { tempDir } from '../helpers/env.ts'
import { storedEvent, storedSpec } from '../helpers/store.ts'

/**
 * The data dir holds every task's command, environment and output: the
 * store's files are created for the node's user alone, and a data dir that an earlier
 * version or the user left open to others is made private when a node uses it.
 */

let root: { path: string, remove: () => Promise<void> }

before(async () => {
  // A usual user's umask, whatever this process inherited: files would be 0644, directories 0755.
  process.umask(0o022)
  root = await tempDir('cloudai-private-')
})

after(async () => { await root?.remove() })

async function modeOf (path: string): Promise<string> {
  return ((await stat(path)).mode & 0o777).toString(8)
}

test('a new store and its WAL files are readable by the node\'s user only', async () => {
  const dir = join(root.path, 'new')
  await mkdir(dir, { mode: 0o700 })
  const store = TaskStore.open(dir)
  try {
    store.createTask({ spec: storedSpec('t-1'), role: 'executed', peerId: 'peer', peerName: '' })
    store.recordEvent('executed', 1, storedEvent('t-1', 1, TaskState.RUNNING))
    const modes = await Promise.all(['', '-wal', '-shm'].map(async suffix => `${STORE_FILE}${suffix} ${await modeOf(join(dir, `${STORE_FILE}${suffix}`))}`))
    assert.deepEqual(modes, [`${STORE_FILE} 600`, `${STORE_FILE}-wal 600`, `${STORE_FILE}-shm 600`])
  } finally {
    store.close()
  }
})

test('a store left readable by others (an earlier version) is made private when it is opened', async () => {
  const dir = join(root.path, 'old')
  await mkdir(dir, { mode: 0o700 })
  TaskStore.open(dir).close()
  await chmod(join(dir, STORE_FILE), 0o644)
  const store = TaskStore.open(dir)
  store.close()
  assert.equal(await modeOf(join(dir, STORE_FILE)), '600')
})

test('an existing data dir open to others is made private (0700); a new one is created so', async () => {
  const existing = join(root.path, 'existing')
  await mkdir(existing, { mode: 0o755 })
  await writeFile(join(existing, 'policy.json'), '{}')
  await ensureDataDir(existing)
  assert.equal(await modeOf(existing), '700')

  const fresh = join(root.path, 'fresh', 'nested')
  await ensureDataDir(fresh)
  assert.equal(await modeOf(fresh), '700')
})

test('a shared directory (sticky, like /tmp) is refused as a data dir rather than made private', async () => {
  const shared = join(root.path, 'shared')
  await mkdir(shared)
  await chmod(shared, 0o1777)
  await assert.rejects(ensureDataDir(shared), (err: any) => err?.code === 'DATA_DIR' && /shared/.test(err.message))
  assert.equal(((await stat(shared)).mode & 0o7777).toString(8), '1777', 'the shared directory was changed')
})
