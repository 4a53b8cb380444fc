import assert from 'node:assert/strict'
import { chmod, copyFile, mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'
import { runCli, startDaemonProcess, type DaemonProcess } from '../helpers/cli.ts'

let dir: { path: string, remove: () => Promise<void> }
const daemons: DaemonProcess[] = []
const tag = mdnsTag()

async function dataDir (name: string): Promise<string> {
  const path = join(dir.path, name)
  await mkdir(path, { recursive: true, mode: 0o700 })
  await copyFile(join(dir.path, 'alpha', 'swarm.key'), join(path, 'swarm.key'))
  return path
}

async function daemon (name: string, extra: string[] = []): Promise<DaemonProcess> {
  const started = await startDaemonProcess(join(dir.path, name), ['--name', name, '--mdns-tag', tag, ...extra])
  daemons.push(started)
  return started
}

async function peerNames (name: string): Promise<string[]> {
  const result = await runCli(['--data-dir', join(dir.path, name), 'peers', '--json'])
  if (result.code !== 0) return []
  return JSON.parse(result.stdout).filter((peer: any) => peer.reachable).map((peer: any) => peer.name).sort()
}

before(async () => {
  requireTestNamespace()
  dir = await tempDir()
  const init = await runCli(['--data-dir', join(dir.path, 'alpha'), 'init', '--json'])
  assert.equal(init.code, 0, init.stderr)
  await dataDir('beta')
  await dataDir('gamma')
})

after(async () => {
  await Promise.all(daemons.map(async d => d.stop('SIGKILL')))
  await dir?.remove()
})

test('peers --json on a running daemon lists the other daemons by name', async () => {
  await Promise.all([daemon('alpha'), daemon('beta'), daemon('gamma')])
  const seen = await waitFor(async () => (await peerNames('alpha')).join(',') === 'beta,gamma', 15_000, 250)
  assert.ok(seen, `alpha lists ${(await peerNames('alpha')).join(',')}`)
  const peers = JSON.parse((await runCli(['--data-dir', join(dir.path, 'beta'), 'peers', '--json'])).stdout)
  for (const peer of peers) {
    for (const field of ['peerId', 'name', 'addrs', 'capacity', 'allocated', 'running', 'queued']) assert.ok(field in peer, `peer has ${field}`)
  }
  const table = await runCli(['--data-dir', join(dir.path, 'gamma'), 'peers'])
  assert.equal(table.code, 0)
  assert.match(table.stdout, /alpha/)
  assert.match(table.stdout, /beta/)
})

test('a restarted daemon keeps its peer ID, cleans up its API file, and is listed again', async () => {
  const alphaDir = join(dir.path, 'alpha')
  const before = JSON.parse((await runCli(['--data-dir', alphaDir, 'id', '--json'])).stdout)
  assert.equal(before.name, 'alpha')
  assert.equal(before.daemon, true)
  assert.ok(before.addrs.length > 0)

  const alpha = daemons.find(d => d.dataDir === alphaDir)!
  assert.equal(await alpha.stop('SIGTERM'), 0, 'SIGTERM is a clean shutdown')
  await assert.rejects(stat(join(alphaDir, 'api')), 'the API file is removed on shutdown')
  const offline = JSON.parse((await runCli(['--data-dir', alphaDir, 'id', '--json'])).stdout)
  assert.equal(offline.peerId, before.peerId, 'id works without a daemon')
  assert.equal(offline.daemon, false)

  await daemon('alpha')
  const after = JSON.parse((await runCli(['--data-dir', alphaDir, 'id', '--json'])).stdout)
  assert.equal(after.peerId, before.peerId)
  assert.ok(await waitFor(async () => (await peerNames('beta')).includes('alpha'), 15_000, 250), 'beta lists alpha again')
  const alphaAtBeta = JSON.parse((await runCli(['--data-dir', join(dir.path, 'beta'), 'peers', '--json'])).stdout).find((p: any) => p.name === 'alpha')
  assert.equal(alphaAtBeta.peerId, before.peerId)
})

test('a second daemon on the same data dir is refused', async () => {
  const result = await runCli(['--data-dir', join(dir.path, 'beta'), 'start', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns'])
  assert.equal(result.code, 1)
  assert.match(result.stderr, /already runs with the data dir/)
})

test('a daemon with a bad cluster key does not start and says why', async () => {
  const badDir = await dataDir('bad')
  await chmod(join(badDir, 'swarm.key'), 0o644)
  const result = await runCli(['--data-dir', badDir, 'start', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns'])
  assert.equal(result.code, 1)
  assert.match(result.stderr, /can be read by other users.*chmod 600/)
  await assert.rejects(stat(join(badDir, 'api')), 'no API file: the daemon never ran')

  const noKeyDir = join(dir.path, 'nokey')
  const missing = await runCli(['--data-dir', noKeyDir, 'start', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns'])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /no cluster key .*cloudai init/)
})

test('commands without a daemon, and usage errors, say what to do', async () => {
  const noDaemon = await runCli(['--data-dir', join(dir.path, 'nokey'), 'peers'])
  assert.equal(noDaemon.code, 1)
  assert.match(noDaemon.stderr, /no cloudai daemon is running .*cloudai start/)

  const usage = await runCli(['--data-dir', join(dir.path, 'nokey'), 'start', '--memory', 'lots'])
  assert.equal(usage.code, 2)
  assert.match(usage.stderr, /"lots" is not a size/)

  const unknown = await runCli(['frobnicate'])
  assert.equal(unknown.code, 2)
})
