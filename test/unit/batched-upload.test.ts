import assert from 'node:assert/strict'
import { once } from 'node:events'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { BatchedUpload } from '../../node/src/images/batched-upload.ts'

async function * pieces (count: number, size: number, produced: { count: number }): AsyncGenerator<Uint8Array> {
  for (let index = 0; index < count; index++) {
    produced.count++
    // Each piece a turn apart, as network messages arrive.
    await new Promise(resolve => setImmediate(resolve))
    yield Buffer.alloc(size, index % 251)
  }
}

/**
 * A request's body as an HTTP request takes it: corked from the first write of a turn to
 * the end of it, then written with one system call (`writev`), whose sizes are recorded.
 * `slow`: each system call completes only after a pause (an engine that reads slowly).
 */
function requestLike (writes: number[], received: Buffer[], slow = false): Writable {
  const sink = new Writable({
    writev (chunks, callback) {
      writes.push(chunks.reduce((sum, { chunk }) => sum + (chunk as Buffer).byteLength, 0))
      for (const { chunk } of chunks) received.push(chunk as Buffer)
      if (slow) setTimeout(callback, 5)
      else callback()
    }
  })
  const write = sink.write.bind(sink)
  sink.write = ((chunk: Buffer, ...rest: any[]) => {
    if (sink.writableCorked === 0) { sink.cork(); process.nextTick(() => { sink.uncork() }) }
    return write(chunk, ...rest)
  }) as typeof sink.write
  return sink
}

test('chunks that trickle in are written in batches, one system call each, every byte in order, none copied together', async () => {
  const writes: number[] = []
  const received: Buffer[] = []
  const sink = requestLike(writes, received)
  new BatchedUpload(pieces(40, 64 * 1024, { count: 0 }), 256 * 1024).pipe(sink)
  await once(sink, 'finish')
  assert.equal(received.length, 40)
  received.forEach((chunk, index) => { assert.equal(chunk.byteLength, 64 * 1024); assert.equal(chunk[0], index % 251) })
  // 40 pieces of 64 KiB in batches of 256 KiB: 10 writes, not 40.
  assert.deepEqual(writes, Array(10).fill(256 * 1024))
})

test('a destination that is slow to drain holds the source back: at most a batch or two ahead of it', async () => {
  const produced = { count: 0 }
  const writes: number[] = []
  const sink = requestLike(writes, [], true)
  const body = new BatchedUpload(pieces(1000, 64 * 1024, produced), 256 * 1024)
  body.pipe(sink)
  await new Promise(resolve => setTimeout(resolve, 100))
  // Taken by the destination so far, plus a batch waiting in it and one being gathered.
  const taken = writes.length * 4
  assert.ok(produced.count <= taken + 8, `${produced.count} pieces produced, ${taken} taken`)
  assert.ok(produced.count < 1000)
  body.destroy()
})

test('the source\'s failure is the stream\'s error; a stream destroyed early stops the source', async () => {
  async function * failing (): AsyncGenerator<Uint8Array> {
    yield Buffer.alloc(10)
    throw new Error('the archive was refused')
  }
  const failed = new BatchedUpload(failing())
  const error = once(failed, 'error')
  failed.pipe(new Writable({ write (_chunk, _encoding, callback) { callback() } }))
  assert.match(String((await error)[0]), /the archive was refused/)

  let stopped = false
  async function * endless (): AsyncGenerator<Uint8Array> {
    try {
      while (true) {
        await new Promise(resolve => setImmediate(resolve))
        yield Buffer.alloc(1024)
      }
    } finally {
      stopped = true
    }
  }
  const body = new BatchedUpload(endless(), 4096)
  body.pipe(new Writable({ write (_chunk, _encoding, callback) { callback() } }))
  await new Promise(resolve => setTimeout(resolve, 20))
  body.destroy()
  await new Promise(resolve => setTimeout(resolve, 50))
  assert.equal(stopped, true, 'the source was stopped')
})
