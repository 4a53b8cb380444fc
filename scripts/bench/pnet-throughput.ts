/**
 * Throughput of one stream between two nodes, over our private-network protector and over
 * @libp2p/pnet (the baseline), measured in the same run (docs/architecture.md, "Tests").
 *
 * Each run has two fresh nodes in a fresh worker thread. The baseline needs that: its
 * xsalsa20 WebAssembly memory is shared by the whole thread and, once grown, grows again
 * whenever another connection end uses it, until it dies (see private-network.ts); with two
 * nodes in one thread that happens after a few tens of MiB on one stream. A run therefore
 * sends 2 MiB to warm up and 16 MiB measured, which the baseline survives in a fresh thread.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { ConnectionProtector, Libp2p } from '@libp2p/interface'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { randomBytes } from 'node:crypto'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { privateNetwork } from '../../node/src/mesh/private-network.ts'
import type { BenchRow } from './report.ts'


const PROTOCOL = '/cloudai-bench/sink/1.0.0'
/** The size of a typical large protocol frame. */
const WRITE_BYTES = 64 * 1024
const MiB = 1024 * 1024
/** Sent before timing: JIT, TCP windows and yamux window growth settle. */
const WARM_UP_BYTES = 2 * MiB
/** Timed bytes per run: about 100 ms at loopback speed, and few enough for the baseline to live. */
const RUN_BYTES = 16 * MiB
/** Runs per protector, each in its own worker; the median is reported. */
const RUNS = 5
/** No single run may take longer than this, so a stalled connection ends the bench. */
const RUN_DEADLINE_MS = 60_000

async function startNode (protector: () => ConnectionProtector): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionProtector: protector,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  await node.handle(PROTOCOL, async (stream) => {
    const signal = AbortSignal.timeout(RUN_DEADLINE_MS)
    signal.addEventListener('abort', () => { stream.abort(new Error('bench run deadline passed')) }, { once: true })
    for await (const chunk of stream) void chunk // the bytes only need to arrive
    stream.send(Uint8Array.of(1))
    await stream.close({ signal })
  })
  return node
}

/** MiB/s of `bytes` sent over one stream from a to b, until b acknowledges the end. */
async function measure (a: Libp2p, b: Libp2p, bytes: number): Promise<number> {
  const signal = AbortSignal.timeout(RUN_DEADLINE_MS)
  const payload = randomBytes(WRITE_BYTES)
  const stream = await a.dialProtocol(b.getMultiaddrs()[0], PROTOCOL, { signal })
  signal.addEventListener('abort', () => { stream.abort(new Error('bench run deadline passed')) }, { once: true })
  const start = performance.now()
  for (let sent = 0; sent < bytes; sent += WRITE_BYTES) {
    if (!stream.send(payload)) await stream.onDrain({ signal })
  }
  await stream.close({ signal })
  for await (const ack of stream) void ack // ends when b has read everything and closed
  return bytes / MiB / ((performance.now() - start) / 1000)
}

type Implementation = 'ours' | '@libp2p/pnet'

/** One run, inside a worker thread: two nodes, warm-up, then the timed transfer. */
async function runInThisThread (implementation: Implementation, psk: Uint8Array): Promise<number> {
  const protector = implementation === 'ours' ? privateNetwork : preSharedKey
  const [a, b] = await Promise.all([startNode(protector({ psk })), startNode(protector({ psk }))])
  try {
    await measure(a, b, WARM_UP_BYTES)
    return await measure(a, b, RUN_BYTES)
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

async function runInWorker (implementation: Implementation, psk: Uint8Array): Promise<number> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { implementation, psk } })
  try {
    return await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
      worker.once('exit', (code) => { reject(new Error(`${implementation} bench worker exited with code ${code} before reporting`)) })
    })
  } finally {
    await worker.terminate()
  }
}

async function medianThroughput (implementation: Implementation, psk: Uint8Array): Promise<number> {
  const runs: number[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await runInWorker(implementation, psk))
  return runs.sort((x, y) => x - y)[Math.floor(RUNS / 2)]
}

/** One row: our protector against @libp2p/pnet, one stream, median of RUNS fresh runs. */
export async function pnetThroughput (): Promise<BenchRow[]> {
  const psk = new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${randomBytes(32).toString('hex')}\n`)
  const ours = await medianThroughput('ours', psk)
  const baseline = await medianThroughput('@libp2p/pnet', psk)
  return [{
    name: 'private network: one stream (noble xsalsa20)',
    value: Math.round(ours),
    unit: 'MiB/s',
    baseline: '@libp2p/pnet (xsalsa20 WASM)',
    baselineValue: Math.round(baseline)
  }]
}

if (!isMainThread && parentPort != null) {
  const { implementation, psk } = workerData as { implementation: Implementation, psk: Uint8Array }
  parentPort.postMessage(await runInThisThread(implementation, psk))
}
