import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import * as lp from 'it-length-prefixed'
import { createLibp2p } from 'libp2p'
import assert from 'node:assert/strict'
import { copyFile, readFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { after, before, describe, test, type TestContext } from 'node:test'
import { MasterMessage, TaskEvent } from '../../protocols/task.ts'
import { createSwarmKey, loadSwarmKey } from '../../node/src/mesh/swarm-key.ts'
import { privateNetwork } from '../../node/src/mesh/private-network.ts'
import { INBOUND_UPGRADE_TIMEOUT_MS, DEFAULT_INBOUND_CONNECTION_THRESHOLD, MAX_INCOMING_PENDING_CONNECTIONS } from '../../node/src/mesh/limits.ts'
import { NODE_PROTOCOL, NODE_REQUEST_TIMEOUT_MS, requestStatus } from '../../node/src/protocol/node-protocol.ts'
import { MAX_EVENT_FRAME_BYTES } from '../../node/src/protocol/task-protocol.ts'
import { IDLE_TIMEOUT_MS, TASKS_MAX_STREAMS, TASKS_PROTOCOL } from '../../node/src/protocol/tasks-protocol.ts'
import { encodeSpec, TaskState } from '../../node/src/protocol/task-messages.ts'
import { runCli, startDaemonProcess, type DaemonProcess } from '../helpers/cli.ts'
import { ensureTestImage, IMAGE, removeTaskContainers, spawnCli, type LiveCli } from '../helpers/docker.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'
import { readUntilEnd, varint, type StreamOutcome } from '../helpers/streams.ts'

/**
 * Floods against one node, bounded in count and time, while a second master runs a
 * task on it. The worker ("beta") and the legitimate master ("alpha") are daemons as separate
 * processes on loopback with the real Docker engine; the flooders are libp2p nodes in this
 * process, holding the cluster key (it is what gets a stranger past the handshake) or not.
 * Asserted: the legitimate task completes with its full output, the worker's RSS (from
 * /proc/<pid>/status) stays within 2x its idle value, every hostile stream and connection is
 * answered with a reset or a typed error, and everything ends within its bound.
 */

/**
 * The legitimate task: numbered lines, 200 a second (a 0.1 s pause every 20 lines), for as long
 * as the flood beside it lasts: 10 s beside a flood that waits out a 10 s deadline, 3 s beside
 * one that is over in a moment.
 */
const LONG_TASK_S = 10
const SHORT_TASK_S = 3
const LINES_PER_SECOND = 200
function legitCommand (lines: number): string[] {
  return ['sh', '-c', `i=1; while [ $i -le ${lines} ]; do echo "line $i"; if [ $((i % 20)) -eq 0 ]; then sleep 0.1; fi; i=$((i + 1)); done`]
}
function legitOutput (lines: number): string {
  return Array.from({ length: lines }, (_, i) => `line ${i + 1}\n`).join('')
}
const LEGIT_BOUND_MS = 60_000

const STREAMS = 200
const SLOW_LORIS = 50
/** How often a slow-loris stream sends its next byte. */
const LORIS_BYTE_EVERY_MS = 2_000
const CONNECTIONS = 100
/** Keyless dialers per wave (one wave inside the keyed burst, one alone): another key, no key at all, raw TCP that is silent or sends junk. */
const WRONG_KEY = 10
const NO_KEY = 10
const RAW_TCP = 10
/** A refused or served flood item ends this long after its deadline at most (a loaded machine). */
const SLACK_MS = 5_000
const RSS_SAMPLE_EVERY_MS = 100
const RSS_FACTOR = 2

let dir: { path: string, remove: () => Promise<void> }
const tag = mdnsTag()
const dataDirs = { alpha: '', beta: '' }
const daemons: { alpha?: DaemonProcess, beta?: DaemonProcess } = {}
const nodeIds: string[] = []
let betaId: PeerId
let betaAddr: Multiaddr
let psk: Uint8Array
let idleRssKiB = 0

// ---------------------------------------------------------------------------------------------
// Measuring

async function rssKiB (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN)
}

function mib (kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`
}

/** Samples the worker's RSS until stopped; the highest value seen. */
function rssSampler (pid: number): { stop: () => Promise<{ maxKiB: number, samples: number }> } {
  let maxKiB = 0
  let samples = 0
  let running = true
  const loop = (async () => {
    while (running) {
      const value = await rssKiB(pid).catch(() => NaN)
      if (Number.isFinite(value)) {
        maxKiB = Math.max(maxKiB, value)
        samples++
      }
      await delay(RSS_SAMPLE_EVERY_MS)
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return { maxKiB, samples }
    }
  }
}

/** How often each label occurs. */
function tally (labels: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1
  return counts
}

/** A refused dial as a label: the error's name, and the gist of its message when the name is a bare `Error`. */
function refusedLabel (err: any): string {
  const name = String(err?.name ?? 'unknown')
  if (name !== 'Error') return `refused (${name})`
  const gist = String(err?.message ?? '').replace(/\/ip4\/[^ ]*|[0-9a-f]{16,}|\d+(\.\d+)*/g, '…').slice(0, 80)
  return `refused (Error: ${gist})`
}

function show (counts: Record<string, number>): string {
  return Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([label, n]) => `${label} ×${n}`).join(', ')
}

// ---------------------------------------------------------------------------------------------
// The legitimate side

async function cli (node: 'alpha' | 'beta', args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await runCli(['--data-dir', dataDirs[node], ...args], { timeoutMs: 20_000 })
}

async function alphaSeesBeta (timeoutMs: number): Promise<boolean> {
  return await waitFor(async () => {
    const peers = await cli('alpha', ['peers', '--json'])
    return peers.code === 0 && (JSON.parse(peers.stdout) as any[]).some(peer => peer.name === 'beta' && peer.reachable === true)
  }, timeoutMs, 250)
}

/** Start the legitimate task from alpha on beta, and wait until its output flows. */
async function startLegitTask (lines: number): Promise<LiveCli> {
  const task = spawnCli(['--data-dir', dataDirs.alpha, 'task', 'beta', IMAGE, '--', ...legitCommand(lines)], { timeoutMs: LEGIT_BOUND_MS })
  assert.ok(await task.waitForStdout(out => out.includes('line 1\n'), 30_000), `the legitimate task never started:\n${task.stderr()}`)
  return task
}

/** Which lines are missing or repeated, for a message that says what went wrong. */
function describeLines (stdout: string, lines: number): string {
  const got = stdout.split('\n').filter(line => line !== '')
  const seen = new Set(got)
  const missing = Array.from({ length: lines }, (_, i) => `line ${i + 1}`).filter(line => !seen.has(line))
  return `got ${got.length} lines; missing ${missing.length} (first: ${missing.slice(0, 5).join(', ')})`
}

async function assertLegitTaskComplete (task: LiveCli, lines: number): Promise<void> {
  const code = await task.exited
  assert.equal(code, 0, `the legitimate task did not succeed (exit ${code}):\n${task.stderr().slice(-2000)}`)
  assert.ok(task.stdout() === legitOutput(lines), `the legitimate task's output is not complete: ${describeLines(task.stdout(), lines)}`)
}

/**
 * Run one flood beside a legitimate task of `taskSeconds` and check what every flood must: the
 * task completes with its full output, the worker's RSS stays within 2x idle during and after,
 * the worker still serves alpha. Returns the flood's result.
 */
async function underFlood<T> (t: TestContext, name: string, taskSeconds: number, flood: () => Promise<T>): Promise<T> {
  const pid = daemons.beta!.child.pid!
  const before = await rssKiB(pid)
  const lines = taskSeconds * LINES_PER_SECOND
  const task = await startLegitTask(lines)
  const sampler = rssSampler(pid)
  let result: T
  try {
    result = await flood()
    await assertLegitTaskComplete(task, lines)
  } finally {
    task.kill()
  }
  const during = await sampler.stop()
  assert.equal(daemons.beta!.child.exitCode, null, `the worker exited:\n${daemons.beta!.output().slice(-3000)}`)
  // Served again first (what the flood's connections held is let go meanwhile), then measured.
  assert.ok(await alphaSeesBeta(15_000), 'alpha no longer sees beta after the flood')
  const afterKiB = await rssKiB(pid)
  const line = `# flood: ${name}: worker RSS idle ${mib(idleRssKiB)}, before ${mib(before)}, peak during ${mib(during.maxKiB)} (${during.samples} samples), after ${mib(afterKiB)}; bound ${mib(RSS_FACTOR * idleRssKiB)}`
  console.log(line)
  t.diagnostic(line)
  assert.ok(during.maxKiB <= RSS_FACTOR * idleRssKiB, `the worker's RSS reached ${mib(during.maxKiB)}, over ${RSS_FACTOR}x its idle ${mib(idleRssKiB)}`)
  assert.ok(afterKiB <= RSS_FACTOR * idleRssKiB, `the worker's RSS after the flood is ${mib(afterKiB)}, over ${RSS_FACTOR}x its idle ${mib(idleRssKiB)}`)
  return result
}

// ---------------------------------------------------------------------------------------------
// The flooders

/** A libp2p node that dials from `localAddress` (any 127.x address is this machine), with `key` or none. */
async function flooder (key: Uint8Array | undefined, localAddress?: string): Promise<Libp2p> {
  const node = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: [] },
    // localAddress reaches net.connect (the transport spreads dialOpts into its options).
    transports: [tcp(localAddress != null ? { dialOpts: { localAddress } as any } : {})],
    ...(key != null ? privateNetwork({ psk: key }) : { connectionEncrypters: [noise()] }),
    streamMuxers: [yamux()],
    connectionManager: { dialTimeout: INBOUND_UPGRADE_TIMEOUT_MS + SLACK_MS }
  })
  await node.start()
  return node
}

async function stopAll (nodes: Libp2p[]): Promise<void> {
  await Promise.all(nodes.map(async node => { try { await node.stop() } catch {} }))
}

/** A stream to beta on `protocol`, past libp2p's default of 64 outbound streams per protocol. */
async function openStream (from: Libp2p, protocol: string): Promise<Stream> {
  return await from.dialProtocol(betaId, protocol, { signal: AbortSignal.timeout(10_000), maxOutboundStreams: 10_000 })
}

/** How a flood stream ended, as a label: `reset (<error name>)`, `closed`, `open at the bound`. */
function endLabel (outcome: StreamOutcome): string {
  if (outcome.end === 'timeout') return 'open at the bound'
  if (outcome.end === 'reset') return `reset (${outcome.error?.name ?? 'no error'})`
  return outcome.bytes.length > 0 ? 'closed with an answer' : 'closed without an answer'
}

/** The worker's answer on a task stream: its events, decoded. */
function taskEvents (outcome: StreamOutcome): TaskEvent[] {
  return [...lp.decode([outcome.bytes], { maxDataLength: MAX_EVENT_FRAME_BYTES })].map(frame => TaskEvent.decode(frame))
}

/** A Submit the worker must refuse as invalid (the image is no reference). */
function invalidSubmit (i: number): Uint8Array {
  const spec = encodeSpec({
    id: `flood-${i}-${Date.now()}`,
    image: 'NOT AN IMAGE!',
    command: ['true'],
    env: {},
    resources: { cpu: 1, memoryBytes: 64 * 1024 * 1024, storageBytes: 0, gpus: 0 },
    network: 'none',
    labels: {},
    attempt: 1
  })
  return lp.encode.single(MasterMessage.encode({ submit: { spec } })).subarray()
}

/** Dialers without the cluster key, and what became of them. */
interface KeylessWave { wrong: Libp2p[], open: Libp2p[], raw: string[] }
interface KeylessResults { wrong: string[], open: string[], raw: Array<{ label: string, ms: number }> }

/** A raw TCP connection to beta's port from `localAddress` that sends `bytes` (or nothing): how and when it ended. */
async function rawTcp (localAddress: string, bytes: Uint8Array | undefined, boundMs: number): Promise<{ label: string, ms: number }> {
  const started = Date.now()
  const socket: Socket = connect({ host: '127.0.0.1', port: Number(betaAddr.getComponents().find(c => c.name === 'tcp')?.value), localAddress })
  return await new Promise(resolve => {
    const timer = setTimeout(() => { socket.destroy(); resolve({ label: 'open at the bound', ms: Date.now() - started }) }, boundMs)
    socket.on('connect', () => { if (bytes != null) socket.write(bytes) })
    socket.on('data', () => {})
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      const ms = Date.now() - started
      resolve({ label: ms <= INBOUND_UPGRADE_TIMEOUT_MS + SLACK_MS ? 'closed by the node' : 'closed late', ms })
    })
  })
}

// ---------------------------------------------------------------------------------------------

before(async () => {
  requireTestNamespace()
  await ensureTestImage()
  dir = await tempDir()
  for (const node of ['beta', 'alpha'] as const) {
    dataDirs[node] = join(dir.path, node)
    const init = await cli(node, ['init', '--json'])
    assert.equal(init.code, 0, init.stderr)
    nodeIds.push(JSON.parse(init.stdout).peerId)
  }
  await copyFile(join(dataDirs.beta, 'swarm.key'), join(dataDirs.alpha, 'swarm.key'))
  psk = (await loadSwarmKey(join(dataDirs.beta, 'swarm.key'))).psk
  daemons.beta = await startDaemonProcess(dataDirs.beta, ['--name', 'beta', '--mdns-tag', tag, '--cpu', '2'])
  daemons.alpha = await startDaemonProcess(dataDirs.alpha, ['--name', 'alpha', '--mdns-tag', tag])
  assert.ok(await alphaSeesBeta(20_000), 'alpha never saw beta')
  const id = await cli('beta', ['id', '--json'])
  assert.equal(id.code, 0, id.stderr)
  const info = JSON.parse(id.stdout)
  betaId = peerIdFromString(info.peerId)
  const addr = (info.addrs as string[]).find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))
  assert.ok(addr != null, `beta has no loopback address: ${info.addrs}`)
  betaAddr = multiaddr(addr.includes('/p2p/') ? addr : `${addr}/p2p/${info.peerId}`)
  // Idle: the mesh formed, nothing running; the median of a few samples a moment apart.
  await delay(2_000)
  const samples: number[] = []
  for (let i = 0; i < 5; i++) {
    samples.push(await rssKiB(daemons.beta.child.pid!))
    await delay(200)
  }
  idleRssKiB = samples.sort((a, b) => a - b)[2]
  console.log(`# flood: worker idle RSS ${mib(idleRssKiB)} (samples ${samples.map(mib).join(', ')})`)
})

after(async () => {
  await daemons.alpha?.stop('SIGKILL')
  await daemons.beta?.stop('SIGKILL')
  await removeTaskContainers(nodeIds)
  await dir?.remove()
})

describe('floods against one worker while alpha runs a task on it', () => {
  test('baseline: the legitimate task alone completes with its full output, and what it costs the worker', async t => {
    await underFlood(t, 'none (the task alone)', SHORT_TASK_S, async () => {})
  })

  // Both wait out protocol deadlines on connections of their own: side by side, each under the
  // other's load as well, the worker's memory bound covers both at once.
  describe('stream floods', { concurrency: true }, () => {
    test(`${STREAMS} task streams opened at once on one keyed connection: the ${TASKS_MAX_STREAMS} the connection may hold are each reset or answered within their deadline, the rest refused`, async t => {
      const boundMs = IDLE_TIMEOUT_MS + SLACK_MS
      const node = await flooder(psk)
      try {
        await node.dial(betaAddr, { signal: AbortSignal.timeout(10_000) })
        const { labels, rejected, endedMs } = await underFlood(t, `${STREAMS} streams at once`, LONG_TASK_S, async () => {
          const started = Date.now()
          // Within the bound: silent (waits out the idle deadline), an endless length prefix, invalid Submits (each
          // REJECTED, then the stream, with no task on it, idle). Past it, all at once while those are open.
          const kinds = Array.from({ length: STREAMS }, (_, i) => i < TASKS_MAX_STREAMS ? (['silent', 'endless varint', 'invalid Submit', 'invalid Submit'] as const)[i % 4] : 'past the bound')
          const held = await Promise.allSettled(kinds.slice(0, TASKS_MAX_STREAMS).map(async () => await openStream(node, TASKS_PROTOCOL)))
          const past = await Promise.allSettled(kinds.slice(TASKS_MAX_STREAMS).map(async () => await openStream(node, TASKS_PROTOCOL)))
          const opened = [...held, ...past]
          const outcomes = await Promise.all(opened.map(async (result, i) => {
            if (result.status === 'rejected') return { kind: kinds[i], label: `not opened (${result.reason?.name})`, events: [] as TaskEvent[] }
            const stream = result.value
            if (kinds[i] === 'endless varint') stream.send(new Uint8Array(64).fill(0xff))
            if (kinds[i] === 'invalid Submit') stream.send(invalidSubmit(i))
            const outcome = await readUntilEnd(stream, boundMs)
            let events: TaskEvent[] = []
            try { events = taskEvents(outcome) } catch {}
            if (outcome.end !== 'timeout') stream.abort(new Error('done'))
            return { kind: kinds[i], label: endLabel(outcome), events }
          }))
          return {
            labels: outcomes.map(o => `${o.kind}: ${o.label}`),
            rejected: outcomes.filter(o => o.events.length === 1 && o.events[0].state === TaskState.REJECTED && o.events[0].error?.code === 'INVALID_SPEC').length,
            endedMs: Date.now() - started
          }
        })
        const counts = tally(labels)
        console.log(`# flood: ${STREAMS} streams: ${show(counts)}; REJECTED with INVALID_SPEC: ${rejected}; all ended ${endedMs} ms after the first was opened (bound ${boundMs} ms)`)
        assert.equal(labels.filter(label => label.endsWith('open at the bound')).length, 0, `streams the worker left open: ${show(counts)}`)
        assert.equal(labels.filter(label => !label.startsWith('past the bound') && label.includes('not opened')).length, 0, `streams within the bound that could not be opened: ${show(counts)}`)
        assert.equal(labels.filter(label => label.startsWith('past the bound') && (label.includes('not opened') || label.includes('reset'))).length, STREAMS - TASKS_MAX_STREAMS, `every stream past the bound is refused: ${show(counts)}`)
        assert.equal(labels.filter(label => label.startsWith('silent') && label.includes('reset')).length, 1, `the silent stream is reset at the idle deadline: ${show(counts)}`)
        assert.equal(labels.filter(label => label.startsWith('endless varint') && label.includes('reset')).length, 1, `the endless prefix is reset: ${show(counts)}`)
        assert.equal(rejected, 2, `every invalid Submit gets REJECTED with INVALID_SPEC: ${show(counts)}`)
      } finally {
        await node.stop()
      }
    })

    test(`${SLOW_LORIS} slow-loris streams (a byte every ${LORIS_BYTE_EVERY_MS / 1000} s): each is reset at its protocol's deadline`, async t => {
      const node = await flooder(psk)
      try {
        await node.dial(betaAddr, { signal: AbortSignal.timeout(10_000) })
        const outcomes = await underFlood(t, `${SLOW_LORIS} slow-loris streams`, LONG_TASK_S, async () => {
          return await Promise.all(Array.from({ length: SLOW_LORIS }, async (_, i) => {
            // As many task streams as a connection may hold (their idle deadline ends them); the rest on the node protocol.
            const [protocol, deadlineMs] = i < TASKS_MAX_STREAMS ? [TASKS_PROTOCOL, IDLE_TIMEOUT_MS] : [NODE_PROTOCOL, NODE_REQUEST_TIMEOUT_MS]
            const stream = await openStream(node, protocol)
            // A frame that claims 1,000 bytes, then its body a byte at a time.
            stream.send(varint(1_000))
            let sent = 0
            const dripping = (async () => {
              while (stream.status === 'open' && stream.writeStatus === 'writable' && sent < 1_000) {
                await delay(LORIS_BYTE_EVERY_MS)
                if (stream.status !== 'open') break
                try { stream.send(Uint8Array.of(0x42)) } catch { break }
                sent++
              }
            })()
            const outcome = await readUntilEnd(stream, deadlineMs + SLACK_MS)
            if (outcome.end === 'timeout') stream.abort(new Error('test bound'))
            await dripping
            return { protocol, deadlineMs, outcome, sent }
          }))
        })
        const labels = outcomes.map(o => `${o.protocol}: ${endLabel(o.outcome)}`)
        const late = outcomes.filter(o => o.outcome.elapsedMs > o.deadlineMs + SLACK_MS || o.outcome.elapsedMs < o.deadlineMs - 1_000)
        const times = outcomes.map(o => o.outcome.elapsedMs)
        console.log(`# flood: ${SLOW_LORIS} slow-loris streams: ${show(tally(labels))}; ended ${Math.round(Math.min(...times))}-${Math.round(Math.max(...times))} ms after opening; bytes dripped per stream: ${Math.min(...outcomes.map(o => o.sent))}-${Math.max(...outcomes.map(o => o.sent))}`)
        assert.deepEqual(labels.filter(label => !label.includes('reset')), [], 'every slow-loris stream is reset')
        assert.deepEqual(late.map(o => `${o.protocol} ended after ${Math.round(o.outcome.elapsedMs)} ms (deadline ${o.deadlineMs} ms)`), [], 'each ends at its deadline')
      } finally {
        await node.stop()
      }
    })
  })

  test(`${CONNECTIONS} keyed connections in a burst from one host: the per-host threshold refuses all but a few, with resets`, async t => {
    const nodes = await Promise.all(Array.from({ length: CONNECTIONS }, async () => await flooder(psk)))
    try {
      await delay(1_100) // a fresh second of the per-host allowance, so the count below is the threshold's
      const boundMs = INBOUND_UPGRADE_TIMEOUT_MS + SLACK_MS
      const { results, settledMs } = await underFlood(t, `${CONNECTIONS} connections from one host`, SHORT_TASK_S, async () => {
        const started = Date.now()
        const dials = await Promise.allSettled(nodes.map(async node => await node.dial(betaAddr, { signal: AbortSignal.timeout(boundMs) })))
        return { results: dials.map(dial => dial.status === 'fulfilled' ? 'connected' : refusedLabel(dial.reason)), settledMs: Date.now() - started }
      })
      const counts = tally(results)
      const connected = counts.connected ?? 0
      console.log(`# flood: ${CONNECTIONS} keyed connections from 127.0.0.1: ${show(counts)}; all settled within ${settledMs} ms (threshold ${DEFAULT_INBOUND_CONNECTION_THRESHOLD}/s per host)`)
      assert.ok(settledMs <= boundMs + SLACK_MS, `the burst took ${settledMs} ms`)
      assert.ok(connected >= 1, 'not one keyed connection got in')
      assert.ok(connected <= DEFAULT_INBOUND_CONNECTION_THRESHOLD * 3, `${connected} connections from one host got in within a burst`)
      assert.equal(results.length, CONNECTIONS)
    } finally {
      await stopAll(nodes)
    }
  })

  test(`${CONNECTIONS} keyed connections in a burst from ${CONNECTIONS} hosts with ${WRONG_KEY + NO_KEY + RAW_TCP} keyless ones, then ${WRONG_KEY + NO_KEY + RAW_TCP} keyless ones alone: no keyless one gets in, keyed ones are served or refused, none hangs`, async t => {
    const keyed = await Promise.all(Array.from({ length: CONNECTIONS }, async (_, i) => await flooder(psk, `127.0.0.${10 + i}`)))
    const otherKey = (await createSwarmKey(join(dir.path, 'other.key'))).psk
    /** Dialers without the key, each from its own address: another key, none at all, raw TCP (half silent, half junk). */
    const keyless = async (wave: number): Promise<KeylessWave> => ({
      wrong: await Promise.all(Array.from({ length: WRONG_KEY }, async (_, i) => await flooder(otherKey, `127.0.${wave * 3 + 1}.${10 + i}`))),
      open: await Promise.all(Array.from({ length: NO_KEY }, async (_, i) => await flooder(undefined, `127.0.${wave * 3 + 2}.${10 + i}`))),
      raw: Array.from({ length: RAW_TCP }, (_, i) => `127.0.${wave * 3 + 3}.${10 + i}`)
    })
    const waves = [await keyless(0), await keyless(1)]
    const boundMs = INBOUND_UPGRADE_TIMEOUT_MS + SLACK_MS
    const dial = async (node: Libp2p): Promise<string> => {
      try {
        await node.dial(betaAddr, { signal: AbortSignal.timeout(boundMs) })
        return 'connected'
      } catch (err: any) {
        return refusedLabel(err)
      }
    }
    const keylessDials = async (wave: KeylessWave): Promise<KeylessResults> => {
      const [wrong, open, raw] = await Promise.all([
        Promise.all(wave.wrong.map(dial)),
        Promise.all(wave.open.map(dial)),
        Promise.all(wave.raw.map(async (address, i) => await rawTcp(address, i % 2 === 0 ? undefined : new Uint8Array(64 * 1024).fill(0x5a), boundMs + SLACK_MS)))
      ])
      return { wrong, open, raw }
    }
    const describeKeyless = (r: KeylessResults): string =>
      `another key: ${show(tally(r.wrong))}; no key: ${show(tally(r.open))}; raw TCP (silent, 64 KiB junk): ${show(tally(r.raw.map(x => x.label)))} after ${Math.min(...r.raw.map(x => x.ms))}-${Math.max(...r.raw.map(x => x.ms))} ms`
    try {
      const result = await underFlood(t, `${CONNECTIONS} keyed + ${WRONG_KEY + NO_KEY + RAW_TCP} keyless connections from many hosts, then ${WRONG_KEY + NO_KEY + RAW_TCP} keyless alone`, LONG_TASK_S, async () => {
        const started = Date.now()
        // Wave 1: the keyed burst, with keyless dialers mixed in.
        const [keyedResults, mixed] = await Promise.all([Promise.all(keyed.map(dial)), keylessDials(waves[0])])
        const settledMs = Date.now() - started
        // The keyed connections that got in ask for the node's Status, as a new member would.
        const connected = keyed.filter((_, i) => keyedResults[i] === 'connected')
        const statuses = await Promise.all(connected.map(async node => await requestStatus(node, betaId).then(() => 'answered', (err: any) => `failed (${err?.name})`)))
        // Wave 2: keyless dialers alone, fewer than the pending-handshake cap, so each reaches the key check.
        const aloneStarted = Date.now()
        const alone = await keylessDials(waves[1])
        return { keyedResults, mixed, statuses, settledMs, alone, aloneMs: Date.now() - aloneStarted }
      })
      const { keyedResults, mixed, statuses, settledMs, alone, aloneMs } = result
      console.log(`# flood: ${CONNECTIONS} keyed connections from ${CONNECTIONS} hosts: ${show(tally(keyedResults))}; Status on those connected: ${show(tally(statuses))}; the burst settled within ${settledMs} ms (pending-handshake cap ${MAX_INCOMING_PENDING_CONNECTIONS})`)
      console.log(`# flood: keyless dialers in the burst: ${describeKeyless(mixed)}`)
      console.log(`# flood: keyless dialers alone: ${describeKeyless(alone)}; settled within ${aloneMs} ms`)
      assert.ok(WRONG_KEY + NO_KEY + RAW_TCP <= MAX_INCOMING_PENDING_CONNECTIONS, 'the keyless wave fits the pending-handshake cap')
      assert.ok(settledMs <= boundMs + SLACK_MS, `the burst took ${settledMs} ms`)
      assert.ok(aloneMs <= boundMs + SLACK_MS, `the keyless wave took ${aloneMs} ms`)
      for (const [what, r] of [['in the burst', mixed], ['alone', alone]] as const) {
        assert.deepEqual(r.wrong.filter(x => x === 'connected'), [], `a dialer with another key got in (${what})`)
        assert.deepEqual(r.open.filter(x => x === 'connected'), [], `a dialer without a key got in (${what})`)
        assert.deepEqual(r.raw.filter(x => x.label !== 'closed by the node'), [], `a raw TCP connection was left open (${what})`)
      }
      const connected = keyedResults.filter(r => r === 'connected').length
      assert.ok(connected > 0, 'not one keyed connection got in')
      assert.deepEqual(statuses.filter(s => s !== 'answered'), [], 'a keyed connection that got in was not served')
    } finally {
      await stopAll([...keyed, ...waves.flatMap(wave => [...wave.wrong, ...wave.open])])
    }
  })

  test('after the floods the worker takes a new keyed connection and answers it', async () => {
    await delay(1_100)
    const node = await flooder(psk)
    try {
      const { status } = await requestStatus(node, betaAddr)
      assert.equal(status.name, 'beta')
      assert.equal(status.running, 0, 'the legitimate tasks have all ended')
    } finally {
      await node.stop()
    }
  })
})
