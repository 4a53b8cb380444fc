import assert from 'node:assert/strict'
import { PassThrough, Readable } from 'node:stream'
import { test } from 'node:test'
import { UnexpectedEndError } from '../../node/src/errors.ts'
import { readableChunks } from '../../node/src/protocol/readable-chunks.ts'

test('a stream\'s chunks come as they were pushed, in order, none copied together', async () => {
  const pushed = [Buffer.from('a'.repeat(1000)), Buffer.from('b'.repeat(70_000)), Buffer.from('c')]
  const stream = new PassThrough()
  for (const chunk of pushed) stream.write(chunk)
  stream.end()
  const got: Uint8Array[] = []
  for await (const chunk of readableChunks(stream)) got.push(chunk)
  assert.equal(got.length, 3)
  got.forEach((chunk, index) => { assert.ok(Buffer.from(chunk).equals(pushed[index])) })
})

test('a reader behind its source pauses it at the high-water mark, and resumes it', async () => {
  let produced = 0
  const stream = new Readable({ read () { produced++; this.push(produced > 64 ? null : Buffer.alloc(16 * 1024, produced)) } })
  const chunks = readableChunks(stream, 64 * 1024)
  const first = await chunks.next()
  assert.equal(first.done, false)
  await new Promise(resolve => setTimeout(resolve, 50))
  // Not the whole stream: it waits, paused, with about the high-water mark read.
  assert.ok(produced < 16, `${produced} chunks produced while the reader held the first`)
  let total = first.value!.byteLength
  for await (const chunk of chunks) total += chunk.byteLength
  assert.equal(total, 64 * 16 * 1024)
})

test('a stream that closes before its end, or fails, is an error; a reader that stops destroys the stream', async () => {
  const cut = new PassThrough()
  cut.write(Buffer.from('part'))
  setImmediate(() => { cut.destroy() })
  await assert.rejects(async () => { for await (const chunk of readableChunks(cut)) void chunk }, (err: unknown) => err instanceof UnexpectedEndError)

  const failing = new PassThrough()
  setImmediate(() => { failing.destroy(new Error('the engine failed')) })
  await assert.rejects(async () => { for await (const chunk of readableChunks(failing)) void chunk }, /the engine failed/)

  const endless = new Readable({ read () { this.push(Buffer.alloc(1024)) } })
  for await (const chunk of readableChunks(endless)) { void chunk; break }
  assert.equal(endless.destroyed, true)
})
