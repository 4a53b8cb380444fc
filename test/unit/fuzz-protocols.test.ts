import type { PeerId, Stream } from '@libp2p/interface'
import fc from 'fast-check'
import * as lp from 'it-length-prefixed'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { NodeRequest, NodeResponse } from '../../protocols/node.ts'
import { MasterMessage, TaskEvent as TaskEventCodec } from '../../protocols/task.ts'
import type { MessageCodec } from '../../node/src/protocol/framing.ts'
import { MAX_NODE_FRAME_BYTES, NODE_PROTOCOL, NODE_REQUEST_TIMEOUT_MS, requestStatus } from '../../node/src/protocol/node-protocol.ts'
import { MAX_EVENT_FRAME_BYTES } from '../../node/src/protocol/task-protocol.ts'
import { IDLE_TIMEOUT_MS, TASKS_PROTOCOL } from '../../node/src/protocol/tasks-protocol.ts'
import { waitFor } from '../helpers/env.ts'
import { FLAT_HEAP_BYTES, type Mutation, count, describeInput, mutate, mutation, reportTried, settledMemory, startFuzzWorker, wireSpec } from '../helpers/fuzz.ts'
import { readUntilEnd, type StreamOutcome } from '../helpers/streams.ts'
import { MemoryNetwork, type MemoryPeer } from '../helpers/memory-peers.ts'
import type { ProtocolWorker } from '../helpers/protocol-worker.ts'

/**
 * Hostile bytes hurt no one. Random, truncated and mutated frames go to a worker's
 * two protocols (served as a node serves them, over in-memory streams), on closed and on
 * half-open streams, and 2 MiB of 0xFF (an endless varint) to each. Each property is bounded
 * in runs and time; every input is counted, and the counts are printed at the end (the
 * issue's closing note asks for them).
 */

/** Slack over a protocol deadline for a loaded machine (the stream must still end by then). */
const SLACK_MS = 3_000
/** The deadlines of the worker that half-open streams wait out: short, so the file does not wait 10 s. */
const SHORT_DEADLINE_MS = 1_000
/** The endless-varint regression: this much 0xFF on one stream. */
const ENDLESS_BYTES = 2 * 1024 * 1024
/** …is refused this quickly. */
const ENDLESS_REFUSED_MS = 500
/** …this many times in a row, with memory flat across all of them. */
const ENDLESS_ROUNDS = 8
/** RSS is not given back eagerly by V8 or the allocator, so it gets a little more room. */
const FLAT_RSS_BYTES = 16 * 1024 * 1024

const network = new MemoryNetwork()
/** Serves with production's deadlines: what must be refused without waiting for one. */
let target: ProtocolWorker
/** Serves with short deadlines: what only a deadline ends. */
let hasty: ProtocolWorker
let rogue: MemoryPeer
let observer: MemoryPeer

before(async () => {
  target = await startFuzzWorker(network)
  hasty = await startFuzzWorker(network, { tasksTimeouts: { idleMs: SHORT_DEADLINE_MS }, requestTimeoutMs: SHORT_DEADLINE_MS })
  rogue = await network.peer()
  observer = await network.peer()
})

after(async () => {
  reportTried()
  await hasty?.close()
  await target?.close()
})

// ---------------------------------------------------------------------------------------
// Hostile inputs: valid frames, then mutated.

/** A hostile input: mutated valid frames, or plain random bytes. */
interface Hostile {
  base: number
  mutations: Mutation[]
  random?: Uint8Array
  /** Close our write side after sending (else the node must end the stream by its deadline). */
  closeWrite: boolean
}

function hostile (baseCount: number, closeWrite: fc.Arbitrary<boolean>): fc.Arbitrary<Hostile> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ base: fc.nat({ max: baseCount - 1 }), mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }), closeWrite }) },
    { weight: 1, arbitrary: fc.record({ base: fc.constant(0), mutations: fc.constant<Mutation[]>([]), random: fc.uint8Array({ maxLength: 512 }), closeWrite }) }
  )
}

function frameOf<T> (codec: MessageCodec<T>, message: Partial<T>): Uint8Array {
  return lp.encode.single(codec.encode(message)).subarray()
}

/** For the node-protocol task ids. */
let ids = 0

/** Valid node-protocol frames (a fresh task id for each, so nothing collides). */
function nodeBases (taskId: string): Uint8Array[] {
  return [
    frameOf(NodeRequest, { status: {} }),
    frameOf(NodeRequest, { attach: { taskId, fromSeq: 1 } }),
    frameOf(NodeRequest, { cancel: { taskId } }),
    frameOf(NodeRequest, {})
  ]
}

/** Valid task-protocol frames and frame sequences: Submit, Submit + Ack + Cancel, Ack, Cancel. */
/** What a master sends on a task stream: Submits (one task each, short), and Ack, Cancel and Detach naming them. */
function taskStreamBases (): Uint8Array[] {
  const spec = wireSpec()
  return [
    frameOf(MasterMessage, { submit: { spec } }),
    Uint8Array.from([...frameOf(MasterMessage, { submit: { spec } }), ...frameOf(MasterMessage, { taskId: spec.id, ack: { seq: 2 } }), ...frameOf(MasterMessage, { taskId: spec.id, cancel: {} })]),
    frameOf(MasterMessage, { submit: { spec: wireSpec({ command: ['out:x', 'err:y', 'exit:3'], env: new Map(Array.from({ length: 20 }, (_, i) => [`V${i}`, 'x'.repeat(i)])) }) } }),
    frameOf(MasterMessage, { taskId: spec.id, ack: { seq: 1 } }),
    frameOf(MasterMessage, { taskId: spec.id, cancel: {} }),
    Uint8Array.from([...frameOf(MasterMessage, { submit: { spec } }), ...frameOf(MasterMessage, { taskId: spec.id, detach: true })])
  ]
}

function inputBytes (input: Hostile, bases: Uint8Array[], maxFrameBytes: number): Uint8Array {
  return input.random ?? mutate(bases[input.base], input.mutations, maxFrameBytes)
}

async function openStream (protocol: string, to: PeerId = target.peer.peerId): Promise<Stream> {
  return await rogue.dialProtocol(to, protocol, { signal: AbortSignal.timeout(NODE_REQUEST_TIMEOUT_MS + SLACK_MS) })
}

/**
 * Send `bytes`, maybe close our side, and read until the node ends the stream (bounded, from
 * before the first byte is sent). Our side is reset afterwards, whatever happened.
 */
async function exchange (protocol: string, bytes: Uint8Array, closeWrite: boolean, boundMs: number, to?: PeerId): Promise<StreamOutcome> {
  const stream = await openStream(protocol, to)
  const reading = readUntilEnd(stream, boundMs)
  try {
    if (bytes.length > 0 && !stream.send(bytes)) await stream.onDrain({ signal: AbortSignal.timeout(boundMs) })
    if (closeWrite) await stream.close({ signal: AbortSignal.timeout(boundMs) })
  } catch {
    // The node may reset the stream while we are still sending: that is an answer too.
  }
  const outcome = await reading
  if (stream.status === 'open') stream.abort(new Error('exchange over'))
  return outcome
}

async function assertNodeStillAnswers (node: ProtocolWorker = target): Promise<void> {
  const { status } = await requestStatus(observer, node.peer.peerId)
  assert.equal(status.name, 'fuzz-target')
}

/** Whatever the node sent back is a sequence of well-formed frames of `codec`. */
function answeredFrames<T> (outcome: StreamOutcome, codec: MessageCodec<T>, maxFrameBytes: number): T[] {
  return [...lp.decode([outcome.bytes], { maxDataLength: maxFrameBytes })].map(frame => codec.decode(frame))
}

// ---------------------------------------------------------------------------------------

describe('node protocol /cloudai/node/1.0.0', () => {
  const bound = NODE_REQUEST_TIMEOUT_MS + SLACK_MS

  test('mutated and random requests (write side closed): every stream ends, answers are well-formed, the node answers Status after', { timeout: 30_000 }, async () => {
    const failures: string[] = []
    await fc.assert(fc.asyncProperty(fc.array(hostile(4, fc.constant(true)), { minLength: 16, maxLength: 32 }), async inputs => {
      const bases = nodeBases(`fuzz-node-${++ids}`)
      const outcomes = await Promise.all(inputs.map(async input => {
        const bytes = inputBytes(input, bases, MAX_NODE_FRAME_BYTES)
        return { bytes, outcome: await exchange(NODE_PROTOCOL, bytes, true, bound) }
      }))
      count('node protocol, mutated/random (closed)', inputs.length)
      for (const { bytes, outcome } of outcomes) {
        if (outcome.end === 'timeout') failures.push(`stream left open past ${bound} ms: ${describeInput(bytes)}`)
        // A half-read request on a closed stream is refused at once, not at the deadline.
        else if (outcome.elapsedMs > NODE_REQUEST_TIMEOUT_MS) failures.push(`took ${Math.round(outcome.elapsedMs)} ms with our side closed: ${describeInput(bytes)}`)
        try {
          const answers = answeredFrames(outcome, NodeResponse, MAX_NODE_FRAME_BYTES)
          if (answers.length > 1) failures.push(`${answers.length} answers to one request: ${describeInput(bytes)}`)
        } catch (err: any) {
          failures.push(`the node's answer is not a NodeResponse frame (${err?.name}): ${describeInput(bytes)}`)
        }
      }
      await assertNodeStillAnswers()
      return failures.length === 0
    }), { numRuns: 20 }).catch((err: Error) => { throw new Error(`${failures.slice(0, 5).join('\n')}\n${err.message}`) })
  })

  test('mutated requests on half-open streams (we never close): the node ends each one by its deadline', { timeout: 30_000 }, async () => {
    const failures: string[] = []
    const shortBound = SHORT_DEADLINE_MS + SLACK_MS
    // One wave of streams at once: those that wait for the deadline wait side by side.
    await fc.assert(fc.asyncProperty(fc.array(hostile(4, fc.constant(false)), { minLength: 100, maxLength: 100 }), async inputs => {
      const bases = nodeBases(`fuzz-node-${++ids}`)
      const outcomes = await Promise.all(inputs.map(async input => {
        const bytes = inputBytes(input, bases, MAX_NODE_FRAME_BYTES)
        return { bytes, outcome: await exchange(NODE_PROTOCOL, bytes, false, shortBound, hasty.peer.peerId) }
      }))
      count('node protocol, mutated/random (half-open)', inputs.length)
      for (const { bytes, outcome } of outcomes) {
        if (outcome.end === 'timeout') failures.push(`stream left open past ${shortBound} ms: ${describeInput(bytes)}`)
      }
      await assertNodeStillAnswers(hasty)
      return failures.length === 0
    }), { numRuns: 2 }).catch((err: Error) => { throw new Error(`${failures.slice(0, 5).join('\n')}\n${err.message}`) })
  })
})

describe('task streams /cloudai/tasks/1.0.0', () => {
  const bound = IDLE_TIMEOUT_MS + SLACK_MS

  test('mutated and random Submit/Ack/Cancel/Detach frames, then the write side closed: every stream ends, answers are well-formed, the node answers after', { timeout: 40_000 }, async () => {
    const failures: string[] = []
    await fc.assert(fc.asyncProperty(fc.array(hostile(6, fc.constant(true)), { minLength: 16, maxLength: 32 }), async inputs => {
      const bases = taskStreamBases()
      const outcomes = await Promise.all(inputs.map(async input => {
        const bytes = inputBytes(input, bases, 1024 * 1024)
        // A master that closes a stream with tasks on it is gone (the worker resets); one without, closes it well.
        return { bytes, outcome: await exchange(TASKS_PROTOCOL, bytes, true, bound) }
      }))
      count('task streams, mutated/random (closed)', inputs.length)
      for (const { bytes, outcome } of outcomes) {
        if (outcome.end === 'timeout') {
          failures.push(`stream left open past ${bound} ms: ${describeInput(bytes)}`)
          continue
        }
        let frames
        try {
          frames = answeredFrames(outcome, TaskEventCodec, MAX_EVENT_FRAME_BYTES)
        } catch (err: any) {
          failures.push(`the node's answer is not TaskEvent frames (${err?.name}): ${describeInput(bytes)}`)
          continue
        }
        const coded = frames.filter(frame => frame.error != null)
        if (coded.some(frame => (frame.error?.code ?? '') === '')) failures.push(`an error without a code: ${describeInput(bytes)}`)
      }
      await assertNodeStillAnswers()
      return failures.length === 0
    }), { numRuns: 20 }).catch((err: Error) => { throw new Error(`${failures.slice(0, 5).join('\n')}\n${err.message}`) })
    assert.ok(await waitFor(() => target.worker.active().length === 0, 10_000), `${target.worker.active().length} hostile tasks still active`)
  })

  test('mutated frames on half-open streams: the node ends each one by the idle deadline once no task is on it', { timeout: 40_000 }, async () => {
    const failures: string[] = []
    const shortBound = SHORT_DEADLINE_MS + SLACK_MS
    await fc.assert(fc.asyncProperty(fc.array(hostile(6, fc.constant(false)), { minLength: 100, maxLength: 100 }), async inputs => {
      const bases = taskStreamBases()
      const outcomes = await Promise.all(inputs.map(async input => {
        const bytes = inputBytes(input, bases, 1024 * 1024)
        return { bytes, outcome: await exchange(TASKS_PROTOCOL, bytes, false, shortBound, hasty.peer.peerId) }
      }))
      count('task streams, mutated/random (half-open)', inputs.length)
      for (const { bytes, outcome } of outcomes) {
        if (outcome.end === 'timeout') failures.push(`stream left open past ${shortBound} ms: ${describeInput(bytes)}`)
      }
      await assertNodeStillAnswers(hasty)
      return failures.length === 0
    }), { numRuns: 1 }).catch((err: Error) => { throw new Error(`${failures.slice(0, 5).join('\n')}\n${err.message}`) })
  })
})

describe('the endless-varint regression', () => {
  for (const protocol of [NODE_PROTOCOL, TASKS_PROTOCOL]) {
    test(`${ENDLESS_ROUNDS} × 2 MiB of 0xFF on ${protocol}: each refused within ${ENDLESS_REFUSED_MS} ms, memory flat`, { timeout: 30_000 }, async () => {
      const flood = new Uint8Array(ENDLESS_BYTES).fill(0xff)
      // One round first, so that lazily made buffers and code paths are not counted as growth.
      await exchange(protocol, flood, false, 5_000)
      const before = settledMemory()
      const times: number[] = []
      for (let round = 0; round < ENDLESS_ROUNDS; round++) {
        const stream = await openStream(protocol)
        const started = performance.now()
        const reading = readUntilEnd(stream, 5_000)
        try {
          if (!stream.send(flood)) await stream.onDrain({ signal: AbortSignal.timeout(5_000) })
        } catch {
          // Reset by the node while sending: what we want.
        }
        const outcome = await reading
        times.push(performance.now() - started)
        count(`endless varint (2 MiB of 0xFF) on ${protocol}`)
        assert.notEqual(outcome.end, 'timeout', `round ${round}: the stream stayed open`)
        assert.equal(outcome.bytes.length, 0, `round ${round}: the node answered`)
      }
      const afterFlood = settledMemory()
      const heapGrowth = (afterFlood.heapUsed + afterFlood.arrayBuffers) - (before.heapUsed + before.arrayBuffers)
      const rssGrowth = afterFlood.rss - before.rss
      const mib = (n: number): string => `${(n / 2 ** 20).toFixed(2)} MiB`
      console.log(`${protocol}: refused in ${times.map(t => Math.round(t)).join(', ')} ms; heap+buffers ${mib(heapGrowth)}, RSS ${mib(rssGrowth)} over ${ENDLESS_ROUNDS} rounds`)
      assert.ok(Math.max(...times) < ENDLESS_REFUSED_MS, `refused only after ${times.map(t => Math.round(t)).join(', ')} ms`)
      assert.ok(heapGrowth < FLAT_HEAP_BYTES, `heap and buffers grew by ${mib(heapGrowth)}`)
      assert.ok(rssGrowth < FLAT_RSS_BYTES, `RSS grew by ${mib(rssGrowth)}`)
      await assertNodeStillAnswers()
    })
  }
})
