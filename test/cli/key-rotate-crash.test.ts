import assert from 'node:assert/strict'
import { readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { writeFileAtomic } from '../../node/src/files.ts'
import { loadSwarmKey } from '../../node/src/mesh/swarm-key.ts'
import { runCli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/env.ts'

/**
 * `cloudai key rotate` killed at any point leaves a data dir a node can
 * start from: a valid swarm.key at every step, and never a new key without the old one kept
 * as swarm.key.old. The rotation runs as a user runs it, killed after its first, second, …
 * change to the data dir's entries until one run completes.
 */

const HOOK = resolve(import.meta.dirname, '../helpers/crash-after-fs-steps.js')
/** A rotation changes the directory a handful of times; past this many the test is wrong, not the command. */
const MAX_STEPS = 20

let dir: { path: string, remove: () => Promise<void> }

before(async () => { dir = await tempDir('cloudai-rotate-crash-') })
after(async () => { await dir?.remove() })

test('key rotate killed after any step leaves a valid swarm.key, and the old key kept whenever the new one is in place', async () => {
  const dataDir = join(dir.path, 'node')
  const init = await runCli(['--data-dir', dataDir, 'init', '--json'])
  assert.equal(init.code, 0, init.stderr)
  const keyPath = join(dataDir, 'swarm.key')
  const oldPath = join(dataDir, 'swarm.key.old')
  const initial = await readFile(keyPath, 'utf8')

  const seen: string[] = []
  let completed = false
  for (let step = 1; step <= MAX_STEPS && !completed; step++) {
    const run = await runCli(['--data-dir', dataDir, 'key', 'rotate', '--json'], {
      env: { NODE_OPTIONS: `--import=${HOOK}`, CLOUDAI_TEST_CRASH_AFTER: String(step) }
    })
    completed = run.code === 0
    const key = await loadSwarmKey(keyPath).then(() => 'valid', (err: Error) => `unusable (${err.message})`)
    const text = await readFile(keyPath, 'utf8').catch(() => '')
    const old = await readFile(oldPath, 'utf8').catch(() => '')
    seen.push(`after step ${step} (${completed ? 'completed' : `killed, exit ${run.code}`}): swarm.key ${key}${text === initial ? ', the initial key' : `, a new key, swarm.key.old ${old === initial ? 'the initial key' : 'missing or another'}`}`)
    assert.equal(key, 'valid', seen.join('\n'))
    if (text !== initial) assert.equal(old, initial, seen.join('\n'))
    if (!completed) await resetTo(initial, keyPath, oldPath)
  }
  assert.ok(completed, `the rotation never completed within ${MAX_STEPS} steps:\n${seen.join('\n')}`)
  assert.notEqual(await readFile(keyPath, 'utf8'), initial)
  assert.equal(await readFile(oldPath, 'utf8'), initial)
})

/** Start the next run from the first one's state: the initial key in place and no swarm.key.old (what else the killed run left stays, as after a real crash). */
async function resetTo (initial: string, keyPath: string, oldPath: string): Promise<void> {
  await writeFileAtomic(keyPath, initial, { mode: 0o600 })
  await rm(oldPath, { force: true })
}
