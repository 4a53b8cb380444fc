import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BATCH_BYTES, batched, PASS_THROUGH_BYTES } from '../../node/src/files/batched.ts'

async function * from (sizes: number[]): AsyncGenerator<Uint8Array> {
  let next = 0
  for (const size of sizes) {
    const chunk = new Uint8Array(size)
    for (let i = 0; i < size; i++) chunk[i] = next++ % 251
    yield chunk
  }
}

async function all (source: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = []
  for await (const chunk of source) chunks.push(chunk)
  return chunks
}

async function run (sizes: number[]): Promise<{ out: Uint8Array[], same: boolean }> {
  const out: Uint8Array[] = []
  for await (const chunk of batched(from(sizes))) out.push(chunk)
  const expected = Buffer.concat(await all(from(sizes)))
  return { out, same: Buffer.concat(out).equals(expected) }
}

test('small chunks are gathered into batches; large ones pass as they are, in order, the same objects', async () => {
  const tiny = Array.from({ length: 1000 }, () => 512)
  const small = await run(tiny)
  assert.ok(small.same)
  assert.deepEqual(small.out.map(chunk => chunk.byteLength), [BATCH_BYTES, 1000 * 512 - BATCH_BYTES])
  // A large chunk after small ones: the held ones go first, then it, uncopied.
  const source = [...await all(from([512, 512])), new Uint8Array(PASS_THROUGH_BYTES), ...await all(from([100]))]
  const out: Uint8Array[] = []
  for await (const chunk of batched((async function * () { yield * source })())) out.push(chunk)
  assert.deepEqual(out.map(chunk => chunk.byteLength), [1024, PASS_THROUGH_BYTES, 100])
  assert.equal(out[1], source[2])
  const mixed = await run([65_519, 12, 65_519, 1 << 20, 3])
  assert.ok(mixed.same)
  assert.deepEqual(mixed.out.map(chunk => chunk.byteLength), [65_519, 12, 65_519, 1 << 20, 3])
})
