/**
 * Throughput between two nodes with the cluster key (our private network: a proof per
 * connection and noise's prologue) against the same libp2p stack without it (tcp, noise,
 * yamux), measured in the same run (docs/architecture.md, "Tests"): one stream, and several
 * streams at once over the connection.
 *
 * Each node lives in its own worker thread, so each end of the connection has a core of its
 * own, as two machines would; each run starts fresh threads and nodes.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { randomBytes } from 'node:crypto'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { privateNetwork } from '../../node/src/mesh/private-network.ts'
import { noiseCrypto } from '../../node/src/mesh/noise-crypto.ts'
import { isQuick } from './quick.ts'
import type { BenchRow } from './report.ts'

const PROTOCOL = '/cloudai-bench/sink/1.0.0'
/** The size of a typical large protocol frame. */
const WRITE_BYTES = 64 * 1024
const MiB = 1024 * 1024
/** Sent before timing: JIT, TCP windows and yamux window growth settle. */
const WARM_UP_BYTES = 8 * MiB
/** Streams at once in the "several streams" row. */
const PARALLEL_STREAMS = 4
/** No single run may take longer than this, so a stalled connection ends the bench. */
const RUN_DEADLINE_MS = 60_000

type Stack = 'cluster key' | 'no key'

interface Settings { runs: number, runBytes: number }

function settings (): Settings {
  return isQuick() ? { runs: 3, runBytes: 32 * MiB } : { runs: 5, runBytes: 128 * MiB }
}

async function startNode (stack: Stack, psk: Uint8Array): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    // The baseline is the node's own stack (its noise crypto included) without the cluster key.
    ...(stack === 'cluster key' ? privateNetwork({ psk }) : { connectionEncrypters: [noise({ crypto: noiseCrypto })] }),
    streamMuxers: [yamux()]
  })
}

/** Listener thread: counts nothing, acknowledges the end of each stream. */
async function listen (stack: Stack, psk: Uint8Array): Promise<void> {
  const node = await startNode(stack, psk)
  await node.handle(PROTOCOL, async (stream) => {
    const signal = AbortSignal.timeout(RUN_DEADLINE_MS)
    signal.addEventListener('abort', () => { stream.abort(new Error('bench run deadline passed')) }, { once: true })
    for await (const chunk of stream) void chunk // the bytes only need to arrive
    stream.send(Uint8Array.of(1))
    await stream.close({ signal })
  }, { maxInboundStreams: 64 })
  parentPort!.postMessage(node.getMultiaddrs()[0].toString())
  parentPort!.once('message', () => { void Promise.resolve(node.stop()).then(() => { parentPort!.postMessage('stopped') }) })
}

/** `bytes` over one stream, until the listener acknowledges the end. */
async function send (node: Libp2p, target: string, bytes: number, signal: AbortSignal): Promise<void> {
  const payload = randomBytes(WRITE_BYTES)
  const stream = await node.dialProtocol(multiaddr(target), PROTOCOL, { signal })
  signal.addEventListener('abort', () => { stream.abort(new Error('bench run deadline passed')) }, { once: true })
  for (let sent = 0; sent < bytes; sent += WRITE_BYTES) {
    if (!stream.send(payload)) await stream.onDrain({ signal })
  }
  await stream.close({ signal })
  for await (const ack of stream) void ack
}

/** Dialer thread: warm up, then `bytes` split over `streams` streams at once; posts MiB/s. */
async function dial (stack: Stack, psk: Uint8Array, target: string, streams: number, bytes: number): Promise<void> {
  const node = await startNode(stack, psk)
  const signal = AbortSignal.timeout(RUN_DEADLINE_MS)
  try {
    await send(node, target, WARM_UP_BYTES, signal)
    const start = performance.now()
    await Promise.all(Array.from({ length: streams }, async () => { await send(node, target, bytes / streams, signal) }))
    parentPort!.postMessage(bytes / MiB / ((performance.now() - start) / 1000))
  } finally {
    await node.stop()
  }
}

function nextMessage<T> (worker: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
    worker.once('exit', (code) => { reject(new Error(`bench worker exited with code ${code} before reporting`)) })
  })
}

/** One run in two fresh threads: MiB/s over all streams. */
async function run (stack: Stack, psk: Uint8Array, streams: number, bytes: number): Promise<number> {
  const listener = new Worker(new URL(import.meta.url), { workerData: { role: 'listen', stack, psk } })
  try {
    const target = await nextMessage<string>(listener)
    const dialer = new Worker(new URL(import.meta.url), { workerData: { role: 'dial', stack, psk, target, streams, bytes } })
    try {
      return await nextMessage<number>(dialer)
    } finally {
      await dialer.terminate()
    }
  } finally {
    listener.postMessage('stop')
    await Promise.race([nextMessage(listener).catch(() => {}), new Promise(resolve => setTimeout(resolve, 2_000))])
    await listener.terminate()
  }
}

function median (values: number[]): number {
  return [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]
}

/**
 * Runs of both stacks taken in turn, so a neighbour's load on this shared machine falls on
 * both alike; the median of each.
 */
async function compare (psk: Uint8Array, streams: number): Promise<{ ours: number, baseline: number }> {
  const { runs, runBytes } = settings()
  const ours: number[] = []
  const baseline: number[] = []
  for (let i = 0; i < runs; i++) {
    ours.push(await run('cluster key', psk, streams, runBytes))
    baseline.push(await run('no key', psk, streams, runBytes))
  }
  return { ours: median(ours), baseline: median(baseline) }
}

/** Two rows: one stream, and PARALLEL_STREAMS at once, each against the stack without a key. */
export async function pnetThroughput (): Promise<BenchRow[]> {
  const psk = new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${randomBytes(32).toString('hex')}\n`)
  const rows: BenchRow[] = []
  for (const streams of [1, PARALLEL_STREAMS]) {
    const { ours, baseline } = await compare(psk, streams)
    rows.push({
      name: `cluster key: ${streams === 1 ? 'one stream' : `${streams} streams at once`}`,
      value: Math.round(ours),
      unit: 'MiB/s',
      baseline: 'tcp + noise + yamux, no key',
      baselineValue: Math.round(baseline),
      note: `median of ${settings().runs} runs of ${settings().runBytes / MiB} MiB, each node in its own thread`
    })
  }
  return rows
}

if (!isMainThread && parentPort != null) {
  const data = workerData as { role: 'listen' | 'dial', stack: Stack, psk: Uint8Array, target: string, streams: number, bytes: number }
  if (data.role === 'listen') await listen(data.stack, data.psk)
  else await dial(data.stack, data.psk, data.target, data.streams, data.bytes)
}
