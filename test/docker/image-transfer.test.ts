import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { readApiFile } from '../../node/src/api/api-file.ts'
import { type DaemonProcess, initNodes, runCli, startDaemonProcess } from '../helpers/cli.ts'
import { docker, ensureTestImage, IMAGE, removeTaskContainers } from '../helpers/docker.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'
import { startSecondEngine, type SecondEngine } from '../helpers/second-engine.ts'
import { startCuttingEngineProxy, type CuttingEngineProxy } from '../helpers/cutting-engine-proxy.ts'

/**
 * Images built on one engine run on another through cloudai, with no registry: "alpha"
 * runs on the machine's engine, where the test builds its images (never pushed); "beta"
 * runs on a second engine of the test's own (test/helpers/second-engine.ts) that holds only
 * the busybox base and, in the test's network namespace, reaches no registry. What is
 * asserted is what a user sees: output, exit codes, where the image came from, the bytes
 * that travelled, and what each engine holds afterwards.
 */

const BOUND_MS = 60_000
const PREFIX = `cloudai-imgs-${randomBytes(3).toString('hex')}`
/** The random layer of the first image: big enough that leaving out the base (2 MB) shows. */
const FIRST_LAYER_BYTES = 3_000_000
const SECOND_LAYER_BYTES = 200_000
/** tar headers and the image's small files ride along with a layer's bytes. */
const ARCHIVE_OVERHEAD_BYTES = 64 * 1024

let dir: { path: string, remove: () => Promise<void> }
let engine: SecondEngine | undefined
/** Alpha's engine, through a proxy that can cut an export off part-way (a transfer that breaks). */
let alphaEngine: CuttingEngineProxy | undefined
const tag = mdnsTag()
const dataDirs = { alpha: '', beta: '', gamma: '' }
const nodeIds = { alpha: '', beta: '', gamma: '' }
const daemons: Record<string, DaemonProcess> = {}
const images = { first: `${PREFIX}/first:1`, second: `${PREFIX}/second:1`, third: `${PREFIX}/third:1`, fourth: `${PREFIX}/fourth:1`, fifth: `${PREFIX}/fifth:1`, sixth: `${PREFIX}/sixth:1` }
const imageIds = { first: '', second: '', third: '', fourth: '', fifth: '', sixth: '' }

async function build (name: string, dockerfile: string): Promise<string> {
  const context = join(dir.path, name.replace(/[/:]/g, '_'))
  await mkdir(context, { recursive: true })
  await writeFile(join(context, 'Dockerfile'), dockerfile)
  await docker(['build', '-q', '--network', 'none', '-t', name, context], BOUND_MS)
  return (await docker(['image', 'inspect', '--format', '{{.Id}}', name])).trim()
}

async function cli (node: 'alpha' | 'beta' | 'gamma', args: string[], input?: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await runCli(['--data-dir', dataDirs[node], ...args], { timeoutMs: BOUND_MS, ...(input != null ? { input } : {}) })
}

function events (stdout: string): any[] {
  return stdout.split('\n').filter(line => line !== '').map(line => JSON.parse(line))
}

function output (all: any[]): string {
  return all.filter(event => event.log?.stream === 'stdout').map(event => Buffer.from(event.log.data, 'base64').toString()).join('')
}

/** The bytes of the archive the worker received: its last progress report, made when the transfer ended. */
function bytesReceived (all: any[]): number {
  const fetches = all.filter(event => event.imageFetch != null)
  assert.ok(fetches.length > 0, 'the events report the image transfer')
  return fetches.at(-1).imageFetch.doneBytes
}

function servedLines (imageId: string): number {
  return daemons.alpha.output().split('\n').filter(line => line.includes('sending an image to a peer') && line.includes(imageId)).length
}

before(async () => {
  requireTestNamespace()
  await ensureTestImage()
  dir = await tempDir()
  engine = await startSecondEngine()
  await engine.loadFromMain([IMAGE])
  // Independent builds at once (the engine runs them side by side); the second is on top of the first.
  await Promise.all([
    (async () => {
      imageIds.first = await build(images.first, `FROM ${IMAGE}\nRUN head -c ${FIRST_LAYER_BYTES} /dev/urandom > /blob\nCMD ["sh", "-c", "echo hello from the first image; wc -c < /blob; exit 3"]\n`)
      imageIds.second = await build(images.second, `FROM ${images.first}\nRUN head -c ${SECOND_LAYER_BYTES} /dev/urandom > /blob2\nCMD ["sh", "-c", "echo second; wc -c < /blob2"]\n`)
    })(),
    (async () => {
      imageIds.third = await build(images.third, `FROM ${IMAGE}\nRUN echo third > /third\nCMD ["cat", "/third"]\n`)
      imageIds.fourth = await build(images.fourth, `FROM ${IMAGE}\nRUN echo fourth > /fourth\nCMD ["cat", "/fourth"]\n`)
    })(),
    (async () => {
      imageIds.fifth = await build(images.fifth, `FROM ${IMAGE}\nRUN echo fifth > /fifth\nCMD ["cat", "/fifth"]\n`)
      imageIds.sixth = await build(images.sixth, `FROM ${IMAGE}\nRUN head -c ${FIRST_LAYER_BYTES} /dev/urandom > /blob6\nCMD ["sh", "-c", "wc -c < /blob6"]\n`)
    })()
  ])
  alphaEngine = await startCuttingEngineProxy(dir.path)
  const nodes = await initNodes(dir.path, ['alpha', 'beta', 'gamma'] as const)
  Object.assign(dataDirs, nodes.dataDirs)
  Object.assign(nodeIds, nodes.peerIds)
  // Beta takes images only from alpha: a task gamma submits must get its image from alpha, the holder gamma names.
  await writeFile(join(dataDirs.beta, 'policy.json'), JSON.stringify({ imageTransfer: { servers: [nodeIds.alpha] } }))
  const common = ['--mdns-tag', tag, '--gpus', '0']
  daemons.alpha = await startDaemonProcess(dataDirs.alpha, ['--name', 'alpha', '--cpu', '0.5', ...common], { env: { DOCKER_HOST: alphaEngine.host } })
  daemons.beta = await startDaemonProcess(dataDirs.beta, ['--name', 'beta', '--cpu', '4', '--label', 'engine=second', ...common], { env: { DOCKER_HOST: engine.host } })
  daemons.gamma = await startDaemonProcess(dataDirs.gamma, ['--name', 'gamma', '--cpu', '0.5', ...common])
  const ready = await waitFor(async () => {
    const peers = await cli('gamma', ['peers', '--json'])
    return peers.code === 0 && ['alpha', 'beta'].every(name => (JSON.parse(peers.stdout) as any[]).some(peer => peer.name === name && peer.reachable === true))
  }, 30_000, 250)
  assert.ok(ready, 'gamma never saw alpha and beta')
})

after(async () => {
  for (const daemon of Object.values(daemons)) await daemon.stop('SIGKILL')
  await removeTaskContainers(Object.values(nodeIds).filter(id => id !== ''))
  await engine?.stop()
  await alphaEngine?.close()
  await docker(['rmi', '-f', ...Object.values(images)]).catch(() => '')
  await dir?.remove()
})

describe('images travel from the submitter to the worker, with no registry', () => {
  test('an image built only on alpha runs on beta: its output, exit code and ID; only the layer beta lacks travels', async () => {
    assert.equal(await engine!.has(imageIds.first), false)
    const run = await cli('alpha', ['task', 'beta', images.first, '--json'])
    assert.equal(run.code, 3, run.stderr)
    const all = events(run.stdout)
    assert.equal(output(all), `hello from the first image\n${FIRST_LAYER_BYTES}\n`)
    const source = all.find(event => event.imageSource != null)?.imageSource
    assert.deepEqual(source, { kind: 'peer', peer: nodeIds.alpha })
    assert.ok(!all.some(event => event.pull != null), 'nothing was pulled from a registry')
    // The base (busybox, 2 MB) was on beta's engine already: only the new layer crossed.
    const received = bytesReceived(all)
    assert.ok(received >= FIRST_LAYER_BYTES && received < FIRST_LAYER_BYTES + ARCHIVE_OVERHEAD_BYTES, `received ${received} bytes`)
    // Beta's /metrics counted the same bytes.
    const api = (await readApiFile(dataDirs.beta))!
    const metrics = await (await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${api.token}` } })).text()
    assert.match(metrics, new RegExp(`^cloudai_image_bytes_received_total ${received}$`, 'm'))
    // Exactly the image alpha built, and no tag of alpha's imposed on beta's engine.
    assert.equal((await engine!.docker(['image', 'inspect', '--format', '{{.Id}} {{len .RepoTags}}', imageIds.first])).trim(), `${imageIds.first} 0`)
  })

  test('task auto: a second image on the same base sends only its new layer; the CLI says where the image came from', async () => {
    const run = await cli('alpha', ['task', 'auto', '--constraint', 'engine=second', images.second])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout, `second\n${SECOND_LAYER_BYTES}\n`)
    assert.match(run.stderr, /image fetched from peer/)
    const taskId = /task (\S+) accepted by beta/.exec(run.stderr)?.[1]
    assert.ok(taskId != null, run.stderr)
    const status = await cli('alpha', ['logs', taskId, '--json'])
    const received = bytesReceived(events(status.stdout))
    assert.ok(received >= SECOND_LAYER_BYTES && received < SECOND_LAYER_BYTES + ARCHIVE_OVERHEAD_BYTES, `received ${received} bytes for a ${SECOND_LAYER_BYTES}-byte layer`)
    // The progress total is the new layer's size, not the whole image's ("… of 196 KiB", not "… of 5 MiB").
    const total = events(status.stdout).filter(event => event.imageFetch != null).at(-1).imageFetch.totalBytes
    assert.ok(total >= SECOND_LAYER_BYTES && total < SECOND_LAYER_BYTES + ARCHIVE_OVERHEAD_BYTES, `the progress total is ${total} bytes for a ${SECOND_LAYER_BYTES}-byte layer`)
    assert.equal(await engine!.has(imageIds.second), true)
    // Run again: now the image is in beta's engine, and the CLI says so.
    const again = await cli('alpha', ['task', 'beta', images.second])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stderr, /image already in the worker's engine/)
  })

  test('the shell, as a script runner: the task runs on beta with the image from alpha', async () => {
    const run = await cli('alpha', ['shell'], `task beta ${images.fourth}\nexit\n`)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /^fourth$/m)
    assert.match(run.stdout + run.stderr, /image fetched from peer/)
    assert.equal(await engine!.has(imageIds.fourth), true)
  })

  test('another member as the source: gamma names alpha, whose peers entry lists the image, and alpha serves beta on gamma\'s grant', async () => {
    // peers --json lists the image IDs a peer's engine holds.
    const peers = JSON.parse((await cli('gamma', ['peers', '--json'])).stdout) as any[]
    assert.ok(peers.find(peer => peer.name === 'alpha').imageIds.includes(imageIds.fifth), 'alpha advertises the image')
    assert.ok(!peers.find(peer => peer.name === 'beta').imageIds.includes(imageIds.fifth), 'beta lacks it')
    const run = await cli('gamma', ['task', 'beta', images.fifth, '--json'])
    assert.equal(run.code, 0, run.stderr)
    const all = events(run.stdout)
    assert.equal(output(all), 'fifth\n')
    // Beta's policy takes images only from alpha: it came from alpha, not from gamma, its submitter.
    assert.deepEqual(all.find(event => event.imageSource != null)?.imageSource, { kind: 'peer', peer: nodeIds.alpha })
    assert.equal(servedLines(imageIds.fifth), 1, 'alpha sent the image once')
    assert.equal(await engine!.has(imageIds.fifth), true)
  })

  test('task auto --explain prefers a worker that holds the image already, and says so', async () => {
    // After the first test beta holds the first image; alpha (and gamma) hold it too, but the task does not fit their 0.5 CPU.
    const run = await cli('alpha', ['task', 'auto', images.first, '--explain'])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout + run.stderr, /beta.*holds the image already \(no transfer\)/s)
  })

  test('ten tasks needing one missing image: one transfer, ten right results', async () => {
    const run = await cli('alpha', ['task', 'beta', images.third, '--count', '10', '--cpu', '0.25'])
    assert.equal(run.code, 0, run.stderr)
    const ids = run.stdout.split('\n').filter(line => line !== '')
    assert.equal(ids.length, 10)
    const outputs = await Promise.all(ids.map(async id => (await cli('alpha', ['logs', id])).stdout))
    assert.deepEqual(outputs, ids.map(() => 'third\n'))
    assert.equal(servedLines(imageIds.third), 1, 'alpha sent the image once')
  })

  test('a transfer that breaks off part-way starts again while the task waits: the task runs, and the worker\'s engine holds the one image, nothing half-loaded', async () => {
    const before = new Set((await engine!.docker(['image', 'ls', '-a', '-q', '--no-trunc'])).split('\n').filter(line => line !== ''))
    // Alpha's engine answers the first export of the image with 4 MiB of its ~5 MB, then the connection breaks.
    alphaEngine!.cutNextExport(imageIds.sixth.slice('sha256:'.length), 4 * 1024 * 1024)
    const run = await cli('alpha', ['task', 'beta', images.sixth, '--json'])
    assert.equal(run.code, 0, run.stderr)
    const all = events(run.stdout)
    assert.equal(output(all), `${FIRST_LAYER_BYTES}\n`)
    assert.deepEqual(all.find(event => event.imageSource != null)?.imageSource, { kind: 'peer', peer: nodeIds.alpha })
    assert.equal(alphaEngine!.cuts, 1, 'the first export was cut off')
    assert.equal(servedLines(imageIds.sixth), 2, 'alpha sent the image again after the break')
    assert.ok(daemons.beta.output().split('\n').some(line => line.includes('fetching an image from a peer failed') && line.includes('"attempt":1') && line.includes(imageIds.sixth)), 'the worker logged the broken first attempt')
    // The broken load left nothing behind: the engine gained exactly the one image.
    const afterwards = (await engine!.docker(['image', 'ls', '-a', '-q', '--no-trunc'])).split('\n').filter(line => line !== '')
    assert.deepEqual(afterwards.filter(id => !before.has(id)), [imageIds.sixth])
  })
})
