/**
 * Making an image present on an engine that lacks it, three ways in one run
 * (docs/architecture.md, "Images between peers"): through cloudai from the peer that built
 * it; `docker save | docker load` piped straight between the two engines (the baseline);
 * `docker pull` from the local registry. Then the bytes cloudai sends for a second image
 * on the same base, against the size of its one new layer.
 *
 * Engine A is the machine's; engine B is a second dockerd (test/helpers/second-engine.ts)
 * holding only the busybox base. The image's big layer is pseudo-random bytes from a fixed
 * seed (incompressible, and the same in every run, so the registry keeps one copy). The
 * cloudai time is the worker's own: from its first PULLING event to the one that leaves
 * PULLING (lookup, transfer, load, check), not the CLI's or the container's start.
 */
import { createCipheriv } from 'node:crypto'
import { execFile } from 'node:child_process'
import { mkdir, utimes, writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { initNodes, runCli, startDaemonProcess, type DaemonProcess } from '../../test/helpers/cli.ts'
import { tempDir, waitFor } from '../../test/helpers/env.ts'
import { startSecondEngine, type SecondEngine } from '../../test/helpers/second-engine.ts'
import type { BenchRow } from './report.ts'
import { BENCH_IMAGE, median } from './task-latency.ts'
import { cpuMs, profiling } from './daemon-usage.ts'

const exec = promisify(execFile)
const REGISTRY_IMAGE = '127.0.0.1:5000/cloudai-bench/image-transfer'
const LOCAL_PREFIX = 'cloudai-bench-image-transfer'
const RUN_LIMIT_MS = 120_000

async function docker (args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await exec('docker', args, { timeout: RUN_LIMIT_MS, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } })
  return stdout
}

/** `bytes` of AES-CTR keystream from a fixed key: random-looking, the same every run. */
function seededBytes (bytes: number, seed: number): Buffer {
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, seed), Buffer.alloc(16))
  return Buffer.concat([cipher.update(Buffer.alloc(bytes)), cipher.final()])
}

async function buildImage (dir: string, name: string, from: string, bytes: number, seed: number): Promise<string> {
  await mkdir(dir, { recursive: true })
  const blob = join(dir, 'blob')
  await writeFile(blob, seededBytes(bytes, seed))
  // A fixed time too: the layer's digest is then the same in every run.
  await utimes(blob, 0, 0)
  await writeFile(join(dir, 'Dockerfile'), `FROM ${from}\nCOPY blob /blob-${seed}\nCMD ["true"]\n`)
  await docker(['build', '-q', '--network', 'none', '-t', name, dir])
  return (await docker(['image', 'inspect', '--format', '{{.Id}}', name])).trim()
}

async function timed (work: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await work()
  return performance.now() - started
}

/** The worker's log of each transfer's phases (request, offer, …): where the time went. */
function phasesOf (output: string, message = 'fetched an image from a peer'): string[] {
  return output.split('\n').filter(line => line.includes(message)).map(line => {
    try {
      const entry = JSON.parse(line)
      return JSON.stringify({ ...(entry.phasesMs != null ? { phases: entry.phasesMs } : {}), waits: entry.waitsMs ?? {} })
    } catch {
      return line
    }
  })
}

interface TaskTiming { presentMs: number, bytes: number, source: string }

/** Run the image on beta through alpha's daemon; the worker's time from PULLING to present, and the archive bytes received. */
async function throughCloudai (alphaDir: string, image: string): Promise<TaskTiming> {
  const run = await runCli(['--data-dir', alphaDir, 'task', 'beta', image, '--json', '--', 'true'], { timeoutMs: RUN_LIMIT_MS })
  if (run.code !== 0) throw new Error(`cloudai task failed (${run.code}): ${run.stderr}`)
  const events = run.stdout.split('\n').filter(line => line !== '').map(line => JSON.parse(line))
  const pulling = events.find(event => event.state === 'PULLING')
  const present = events.find(event => event.imageSource != null)
  const fetches = events.filter(event => event.imageFetch != null)
  return {
    presentMs: Date.parse(present.time) - Date.parse(pulling.time),
    bytes: fetches.at(-1)?.imageFetch.doneBytes ?? 0,
    source: present.imageSource.kind
  }
}

export async function imageTransferBench (quick = false): Promise<BenchRow[]> {
  const imageBytes = quick ? 24 * 1024 * 1024 : 96 * 1024 * 1024
  const secondLayerBytes = 4 * 1024 * 1024
  const rounds = quick ? 1 : 3
  const dir = await tempDir('cloudai-bench-images-')
  let engine: SecondEngine | undefined
  const daemons: DaemonProcess[] = []
  const image = `${LOCAL_PREFIX}/first:${imageBytes}`
  const second = `${LOCAL_PREFIX}/second:${imageBytes}`
  const registryImage = `${REGISTRY_IMAGE}:${imageBytes}`
  try {
    engine = await startSecondEngine({ requireNamespace: false })
    const onB = { DOCKER_HOST: engine.host }
    await docker(['image', 'inspect', BENCH_IMAGE]).catch(async () => await docker(['pull', BENCH_IMAGE]))
    await engine.loadFromMain([BENCH_IMAGE])
    const imageId = await buildImage(join(dir.path, 'first'), image, BENCH_IMAGE, imageBytes, 1)

    // The registry baseline, on engine A (engine B, in this namespace, reaches no registry).
    await docker(['tag', image, registryImage])
    await docker(['push', registryImage])
    const pullMs: number[] = []
    for (let round = 0; round < rounds; round++) {
      // Both names gone, the big layer goes too: the pull must fetch it.
      await docker(['rmi', registryImage])
      await docker(['rmi', image]).catch(() => '')
      pullMs.push(await timed(async () => await docker(['pull', registryImage])))
      await docker(['tag', registryImage, image])
    }
    // The pulled image has the built one's ID (same config), so alpha offers it as before.
    const pulledId = (await docker(['image', 'inspect', '--format', '{{.Id}}', image])).trim()
    if (pulledId !== imageId) throw new Error(`the pulled image is ${pulledId}, not the built ${imageId}`)
    // Built only now: as a child of the first image it would have kept the layer the pulls fetch.
    const secondId = await buildImage(join(dir.path, 'second'), second, image, secondLayerBytes, 2)

    const nodes = await initNodes(dir.path, ['alpha', 'beta'] as const)
    const tag = `cloudai-bench-${process.pid}`
    daemons.push(await startDaemonProcess(nodes.dataDirs.alpha, ['--name', 'alpha', '--mdns-tag', tag, '--gpus', '0'], { env: profiling('alpha') }))
    daemons.push(await startDaemonProcess(nodes.dataDirs.beta, ['--name', 'beta', '--mdns-tag', tag, '--gpus', '0'], { env: { ...onB, ...profiling('beta') } }))
    const ready = await waitFor(async () => {
      const peers = await runCli(['--data-dir', nodes.dataDirs.alpha, 'peers', '--json'])
      return peers.code === 0 && (JSON.parse(peers.stdout) as any[]).some(peer => peer.name === 'beta' && peer.reachable === true)
    }, 30_000, 250)
    if (!ready) throw new Error('the two daemons never met')

    const pipeMs: number[] = []
    const cloudaiMs: number[] = []
    let firstBytes = 0
    for (let round = 0; round < rounds; round++) {
      pipeMs.push(await timed(async () => await engine!.loadFromMain([imageId])))
      await engine.docker(['rmi', '-f', imageId])
      const cpuBefore = await Promise.all(daemons.map(async daemon => await cpuMs(daemon.child.pid)))
      const viaCloudai = await throughCloudai(nodes.dataDirs.alpha, image)
      const cpuAfter = await Promise.all(daemons.map(async daemon => await cpuMs(daemon.child.pid)))
      if (viaCloudai.source !== 'peer') throw new Error(`the image came from the ${viaCloudai.source}, not a peer`)
      cloudaiMs.push(viaCloudai.presentMs)
      process.stderr.write(`bench: image-transfer: cloudai ${viaCloudai.presentMs} ms, pipe ${pipeMs.at(-1)?.toFixed(0)} ms; the worker's phases ${phasesOf(daemons[1].output()).at(-1) ?? '?'}, the holder's ${phasesOf(daemons[0].output(), 'sent an image to a peer').at(-1) ?? '?'}; CPU ms alpha ${cpuAfter[0] - cpuBefore[0]}, beta ${cpuAfter[1] - cpuBefore[1]}\n`)
      firstBytes = viaCloudai.bytes
      await waitFor(async () => await engine!.docker(['rmi', '-f', imageId]).then(() => true, () => false), 10_000, 200)
    }
    // The second image, on top of the first: only its new layer should travel.
    await throughCloudai(nodes.dataDirs.alpha, image)
    const viaCloudai = await throughCloudai(nodes.dataDirs.alpha, second)
    const newLayerBytes = Number((await docker(['image', 'inspect', '--format', '{{.Size}}', secondId])).trim()) - Number((await docker(['image', 'inspect', '--format', '{{.Size}}', imageId])).trim())
    const mb = (imageBytes / 1024 / 1024).toFixed(0)
    return [
      { name: `image to a peer's engine, ${mb} MiB layer (median of ${rounds})`, value: median(cloudaiMs), unit: 'ms', baseline: 'docker save | docker load between the engines', baselineValue: median(pipeMs), note: `goal ≤ 1.1x; ${firstBytes} bytes sent (the base left out); load ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores` },
      { name: `image to a peer's engine, ${mb} MiB layer (median of ${rounds})`, value: median(cloudaiMs), unit: 'ms', baseline: 'docker pull from the local registry', baselineValue: median(pullMs), note: 'goal ≤ 1.3x' },
      { name: 'bytes sent for a second image on the same base', value: viaCloudai.bytes, unit: 'B', baseline: 'size of its new layer', baselineValue: newLayerBytes, note: 'goal ≤ 1.05x' }
    ]
  } finally {
    for (const daemon of daemons) await daemon.stop(process.env.CLOUDAI_BENCH_PROFILE != null ? 'SIGTERM' : 'SIGKILL').catch(() => null)
    await engine?.stop()
    await docker(['rmi', '-f', second, image]).catch(() => '')
    await docker(['rmi', registryImage]).catch(() => '')
    await dir.remove()
  }
}
