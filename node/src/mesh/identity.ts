import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { readFile } from 'node:fs/promises'
import { IdentityError } from '../errors.ts'
import { writeFileAtomic } from '../files.ts'

/** The file name of the node's private key inside the data dir. */
export const IDENTITY_FILE = 'identity.key'

/**
 * Load the node's Ed25519 key, creating it on first use, so that the peer ID
 * (derived from the key) survives restarts.
 */
export async function loadOrCreateIdentity (path: string): Promise<{ key: PrivateKey, created: boolean }> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw new IdentityError(`cannot read the identity key ${path}: ${err?.message ?? err}`)
    const key = await generateKeyPair('Ed25519')
    try {
      await writeFileAtomic(path, privateKeyToProtobuf(key), { mode: 0o600, overwrite: false })
    } catch (writeErr: any) {
      // Another process created it first: use theirs, so both agree on one peer ID.
      if (writeErr?.code === 'EEXIST') return loadOrCreateIdentity(path)
      throw writeErr
    }
    return { key, created: true }
  }
  try {
    return { key: privateKeyFromProtobuf(bytes), created: false }
  } catch (err: any) {
    throw new IdentityError(`the identity key ${path} is damaged (${err?.message ?? err}): move it away to get a new peer ID`)
  }
}
