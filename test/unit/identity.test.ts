import assert from 'node:assert/strict'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadOrCreateIdentity } from '../../node/src/mesh/identity.ts'
import { tempDir } from '../helpers/env.ts'

test('the identity is created once (mode 0600) and the same peer ID comes back', async () => {
  const dir = await tempDir()
  try {
    const path = join(dir.path, 'identity.key')
    const first = await loadOrCreateIdentity(path)
    const second = await loadOrCreateIdentity(path)
    assert.equal(first.created, true)
    assert.equal(second.created, false)
    assert.equal(peerIdFromPrivateKey(second.key).toString(), peerIdFromPrivateKey(first.key).toString())
    assert.equal((await stat(path)).mode & 0o777, 0o600)
  } finally {
    await dir.remove()
  }
})

test('a damaged identity file is refused, not replaced', async () => {
  const dir = await tempDir()
  try {
    const path = join(dir.path, 'identity.key')
    await writeFile(path, 'not a key', { mode: 0o600 })
    await assert.rejects(loadOrCreateIdentity(path), (err: any) => err.name === 'IdentityError' && /move it away/.test(err.message))
  } finally {
    await dir.remove()
  }
})
