import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import * as lp from 'it-length-prefixed'
import { Uint8ArrayList } from 'uint8arraylist'
import { FilesChunk } from '../../protocols/files.ts'
import { ProtocolError } from '../../node/src/errors.ts'
import { decodeChunkFrame, encodeChunkFrame } from '../../node/src/protocol/files-chunk-frames.ts'

/** The frame as the generated codec writes it, prefix included. */
function generated (data: Uint8Array<ArrayBuffer>, end: boolean): Uint8Array {
  return lp.encode.single(FilesChunk.encode({ data, end })).subarray()
}

/** A frame's body (no prefix) split into pieces, as frames arrive from the muxer. */
function inPieces (body: Uint8Array, size: number): Uint8ArrayList {
  const list = new Uint8ArrayList()
  for (let at = 0; at < body.byteLength; at += size) list.append(body.subarray(at, at + size))
  return list
}

function joined (parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts)
}

test('frames are byte for byte what the generated codec writes, for every size and both ends', () => {
  for (const size of [0, 1, 127, 128, 16_383, 16_384, 65_536, 256 * 1024]) {
    const data = randomBytes(size)
    for (const end of [false, true]) {
      assert.deepEqual(encodeChunkFrame(data, end).subarray(), generated(data, end), `size ${size}, end ${end}`)
    }
  }
})

test('a frame that arrived in pieces decodes to the same bytes, passed by reference', () => {
  const data = randomBytes(300_000)
  const body = FilesChunk.encode({ data, end: true })
  const decoded = decodeChunkFrame(inPieces(body, 65_519))
  assert.equal(decoded.end, true)
  assert.equal(decoded.bytes, data.byteLength)
  assert.ok(decoded.parts.length > 1)
  assert.deepEqual(joined(decoded.parts), data)
  // No copy: each part is a view of a piece that arrived.
  assert.ok(decoded.parts.every(part => part.buffer === body.buffer))
})

test('what a protobuf writer may add is read as protobuf reads it: unknown fields skipped, the last data wins', () => {
  const first = randomBytes(10)
  const last = randomBytes(20)
  const body = Buffer.concat([
    Buffer.from([(9 << 3) | 0, 0x96, 0x01]), // field 9, varint
    Buffer.from([(1 << 3) | 2, first.byteLength]), first,
    Buffer.from([(10 << 3) | 1]), Buffer.alloc(8), // fixed64
    Buffer.from([(11 << 3) | 5]), Buffer.alloc(4), // fixed32
    Buffer.from([(12 << 3) | 2, 3, 1, 2, 3]), // bytes
    Buffer.from([(1 << 3) | 2, last.byteLength]), last,
    Buffer.from([(2 << 3) | 0, 1])
  ])
  const decoded = decodeChunkFrame(new Uint8ArrayList(body))
  assert.deepEqual(joined(decoded.parts), last)
  assert.equal(decoded.end, true)
  assert.deepEqual(Buffer.from(FilesChunk.decode(body).data), last)
  const empty = decodeChunkFrame(new Uint8ArrayList())
  assert.deepEqual(empty, { parts: [], bytes: 0, end: false })
})

test('a hostile frame is a ProtocolError, never a read past its end', () => {
  const hostile: Array<[string, Uint8Array]> = [
    ['data longer than the frame', Uint8Array.from([(1 << 3) | 2, 0x80, 0x80, 0x04, 1, 2, 3])],
    ['cut inside a length', Uint8Array.from([(1 << 3) | 2, 0x80])],
    ['cut inside a tag', Uint8Array.from([0x80])],
    ['a number past five bytes', Uint8Array.from([(1 << 3) | 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['field 0', Uint8Array.from([0, 1])],
    ['wire type 3 (group start)', Uint8Array.from([(5 << 3) | 3])],
    ['wire type 7', Uint8Array.from([(5 << 3) | 7])],
    ['a fixed64 cut short', Uint8Array.from([(5 << 3) | 1, 1, 2])],
    ['an unknown bytes field past the end', Uint8Array.from([(5 << 3) | 2, 10, 1])]
  ]
  for (const [what, body] of hostile) {
    assert.throws(() => decodeChunkFrame(inPieces(body, 1)), ProtocolError, what)
  }
})
