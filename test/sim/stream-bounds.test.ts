import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { NodeRequest, NodeResponse } from '../../protocols/node.ts'
import { MasterMessage } from '../../protocols/task.ts'
import { encodeStatus } from '../../node/src/protocol/node-messages.ts'
import { NODE_PROTOCOL, requestStatus } from '../../node/src/protocol/node-protocol.ts'
import { TASKS_PROTOCOL } from '../../node/src/protocol/tasks-protocol.ts'
import { settledMemory, wireSpec } from '../helpers/fuzz.ts'
import { startBareMesh, startOpenNode, type TestMesh, type TestNode } from '../helpers/libp2p-pair.ts'

/**
 * Per-stream memory. A member that got its answer (a Status, a refused
 * Submit) and keeps writing on the same stream is reset within a few MiB, on both protocols
 * and in both roles, and the node's memory stays flat. Real libp2p (TCP, Noise, Yamux) on
 * loopback; every flood is bounded in bytes and in time.
 */

const MiB = 1024 ** 2
/** The most one flood writes: far past any buffer the node may keep, and quick on loopback. */
const FLOOD_MAX_BYTES = 96 * MiB
/** The longest one flood runs, whatever it has written by then. */
const FLOOD_MAX_MS = 20_000
/** "Reset within a few MiB": the muxer's window and read buffer, with room to spare. */
const RESET_WITHIN_BYTES = 8 * MiB
/** RSS is given back lazily by V8 and the allocator: flat means well under one flood. */
const FLAT_RSS_BYTES = 24 * MiB
const FLOOD_CHUNK = new Uint8Array(64 * 1024)

let target: TestNode
let rogue: TestMesh

before(async () => {
  target = await startOpenNode('stream-bounds')
  rogue = await startBareMesh()
})

after(async () => {
  await rogue?.close()
  await target?.close()
})

/** Resolves when the first bytes of the answer arrive. */
async function answered (stream: Stream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('no answer')) }, 5_000)
    stream.addEventListener('message', () => { clearTimeout(timer); resolve() }, { once: true })
  })
}

/** Resolves when the stream's write queue is empty, or it closes, or `deadline` passes. */
async function sent (stream: Stream, deadline: AbortSignal): Promise<void> {
  if (stream.writeBufferLength === 0) return
  await new Promise<void>(resolve => {
    const done = (): void => {
      stream.removeEventListener('idle', done)
      stream.removeEventListener('close', done)
      deadline.removeEventListener('abort', done)
      resolve()
    }
    stream.addEventListener('idle', done)
    stream.addEventListener('close', done)
    deadline.addEventListener('abort', done)
  })
}

/** Keep writing on `stream` until it is reset, or the byte or time bound is reached. */
async function flood (stream: Stream): Promise<{ writtenBytes: number, reset: boolean }> {
  const deadline = AbortSignal.timeout(FLOOD_MAX_MS)
  let writtenBytes = 0
  try {
    while (writtenBytes < FLOOD_MAX_BYTES && !deadline.aborted && stream.status === 'open' && stream.writeStatus === 'writable') {
      // Wait for the whole write queue to go out ('drain' comes with any window update), so
      // this end's own write buffer never fills: only the node may end the flood.
      if (!stream.send(FLOOD_CHUNK)) await sent(stream, deadline)
      writtenBytes += FLOOD_CHUNK.byteLength
    }
  } catch {
    // The stream was reset as we wrote: what we want.
  }
  // 'reset': the node reset it ('aborted' would be this end giving up, e.g. its own write buffer full).
  const reset = stream.status === 'reset'
  stream.abort(new Error('flood over'))
  return { writtenBytes, reset }
}

async function assertResetAndFlat (what: string, run: () => Promise<{ writtenBytes: number, reset: boolean }>): Promise<void> {
  const before = settledMemory().rss
  const { writtenBytes, reset } = await run()
  const rssGrowth = settledMemory().rss - before
  console.log(`${what}: wrote ${(writtenBytes / MiB).toFixed(1)} MiB after the answer, ${reset ? 'reset' : 'never reset'}; RSS grew ${(rssGrowth / MiB).toFixed(1)} MiB`)
  assert.ok(reset, `${what}: the stream was never reset (${(writtenBytes / MiB).toFixed(1)} MiB written)`)
  assert.ok(writtenBytes < RESET_WITHIN_BYTES, `${what}: reset only after ${(writtenBytes / MiB).toFixed(1)} MiB`)
  assert.ok(rssGrowth < FLAT_RSS_BYTES, `${what}: RSS grew by ${(rssGrowth / MiB).toFixed(1)} MiB`)
}

test('a member that keeps writing after its Status answer is reset within a few MiB (node protocol, serving)', async () => {
  await assertResetAndFlat('node protocol, serving a Status', async () => {
    const stream = await rogue.libp2p.dialProtocol(target.addr, NODE_PROTOCOL)
    const answer = answered(stream)
    stream.send(lp.encode.single(NodeRequest.encode({ status: {} })))
    await answer
    return await flood(stream)
  })
})

test('a member that keeps writing after its Submit was refused is reset within a few MiB (task stream, serving)', async () => {
  await assertResetAndFlat('task stream, refusing a Submit', async () => {
    const stream = await rogue.libp2p.dialProtocol(target.addr, TASKS_PROTOCOL)
    const answer = answered(stream)
    const invalid = wireSpec({ resources: { cpu: 0, memoryBytes: 16 * MiB, storageBytes: MiB, gpus: 0 } })
    stream.send(lp.encode.single(MasterMessage.encode({ submit: { spec: invalid } })))
    await answer
    return await flood(stream)
  })
})

test('a peer that keeps writing after answering the node\'s Status request is reset within a few MiB (node protocol, asking)', async () => {
  const status = (await requestStatus(rogue.libp2p, target.addr)).status
  let floodOver: (outcome: { writtenBytes: number, reset: boolean }) => void = () => {}
  const flooded = new Promise<{ writtenBytes: number, reset: boolean }>(resolve => { floodOver = resolve })
  await rogue.libp2p.handle(NODE_PROTOCOL, async stream => {
    const request = answered(stream)
    await request
    stream.send(lp.encode.single(NodeResponse.encode({ status: encodeStatus(status) })))
    floodOver(await flood(stream))
  })
  try {
    await assertResetAndFlat('node protocol, asking for a Status', async () => {
      await requestStatus(target.node.libp2p, rogue.addr)
      return await flooded
    })
  } finally {
    await rogue.libp2p.unhandle(NODE_PROTOCOL)
  }
})
