import assert from 'node:assert/strict'
import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { createSwarmKey, loadSwarmKey } from '../../node/src/mesh/swarm-key.ts'
import { tempDir } from '../helpers/env.ts'

let dir: { path: string, remove: () => Promise<void> }
before(async () => { dir = await tempDir() })
after(async () => { await dir.remove() })

const HEX = 'a3f1c0de5b7e9d24681357a9bdf02468ace13579bdf02468ace13579bdf02468'

async function keyFile (name: string, content: string, mode = 0o600): Promise<string> {
  const path = join(dir.path, name)
  await writeFile(path, content, { mode })
  await chmod(path, mode)
  return path
}

test('a created key loads, is mode 0600, and has a stable fingerprint', async () => {
  const path = join(dir.path, 'created.key')
  const created = await createSwarmKey(path)
  const loaded = await loadSwarmKey(path)
  assert.equal(loaded.fingerprint, created.fingerprint)
  assert.match(loaded.fingerprint, /^[0-9a-f]{4}(:[0-9a-f]{4}){3}$/)
  assert.deepEqual(loaded.psk, created.psk)
  await assert.rejects(createSwarmKey(path), { code: 'EEXIST' }, 'init never overwrites a key')
})

test('a valid kubo-style key with or without a final newline loads', async () => {
  const a = await loadSwarmKey(await keyFile('ok1.key', `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\n`))
  const b = await loadSwarmKey(await keyFile('ok2.key', `/key/swarm/psk/1.0.0/\n/base16/\n${HEX.toUpperCase()}`))
  assert.equal(a.fingerprint, b.fingerprint, 'upper and lower case hex are the same key')
})

const BAD_KEYS: Array<{ name: string, content: string, mode?: number, reason: string, says: RegExp }> = [
  { name: 'short', content: `/key/swarm/psk/1.0.0/\n/base16/\n${HEX.slice(0, 40)}\n`, reason: 'length', says: /exactly 64 hex characters/ },
  { name: 'long', content: `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}ab\n`, reason: 'length', says: /exactly 64 hex characters/ },
  { name: 'extra-line', content: `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\nmore\n`, reason: 'length', says: /extra lines/ },
  { name: 'non-hex', content: `/key/swarm/psk/1.0.0/\n/base16/\n${HEX.slice(0, 60)}zzzz\n`, reason: 'hex', says: /not hexadecimal/ },
  { name: 'zeros', content: `/key/swarm/psk/1.0.0/\n/base16/\n${'0'.repeat(64)}\n`, reason: 'weak', says: /guess/ },
  { name: 'repeated', content: `/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(32)}\n`, reason: 'weak', says: /one byte repeated/ },
  { name: 'header', content: `/key/swarm/psk/2.0.0/\n/base16/\n${HEX}\n`, reason: 'header', says: /does not start with/ },
  { name: 'crlf', content: `/key/swarm/psk/1.0.0/\r\n/base16/\r\n${HEX}\r\n`, reason: 'header', says: /CRLF/ },
  { name: 'encoding', content: `/key/swarm/psk/1.0.0/\n/base64/\n${HEX}\n`, reason: 'encoding', says: /\/base16\// },
  { name: 'empty', content: '', reason: 'header', says: /does not start with/ },
  { name: 'group-readable', content: `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\n`, mode: 0o640, reason: 'permissions', says: /chmod 600/ },
  { name: 'world-readable', content: `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\n`, mode: 0o644, reason: 'permissions', says: /chmod 600/ }
]

for (const bad of BAD_KEYS) {
  test(`a ${bad.name} key file is refused with reason "${bad.reason}"`, async () => {
    const path = await keyFile(`${bad.name}.key`, bad.content, bad.mode)
    await assert.rejects(loadSwarmKey(path), (err: any) => {
      assert.equal(err.name, 'SwarmKeyError')
      assert.equal(err.reason, bad.reason)
      assert.match(err.message, bad.says)
      assert.ok(err.message.includes(path), 'the message names the file')
      return true
    })
  })
}

test('a missing key says how to get one', async () => {
  await assert.rejects(loadSwarmKey(join(dir.path, 'nope.key')), (err: any) => {
    assert.equal(err.name, 'SwarmKeyError')
    assert.equal(err.reason, 'missing')
    assert.match(err.message, /cloudai init/)
    return true
  })
})
