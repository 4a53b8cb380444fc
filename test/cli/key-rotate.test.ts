import assert from 'node:assert/strict'
import { chmod, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { loadSwarmKey } from '../../node/src/mesh/swarm-key.ts'
import { runCli, startDaemonProcess, type DaemonProcess } from '../helpers/cli.ts'
import { tempDir } from '../helpers/env.ts'

/**
 * `cloudai key rotate` makes a new cluster key, keeps the old one as
 * swarm.key.old (both mode 0600), and says how to roll the new one across the machines. The
 * daemons here run on loopback without mDNS, so this file needs no network namespace.
 */

let dir: { path: string, remove: () => Promise<void> }
const daemons: DaemonProcess[] = []

before(async () => {
  dir = await tempDir('cloudai-key-rotate-')
})

after(async () => {
  await Promise.all(daemons.map(async daemon => daemon.stop('SIGKILL')))
  await dir?.remove()
})

async function mode (path: string): Promise<number> {
  return (await stat(path)).mode & 0o777
}

async function init (name: string): Promise<{ dataDir: string, fingerprint: string }> {
  const dataDir = join(dir.path, name)
  const result = await runCli(['--data-dir', dataDir, 'init', '--json'])
  assert.equal(result.code, 0, result.stderr)
  return { dataDir, fingerprint: JSON.parse(result.stdout).keyFingerprint }
}

async function daemon (dataDir: string): Promise<DaemonProcess> {
  const started = await startDaemonProcess(dataDir, ['--name', 'rotated', '--no-mdns'])
  daemons.push(started)
  return started
}

async function idJson (dataDir: string): Promise<any> {
  const result = await runCli(['--data-dir', dataDir, 'id', '--json'])
  assert.equal(result.code, 0, result.stderr)
  return JSON.parse(result.stdout)
}

test('key rotate --json: a new key with another fingerprint, the old one kept as swarm.key.old, both 0600; a running daemon keeps its key until restarted with the new one', async () => {
  const { dataDir, fingerprint: initial } = await init('alpha')
  const keyPath = join(dataDir, 'swarm.key')
  const oldPath = join(dataDir, 'swarm.key.old')
  const originalText = await readFile(keyPath, 'utf8')

  // A daemon running while the key is rotated.
  const running = await daemon(dataDir)
  assert.equal((await idJson(dataDir)).keyFingerprint, initial)
  assert.equal(await mode(join(dataDir, 'api')), 0o600, 'the daemon\'s API file (with its token) is readable by others')

  const result = await runCli(['--data-dir', dataDir, 'key', 'rotate', '--json'])
  assert.equal(result.code, 0, result.stderr)
  const rotated = JSON.parse(result.stdout)
  assert.equal(rotated.swarmKey, keyPath)
  assert.equal(rotated.previousKey, oldPath)
  assert.equal(rotated.previousFingerprint, initial)
  assert.match(rotated.keyFingerprint, /^[0-9a-f]{4}(:[0-9a-f]{4}){3}$/)
  assert.notEqual(rotated.keyFingerprint, initial, 'the new key has the old fingerprint')

  assert.equal(await mode(keyPath), 0o600, 'the new key is readable by others')
  assert.equal(await mode(oldPath), 0o600, 'the old key is readable by others')
  assert.equal(await readFile(oldPath, 'utf8'), originalText, 'swarm.key.old is not the key that was replaced')
  assert.notEqual(await readFile(keyPath, 'utf8'), originalText)
  assert.equal((await loadSwarmKey(keyPath)).fingerprint, rotated.keyFingerprint, 'the new key does not load, or has another fingerprint')
  assert.equal((await loadSwarmKey(oldPath)).fingerprint, initial, 'the old key no longer loads: the rotation cannot be undone')
  assert.deepEqual((await readdir(dataDir)).filter(name => name.startsWith('swarm.key')).sort(), ['swarm.key', 'swarm.key.old'], 'a temporary key file was left behind')

  // As the output says: a running daemon keeps the key it started with…
  assert.equal((await idJson(dataDir)).keyFingerprint, initial, 'the running daemon changed its key under its peers')
  // …and starts with the new one.
  assert.equal(await running.stop('SIGTERM'), 0)
  await daemon(dataDir)
  const after = await idJson(dataDir)
  assert.equal(after.daemon, true)
  assert.equal(after.keyFingerprint, rotated.keyFingerprint, 'the restarted daemon does not use the new key')
  assert.equal(after.open, false)
})

test('a second rotation keeps only the key it replaced as swarm.key.old; undoing it as the output says works', async () => {
  const { dataDir, fingerprint: initial } = await init('beta')
  const first = JSON.parse((await runCli(['--data-dir', dataDir, 'key', 'rotate', '--json'])).stdout)
  const second = JSON.parse((await runCli(['--data-dir', dataDir, 'key', 'rotate', '--json'])).stdout)
  assert.equal(second.previousFingerprint, first.keyFingerprint)
  assert.equal(new Set([initial, first.keyFingerprint, second.keyFingerprint]).size, 3, 'a rotation repeated a key')
  assert.equal((await loadSwarmKey(join(dataDir, 'swarm.key.old'))).fingerprint, first.keyFingerprint)
  // "To undo before the key has spread: mv swarm.key.old swarm.key"
  await rename(join(dataDir, 'swarm.key.old'), join(dataDir, 'swarm.key'))
  assert.equal((await loadSwarmKey(join(dataDir, 'swarm.key'))).fingerprint, first.keyFingerprint)
})

test('key rotate without a key: exit 1, names "cloudai init", and writes nothing', async () => {
  const empty = join(dir.path, 'empty')
  await mkdir(empty, { recursive: true, mode: 0o700 })
  for (const args of [['key', 'rotate'], ['key', 'rotate', '--json']]) {
    const result = await runCli(['--data-dir', empty, ...args])
    assert.equal(result.code, 1, `${args.join(' ')}: exit ${result.code}\n${result.stderr}`)
    assert.match(result.stderr, /cloudai init/, result.stderr)
    assert.match(result.stderr, /no cluster key to rotate/, result.stderr)
    assert.equal(result.stdout, '', 'an error printed to stdout')
  }
  assert.deepEqual(await readdir(empty), [], 'a failed rotation wrote files')
})

test('key rotate refuses a key readable by others and leaves it in place; a weak key can be replaced by doing what the message says', async () => {
  const { dataDir } = await init('gamma')
  const keyPath = join(dataDir, 'swarm.key')
  const before = await readFile(keyPath, 'utf8')
  await chmod(keyPath, 0o644)
  const readable = await runCli(['--data-dir', dataDir, 'key', 'rotate'])
  assert.equal(readable.code, 1, readable.stderr)
  assert.match(readable.stderr, /chmod 600/, readable.stderr)
  assert.equal(await readFile(keyPath, 'utf8'), before)
  await assert.rejects(stat(join(dataDir, 'swarm.key.old')), 'an untrusted key was moved aside')

  // A weak key (one byte repeated): rotating it away is fine, refusing is fine if what the message
  // says to do then gives a valid key. Both "key rotate" and "init" said "cloudai init" when written.
  await writeFile(keyPath, `/key/swarm/psk/1.0.0/\n/base16/\n${'0'.repeat(64)}\n`, { mode: 0o600 })
  await chmod(keyPath, 0o600)
  const weak = await runCli(['--data-dir', dataDir, 'key', 'rotate'])
  if (weak.code !== 0) {
    assert.equal(weak.code, 1, weak.stderr)
    assert.match(weak.stderr, /cloudai init/, weak.stderr)
    const advised = await runCli(['--data-dir', dataDir, 'init'])
    assert.equal(advised.code, 0, `"key rotate" refused the weak key and said to run "cloudai init", but that fails too, so the user is stuck:\n  key rotate: ${weak.stderr.trim()}\n  init: ${advised.stderr.trim()}`)
  }
  const replaced = await loadSwarmKey(keyPath).catch((err: Error) => err)
  assert.ok(!(replaced instanceof Error), `no valid key after following the advice: ${(replaced as Error).message}`)
})

test('the human output explains copying the key, restarting every daemon, checking peers, and undoing', async () => {
  const { dataDir, fingerprint: initial } = await init('delta')
  const result = await runCli(['--data-dir', dataDir, 'key', 'rotate'])
  assert.equal(result.code, 0, result.stderr)
  const keyPath = join(dataDir, 'swarm.key')
  const fresh = await loadSwarmKey(keyPath)
  const out = result.stdout
  assert.ok(out.includes(fresh.fingerprint), `the new fingerprint is not shown:\n${out}`)
  assert.ok(out.includes(initial), `the old fingerprint is not shown:\n${out}`)
  assert.ok(out.includes(join(dataDir, 'swarm.key.old')), `where the old key went is not shown:\n${out}`)
  assert.match(out, /cop(y|ies)/i, `nothing about copying the key:\n${out}`)
  assert.match(out, new RegExp(`scp -p ${keyPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `), `no copy command for the key:\n${out}`)
  assert.match(out, /restart/i, `nothing about restarting:\n${out}`)
  assert.match(out, /cloudai start/, out)
  assert.match(out, /cloudai peers/, out)
  assert.match(out, /mv .*swarm\.key\.old .*swarm\.key/, `no way to undo:\n${out}`)
  assert.equal(result.stderr, '', `stderr: ${result.stderr}`)
  assert.doesNotMatch(out, /[0-9a-f]{64}/, 'the output shows the secret key itself')
})
