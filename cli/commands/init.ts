import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { join } from 'node:path'
import { ensureDataDir } from '../../node/src/data-dir.ts'
import { IDENTITY_FILE, loadOrCreateIdentity } from '../../node/src/mesh/identity.ts'
import { SWARM_KEY_FILE, createSwarmKey, loadSwarmKey } from '../../node/src/mesh/swarm-key.ts'
import { printJson, type Printer } from '../render.ts'

export interface InitOptions {
  dataDir: string
  json?: boolean
}

/** Create the identity and a cluster key (keeping any that exist), and say how to share the key. */
export async function init (options: InitOptions, print: Printer): Promise<void> {
  await ensureDataDir(options.dataDir)
  const { key, created: identityCreated } = await loadOrCreateIdentity(join(options.dataDir, IDENTITY_FILE))
  const keyPath = join(options.dataDir, SWARM_KEY_FILE)
  let keyCreated = true
  let swarmKey
  try {
    swarmKey = await createSwarmKey(keyPath)
  } catch (err: any) {
    if (err?.code !== 'EEXIST') throw err
    keyCreated = false
    swarmKey = await loadSwarmKey(keyPath)
  }
  const peerId = peerIdFromPrivateKey(key).toString()
  if (options.json === true) {
    printJson(print, { peerId, dataDir: options.dataDir, swarmKey: keyPath, keyFingerprint: swarmKey.fingerprint, identityCreated, keyCreated })
    return
  }
  print.out([
    `${identityCreated ? 'Created' : 'Kept'} this node's identity: ${peerId}`,
    `${keyCreated ? 'Created' : 'Kept'} the cluster key ${keyPath} (fingerprint ${swarmKey.fingerprint})`,
    '',
    'Every machine of the mesh needs this same key. Copy it to each of them, for example:',
    `  ssh other-machine 'mkdir -p -m 700 ~/.cloudai'`,
    `  scp -p ${keyPath} other-machine:.cloudai/${SWARM_KEY_FILE}`,
    `  ssh other-machine 'chmod 600 ~/.cloudai/${SWARM_KEY_FILE}'`,
    'Then run "cloudai start" on every machine; they find each other on the LAN.',
    'Keep the key secret: whoever holds it can join the mesh and run containers.'
  ].join('\n'))
}
