import assert from 'node:assert/strict'
import { join, resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type DaemonProcess, initNodes, runCli, startDaemonProcess } from '../helpers/cli.ts'
import { docker, removeTaskContainers, runProcess } from '../helpers/docker.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'

/**
 * The sample task (sample-tasks/task1) as a newcomer uses it: build.sh, then
 * test_local.sh, then the image run through the mesh on another node. Everything here runs
 * without the network: set-up (scripts/ensure-docker.sh → build-test-images.sh) put the Python
 * base in the engine, so build.sh needs no Docker Hub and no apt; its push goes to the local
 * registry, through the engine.
 */

const TASK_DIR = resolve(import.meta.dirname, '../../../sample-tasks/task1')
const REGISTRY = '127.0.0.1:5000'
const SAMPLE = `${REGISTRY}/cloudai-sample-task:1`
/** What build.sh builds on where python:3-slim cannot be pulled (made by set-up). */
const BASES = ['cloudai/python-base:3', 'python:3-slim']
const BUILD_MS = 180_000
const TASK_MS = 120_000

let dir: { path: string, remove: () => Promise<void> }
const tag = mdnsTag()
const dataDirs = { alpha: '', beta: '' }
const daemons: DaemonProcess[] = []
const nodeIds: string[] = []

async function cli (node: 'alpha' | 'beta', args: string[], timeoutMs = 60_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await runCli(['--data-dir', dataDirs[node], ...args], { timeoutMs })
}

async function inEngine (image: string): Promise<boolean> {
  return await docker(['image', 'inspect', image]).then(() => true, () => false)
}

async function imageId (image: string): Promise<string | undefined> {
  return await docker(['image', 'inspect', '--format', '{{.Id}}', image]).then(out => out.trim(), () => undefined)
}

async function script (name: string, env: Record<string, string> = {}): Promise<{ code: number | null, output: string }> {
  const run = await runProcess('bash', [join(TASK_DIR, name)], { timeoutMs: BUILD_MS, env: { REGISTRY, ...env } })
  return { code: run.code, output: `${run.stdout.toString()}${run.stderr.toString()}` }
}

function lastLine (text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? ''
}

before(async () => {
  requireTestNamespace()
  // Without a local base, build.sh would try Docker Hub, then apt: neither may happen in a test.
  const bases = await Promise.all(BASES.map(inEngine))
  assert.ok(bases.some(Boolean), `none of ${BASES.join(', ')} is in the engine: run scripts/ensure-docker.sh (it builds cloudai/python-base:3 from Debian packages)`)
  dir = await tempDir()
  const nodes = await initNodes(dir.path, ['alpha', 'beta'] as const)
  Object.assign(dataDirs, nodes.dataDirs)
  nodeIds.push(nodes.peerIds.alpha, nodes.peerIds.beta)
})

after(async () => {
  for (const daemon of daemons) await daemon.stop()
  await removeTaskContainers(nodeIds)
  await dir?.remove()
})

describe('the sample task', () => {
  test('build.sh builds it offline on the local Python base and pushes it to the registry', async () => {
    const previous = await imageId(SAMPLE)
    const build = await script('build.sh')
    assert.equal(build.code, 0, build.output)
    // The image the tag pointed at before (last run's pull) is left untagged: remove it, so runs do not pile up.
    if (previous !== undefined && previous !== await imageId(SAMPLE)) await docker(['rmi', previous]).catch(() => '')
    assert.match(build.output, /base: (cloudai\/python-base:3 \(built here earlier|python:3-slim \(in the engine already)/)
    assert.doesNotMatch(build.output, /pulling python:3-slim|mmdebstrap/, 'build.sh went for the network')
    assert.match(build.output, new RegExp(`pushed ${SAMPLE.replaceAll('.', '\\.')}`))
    assert.ok(await inEngine(SAMPLE))
  })

  test('test_local.sh runs the image with docker run and passes its checks', async () => {
    const local = await script('test_local.sh')
    assert.equal(local.code, 0, local.output)
    assert.match(local.output, /ok +POINTS=120: exit 0, last line is JSON: count=120 /)
    assert.match(local.output, /ok +POINTS=abc: exit 2/)
    assert.match(local.output, /all checks passed/)
  })

  test('through the mesh: the other node pulls it from the registry and runs it with POINTS=120', async () => {
    daemons.push(await startDaemonProcess(dataDirs.alpha, ['--name', 'alpha', '--mdns-tag', tag]))
    daemons.push(await startDaemonProcess(dataDirs.beta, ['--name', 'beta', '--mdns-tag', tag]))
    const seen = await waitFor(async () => {
      const peers = await cli('alpha', ['peers', '--json'])
      return peers.code === 0 && (JSON.parse(peers.stdout) as any[]).some(peer => peer.name === 'beta' && peer.reachable === true)
    }, 20_000, 250)
    assert.ok(seen, 'alpha never saw beta')
    // Gone from the engine, so the worker's pull from the registry is a real one.
    await docker(['rmi', SAMPLE])

    const run = await cli('alpha', ['task', 'beta', SAMPLE, '--env', 'POINTS=120'], TASK_MS)
    assert.equal(run.code, 0, run.stderr)
    const report = JSON.parse(lastLine(run.stdout))
    assert.equal(report.count, 120)
    assert.equal(report.histogram.counts.reduce((a: number, b: number) => a + b, 0), 120)
    assert.ok(report.min <= report.median && report.median <= report.max, lastLine(run.stdout))
    assert.match(run.stdout, /^cloudai sample task 1: sensor readings summary\n/)
    assert.match(run.stdout, /^data points : 120$/m)

    const taskId = /task (\S+) accepted/.exec(run.stderr)?.[1] ?? ''
    const status = await cli('beta', ['status', taskId, '--json'])
    assert.equal(status.code, 0, status.stderr)
    const onBeta = JSON.parse(status.stdout)
    assert.equal(onBeta.role, 'executed')
    assert.equal(onBeta.state, 'SUCCEEDED')
    assert.ok((onBeta.events as any[]).some(event => event.pull != null), `beta did not pull the image: ${JSON.stringify(onBeta.events)}`)
    assert.ok(await inEngine(SAMPLE), 'the image is not in the engine after the pull')
  })

  test('through the mesh: a bad POINTS ends the task with exit 2 and the reason on stderr', async () => {
    const run = await cli('alpha', ['task', 'beta', SAMPLE, '--env', 'POINTS=lots'], TASK_MS)
    assert.equal(run.code, 2, run.stderr)
    assert.equal(run.stdout, '')
    assert.match(run.stderr, /POINTS must be a whole number from 2 to 1000000 \(got 'lots'\)/)
  })
})
