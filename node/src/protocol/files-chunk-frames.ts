import { Uint8ArrayList } from 'uint8arraylist'
import { ProtocolError } from '../errors.ts'

/**
 * `FilesChunk` frames (protocols/files.proto) encoded and decoded without copying their data.
 * The bytes on the wire are exactly what the generated codec writes (a length prefix, then
 * field 1 `data`, then field 2 `end` when set), and the decoder accepts whatever a protobuf
 * decoder would, but the data is passed by reference: the generated codec copies each chunk
 * once to encode it and once more to decode a frame that arrived in pieces (every frame
 * larger than a noise message does), and at hundreds of MiB/s those copies (and the
 * collections of the garbage they leave) cost more than the transfer itself.
 */

const WIRE_VARINT = 0
const WIRE_FIXED64 = 1
const WIRE_BYTES = 2
const WIRE_FIXED32 = 5
const DATA_TAG = (1 << 3) | WIRE_BYTES
const END_TAG = (2 << 3) | WIRE_VARINT
/** A varint that describes a length or a bool never needs more than this here (lengths stay far below 2^35). */
const MAX_VARINT_BYTES = 5

function varint (value: number): number[] {
  const bytes: number[] = []
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80)
    value = Math.floor(value / 128)
  }
  bytes.push(value)
  return bytes
}

/**
 * One length-prefixed FilesChunk frame (or ImageChunk: the same fields), `data` in it by
 * reference (it must not change until sent); a list's pieces stay pieces.
 */
export function encodeChunkFrame (data: Uint8Array | Uint8ArrayList, end: boolean): Uint8ArrayList {
  const fields = data.byteLength > 0 ? [DATA_TAG, ...varint(data.byteLength)] : []
  const trailer = end ? [END_TAG, 1] : []
  const messageBytes = fields.length + data.byteLength + trailer.length
  const frame = new Uint8ArrayList<ArrayBufferLike>(Uint8Array.from([...varint(messageBytes), ...fields]))
  if (data.byteLength > 0) frame.append(data)
  if (trailer.length > 0) frame.append(Uint8Array.from(trailer))
  return frame
}

export interface ChunkFrame {
  /** The chunk's data, in the pieces it arrived in (views of the frame, no copies). */
  parts: Uint8Array[]
  bytes: number
  end: boolean
}

/** A cursor over one frame's bytes, each read checked against the frame's end. */
class FrameReader {
  pos = 0
  private readonly frame: Uint8ArrayList

  constructor (frame: Uint8ArrayList) {
    this.frame = frame
  }

  get done (): boolean {
    return this.pos >= this.frame.byteLength
  }

  varint (): number {
    let value = 0
    for (let index = 0; index < MAX_VARINT_BYTES; index++) {
      if (this.pos >= this.frame.byteLength) throw new ProtocolError('undecodable message: a FilesChunk ends inside a number')
      const byte = this.frame.get(this.pos++)
      value += (byte & 0x7f) * 2 ** (7 * index)
      if ((byte & 0x80) === 0) return value
    }
    throw new ProtocolError('undecodable message: a FilesChunk holds a number too large for it')
  }

  skip (bytes: number): void {
    if (this.pos + bytes > this.frame.byteLength) throw new ProtocolError('undecodable message: a FilesChunk field runs past the end of its frame')
    this.pos += bytes
  }
}

/**
 * A FilesChunk from one frame (without its length prefix), as a protobuf decoder reads it:
 * fields in any order, the last `data` wins, unknown fields are skipped, and anything
 * malformed (a cut-off field, an unknown wire type) is a ProtocolError.
 */
export function decodeChunkFrame (frame: Uint8ArrayList): ChunkFrame {
  const reader = new FrameReader(frame)
  let data: { from: number, to: number } | undefined
  let end = false
  while (!reader.done) {
    const tag = reader.varint()
    const field = Math.floor(tag / 8)
    const wire = tag & 7
    if (field === 1 && wire === WIRE_BYTES) {
      const length = reader.varint()
      const from = reader.pos
      reader.skip(length)
      data = { from, to: reader.pos }
    } else if (field === 2 && wire === WIRE_VARINT) {
      end = reader.varint() !== 0
    } else if (field === 0) {
      throw new ProtocolError('undecodable message: a FilesChunk field numbered 0')
    } else if (wire === WIRE_VARINT) {
      reader.varint()
    } else if (wire === WIRE_BYTES) {
      reader.skip(reader.varint())
    } else if (wire === WIRE_FIXED64) {
      reader.skip(8)
    } else if (wire === WIRE_FIXED32) {
      reader.skip(4)
    } else {
      throw new ProtocolError(`undecodable message: a FilesChunk field of wire type ${wire}`)
    }
  }
  if (data === undefined || data.to === data.from) return { parts: [], bytes: 0, end }
  return { parts: [...frame.sublist(data.from, data.to)], bytes: data.to - data.from, end }
}
