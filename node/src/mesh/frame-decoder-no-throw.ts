import { LengthPrefixedDecoder } from '@libp2p/utils'

/**
 * libp2p's length-prefixed decoder (noise reads every message of a connection with it) finds
 * out that its buffer holds no further frame by calling its length decoder, which throws a
 * new RangeError when the bytes run out, and catching it. That happens once for every chunk a
 * socket delivers, since a chunk usually ends at a frame's end, and each new error captures a
 * stack trace: a few percent of a busy mesh's CPU went there. Here an empty buffer throws one
 * RangeError made once, which the decoder catches the same way and costs no stack trace; a
 * buffer with bytes in it is decoded as before. Patched once, on the decoder's class, on its
 * first use by each decoder: the decoder's options are noise's own, with no hook for it.
 */
interface DecoderFields {
  lengthDecoder: (data: { byteLength: number }) => number
}

const NO_FRAME_YET = new RangeError('no length prefix in the buffer yet')
const PATCHED = Symbol.for('cloudai.frame-decoder-no-throw')
const WRAPPED = Symbol('length decoder wrapped')

const prototype = LengthPrefixedDecoder.prototype as unknown as { decode: (this: DecoderFields, buf: unknown) => Generator<unknown>, [PATCHED]?: true }

if (prototype[PATCHED] !== true) {
  const decode = prototype.decode
  prototype.decode = function (this: DecoderFields & { [WRAPPED]?: true }, buf: unknown) {
    if (this[WRAPPED] !== true) {
      const lengthOf = this.lengthDecoder
      this.lengthDecoder = data => {
        if (data.byteLength === 0) throw NO_FRAME_YET
        return lengthOf(data)
      }
      this[WRAPPED] = true
    }
    return decode.call(this, buf)
  }
  prototype[PATCHED] = true
}
