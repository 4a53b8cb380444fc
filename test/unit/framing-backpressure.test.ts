/**
 * A writer's backpressure on a stream whose window is shut while the connection drains
 * (docs/architecture.md, "Protocols"): the muxer tells every stream when the connection
 * drained, whatever each stream's own window, and a writer that sent again at each such
 * 'drain' filled the stream's write buffer until the muxer reset it (a 1 GiB input whose
 * worker was slow to take it failed so under load). A stand-in stream, socket-free.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { FramedStream, WRITE_BUFFER_HIGH_WATER_BYTES } from '../../node/src/protocol/framing.ts'

const FRAME_BYTES = 256 * 1024

/** Just what FramedStream writes through: a buffer that goes out only while the window is open. */
class ShutWindowStream extends EventTarget {
  readonly buffered = new Uint8ArrayList()
  windowOpen = false
  writableNeedsDrain = false
  readonly status = 'open'
  readonly readStatus = 'readable'
  readonly remoteWriteStatus = 'writable'
  readonly readBufferLength = 0
  largestBuffer = 0

  get writeBufferLength (): number {
    return this.buffered.byteLength
  }

  send (data: Uint8Array | Uint8ArrayList): boolean {
    this.buffered.append(data)
    this.largestBuffer = Math.max(this.largestBuffer, this.buffered.byteLength)
    if (this.windowOpen) this.buffered.consume(this.buffered.byteLength)
    this.writableNeedsDrain = this.buffered.byteLength > 0
    return !this.writableNeedsDrain
  }

  /** The connection drained (another stream's data went out): every stream hears it. */
  connectionDrained (): void {
    this.writableNeedsDrain = false
    this.dispatchEvent(new Event('drain'))
    // As libp2p's stream does next: it tries its buffer again, and the window is still shut.
    queueMicrotask(() => { this.writableNeedsDrain = this.buffered.byteLength > 0 })
  }

  /** The reader took the data: the window opens and the buffer goes out. */
  openWindow (): void {
    this.windowOpen = true
    this.buffered.consume(this.buffered.byteLength)
    this.writableNeedsDrain = false
    this.dispatchEvent(new Event('drain'))
  }

  pause (): void {}
  resume (): void {}
}

async function turns (count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise(resolve => { setImmediate(resolve) })
}

for (const coalesce of [false, true]) {
  test(`a writer waits while the stream's window is shut, however often the connection drains (${coalesce ? 'shared, coalescing' : 'one'} writer)`, async () => {
    const stream = new ShutWindowStream()
    const framed = new FramedStream(stream as unknown as Stream, 2 * FRAME_BYTES, 0, coalesce)
    let written = 0
    const writer = (async () => {
      for (let i = 0; i < 32; i++) {
        await framed.writeFrame(new Uint8Array(FRAME_BYTES), AbortSignal.timeout(30_000))
        written++
      }
    })()
    for (let i = 0; i < 64; i++) {
      await turns(2)
      stream.connectionDrained()
    }
    await turns(2)
    assert.ok(stream.largestBuffer <= WRITE_BUFFER_HIGH_WATER_BYTES + 2 * FRAME_BYTES,
      `the write buffer grew to ${stream.largestBuffer} bytes while the window was shut`)
    assert.ok(written < 32, 'the writer waits for room')

    stream.openWindow()
    await writer
    assert.equal(written, 32, 'every frame went once the window opened')
    assert.equal(stream.writeBufferLength, 0)
  })
}
