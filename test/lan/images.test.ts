/**
 * Build here, run there, on the LAN in a box (docs/architecture.md): host 1 runs on the
 * machine's Docker engine, where the test builds an image and never pushes it; host 2 runs
 * on a second engine of the test's own (test/helpers/second-engine.ts) that holds only the
 * busybox base and reaches no registry. The task typed on host 1 runs on host 2 with the
 * image that crossed the bridge between the hosts. Needs root.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { docker, ensureTestImage, IMAGE, removeTaskContainers } from '../helpers/docker.ts'
import { tempDir, waitFor } from '../helpers/env.ts'
import { createLan, lanUnavailable, type Lan } from '../helpers/lan.ts'
import { startSecondEngine, type SecondEngine } from '../helpers/second-engine.ts'

const IMAGE_NAME = `cloudai-imgs-lan-${randomBytes(3).toString('hex')}/built-here:1`
let lan: Lan | undefined
let engine: SecondEngine | undefined
let dir: { path: string, remove: () => Promise<void> } | undefined
let imageId = ''
const nodeIds: string[] = []

before(async () => {
  const why = lanUnavailable()
  if (why != null) throw new Error(why)
  await ensureTestImage()
  dir = await tempDir()
  await mkdir(join(dir.path, 'context'))
  await writeFile(join(dir.path, 'context', 'Dockerfile'), `FROM ${IMAGE}\nRUN echo built on host 1 > /origin\nCMD ["cat", "/origin"]\n`)
  await docker(['build', '-q', '--network', 'none', '-t', IMAGE_NAME, join(dir.path, 'context')])
  imageId = (await docker(['image', 'inspect', '--format', '{{.Id}}', IMAGE_NAME])).trim()
  engine = await startSecondEngine()
  await engine.loadFromMain([IMAGE])
  lan = await createLan(2)
  await lan.startDaemon(1)
  await lan.startDaemon(2, [], { env: { DOCKER_HOST: engine.host } })
  for (const host of [1, 2]) {
    const id = await lan.cli(host, ['id', '--json'])
    nodeIds.push(JSON.parse(id.stdout).peerId)
  }
  const met = await waitFor(async () => {
    const peers = await lan!.cli(1, ['peers', '--json'], { timeoutMs: 10_000 })
    return peers.code === 0 && (JSON.parse(peers.stdout) as any[]).some(peer => peer.name === 'host-2' && peer.reachable === true)
  }, 30_000, 250)
  assert.ok(met, 'host 1 never saw host 2')
})

after(async () => {
  await lan?.teardown()
  await removeTaskContainers(nodeIds)
  await engine?.stop()
  await docker(['rmi', IMAGE_NAME]).catch(() => '')
  await dir?.remove()
})

test('an image built on host 1 and never pushed runs on host 2, on another engine, across the LAN', async () => {
  assert.equal(await engine!.has(imageId), false)
  const run = await lan!.cli(1, ['task', 'host-2', IMAGE_NAME], { timeoutMs: 60_000 })
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout, 'built on host 1\n')
  assert.match(run.stderr, new RegExp(`image fetched from peer ${nodeIds[0].slice(0, 8)}`))
  assert.match(run.stderr, /succeeded on host-2/)
  assert.equal(await engine!.has(imageId), true)
})
