import { readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { SwarmKeyError } from '../../node/src/errors.ts'
import { writeFileAtomic } from '../../node/src/files.ts'
import { SWARM_KEY_FILE, SWARM_KEY_MODE, createSwarmKey, loadSwarmKey } from '../../node/src/mesh/swarm-key.ts'
import type { ClientOptions } from '../client.ts'
import { EXIT, ExitError } from '../exit.ts'
import { printJson, type Printer } from '../render.ts'

/** Where the key being replaced is kept, so that a rotation can be undone until every machine has the new one. */
export const OLD_KEY_FILE = 'swarm.key.old'

/**
 * `cloudai key rotate`: a new cluster key in place of the current one (kept as
 * swarm.key.old), and how to roll it across the machines. Nodes with the old key and nodes
 * with the new one cannot talk: the mesh splits in two until every machine has the new key.
 */
export async function rotate (options: ClientOptions & { json?: boolean }, print: Printer): Promise<void> {
  const keyPath = join(options.dataDir, SWARM_KEY_FILE)
  const oldPath = join(options.dataDir, OLD_KEY_FILE)
  // A key that exists but cannot be used (weak, malformed) is replaced all the same: it was never usable.
  // Missing: init makes one. Readable by others: it may have leaked, and chmod is the user's call.
  const previous = await loadSwarmKey(keyPath).catch((err: any) => {
    if (err?.reason === 'missing') throw new ExitError(EXIT.FAILURE, `there is no cluster key to rotate: ${err?.message}`)
    if (err?.reason === 'permissions' || !(err instanceof SwarmKeyError)) throw new ExitError(EXIT.FAILURE, `cannot rotate the cluster key: ${err?.message}`)
    return { fingerprint: `unusable: ${err.message}` }
  })
  const fresh = join(options.dataDir, `${SWARM_KEY_FILE}.new`)
  await rm(fresh, { force: true })
  const next = await createSwarmKey(fresh)
  // swarm.key is never moved away: the old key is copied aside, then the new one renamed over
  // it, so a crash at any step leaves a valid key in place, and the old one kept once it is replaced.
  await writeFileAtomic(oldPath, await readFile(keyPath), { mode: SWARM_KEY_MODE })
  await rename(fresh, keyPath)
  if (options.json === true) {
    printJson(print, { swarmKey: keyPath, keyFingerprint: next.fingerprint, previousFingerprint: previous.fingerprint, previousKey: oldPath })
    return
  }
  print.out([
    `New cluster key ${keyPath} (fingerprint ${next.fingerprint}); the old one (${previous.fingerprint}) is kept as ${oldPath}.`,
    '',
    'Roll it across the mesh, one machine at a time:',
    `  1. copy it to every machine: scp -p ${keyPath} other-machine:.cloudai/${SWARM_KEY_FILE}`,
    '  2. restart the daemon on each machine ("cloudai start"); a running daemon keeps the key it started with',
    '  3. check "cloudai peers" on each: machines still on the old key are not listed until they have the new one',
    'A daemon stopped with Ctrl-C cancels its tasks: restart machines when they are idle, or let their tasks finish first.',
    `To undo before the key has spread: mv ${oldPath} ${keyPath}`
  ].join('\n'))
}
