import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface ImageRequest {
  taskId: string
  imageId: string
  maxBytes: number
  submitter: string
  grant: string
}

export namespace ImageRequest {
  let _codec: Codec<ImageRequest>

  export const codec = (): Codec<ImageRequest> => {
    if (_codec == null) {
      _codec = message<ImageRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(10)
          w.string(obj.taskId)
        }

        if ((obj.imageId != null && obj.imageId !== '')) {
          w.uint32(18)
          w.string(obj.imageId)
        }

        if ((obj.maxBytes != null && obj.maxBytes !== 0)) {
          w.uint32(80)
          w.uint64Number(obj.maxBytes)
        }

        if ((obj.submitter != null && obj.submitter !== '')) {
          w.uint32(90)
          w.string(obj.submitter)
        }

        if ((obj.grant != null && obj.grant !== '')) {
          w.uint32(98)
          w.string(obj.grant)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: '',
          imageId: '',
          maxBytes: 0,
          submitter: '',
          grant: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.taskId = reader.string()
              break
            }
            case 2: {
              obj.imageId = reader.string()
              break
            }
            case 10: {
              obj.maxBytes = reader.uint64Number()
              break
            }
            case 11: {
              obj.submitter = reader.string()
              break
            }
            case 12: {
              obj.grant = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.taskId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.imageId`,
                value: reader.string()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.maxBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.submitter`,
                value: reader.string()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.grant`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ImageRequestTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface ImageRequestImageIdFieldEvent {
    field: '$.imageId'
    value: string
  }

  export interface ImageRequestMaxBytesFieldEvent {
    field: '$.maxBytes'
    value: number
  }

  export interface ImageRequestSubmitterFieldEvent {
    field: '$.submitter'
    value: string
  }

  export interface ImageRequestGrantFieldEvent {
    field: '$.grant'
    value: string
  }

  export function encode (obj: Partial<ImageRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ImageRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageRequest>): ImageRequest {
    return decodeMessage(buf, ImageRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageRequest>): Generator<ImageRequestTaskIdFieldEvent | ImageRequestImageIdFieldEvent | ImageRequestMaxBytesFieldEvent | ImageRequestSubmitterFieldEvent | ImageRequestGrantFieldEvent> {
    return streamMessage(buf, ImageRequest.codec(), opts)
  }
}

export interface ImageOffer {
  diffIds: string[]
  sizeBytes: number
  layerSizes: number[]
}

export namespace ImageOffer {
  let _codec: Codec<ImageOffer>

  export const codec = (): Codec<ImageOffer> => {
    if (_codec == null) {
      _codec = message<ImageOffer>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.diffIds != null && obj.diffIds.length > 0) {
          for (const value of obj.diffIds) {
            w.uint32(10)
            w.string(value)
          }
        }

        if ((obj.sizeBytes != null && obj.sizeBytes !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.sizeBytes)
        }

        if (obj.layerSizes != null && obj.layerSizes.length > 0) {
          for (const value of obj.layerSizes) {
            w.uint32(80)
            w.uint64Number(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          diffIds: [],
          sizeBytes: 0,
          layerSizes: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.diffIds != null && obj.diffIds.length === opts.limits.diffIds) {
                throw new MaxLengthError('Decode error - repeated field "diffIds" had too many elements')
              }

              obj.diffIds.push(reader.string())
              break
            }
            case 2: {
              obj.sizeBytes = reader.uint64Number()
              break
            }
            case 10: {
              if (opts.limits?.layerSizes != null && obj.layerSizes.length === opts.limits.layerSizes) {
                throw new MaxLengthError('Decode error - repeated field "layerSizes" had too many elements')
              }

              obj.layerSizes.push(reader.uint64Number())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          diffIds: 0,
          layerSizes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.diffIds != null && obj.diffIds === opts.limits.diffIds) {
                throw new MaxLengthError('Streaming decode error - repeated field "diffIds" had too many elements')
              }

              yield {
                field: `${prefix}.diffIds[]`,
                index: obj.diffIds,
                value: reader.string()
              }

              obj.diffIds++

              break
            }
            case 2: {
              yield {
                field: `${prefix}.sizeBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 10: {
              if (opts.limits?.layerSizes != null && obj.layerSizes === opts.limits.layerSizes) {
                throw new MaxLengthError('Streaming decode error - repeated field "layerSizes" had too many elements')
              }

              yield {
                field: `${prefix}.layerSizes[]`,
                index: obj.layerSizes,
                value: reader.uint64Number()
              }

              obj.layerSizes++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ImageOfferDiffIdsFieldEvent {
    field: '$.diffIds[]'
    index: number
    value: string
  }

  export interface ImageOfferSizeBytesFieldEvent {
    field: '$.sizeBytes'
    value: number
  }

  export interface ImageOfferLayerSizesFieldEvent {
    field: '$.layerSizes[]'
    index: number
    value: number
  }

  export function encode (obj: Partial<ImageOffer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ImageOffer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageOffer>): ImageOffer {
    return decodeMessage(buf, ImageOffer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageOffer>): Generator<ImageOfferDiffIdsFieldEvent | ImageOfferSizeBytesFieldEvent | ImageOfferLayerSizesFieldEvent> {
    return streamMessage(buf, ImageOffer.codec(), opts)
  }
}

export interface ImageRefusal {
  code: string
  message: string
}

export namespace ImageRefusal {
  let _codec: Codec<ImageRefusal>

  export const codec = (): Codec<ImageRefusal> => {
    if (_codec == null) {
      _codec = message<ImageRefusal>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.code != null && obj.code !== '')) {
          w.uint32(10)
          w.string(obj.code)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(18)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: '',
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = reader.string()
              break
            }
            case 2: {
              obj.message = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ImageRefusalCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface ImageRefusalMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<ImageRefusal>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ImageRefusal.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageRefusal>): ImageRefusal {
    return decodeMessage(buf, ImageRefusal.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageRefusal>): Generator<ImageRefusalCodeFieldEvent | ImageRefusalMessageFieldEvent> {
    return streamMessage(buf, ImageRefusal.codec(), opts)
  }
}

export interface ImageReply {
  offer?: ImageOffer
  refusal?: ImageRefusal
}

export namespace ImageReply {
  let _codec: Codec<ImageReply>

  export const codec = (): Codec<ImageReply> => {
    if (_codec == null) {
      _codec = message<ImageReply>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.offer != null) {
          w.uint32(10)
          ImageOffer.codec().encode(obj.offer, w)
        }

        if (obj.refusal != null) {
          w.uint32(18)
          ImageRefusal.codec().encode(obj.refusal, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.offer = ImageOffer.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.offer
              })
              break
            }
            case 2: {
              obj.refusal = ImageRefusal.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.refusal
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * ImageOffer.codec().stream(reader, reader.uint32(), `${prefix}.offer`, {
                limits: opts.limits?.offer
              })

              break
            }
            case 2: {
              yield * ImageRefusal.codec().stream(reader, reader.uint32(), `${prefix}.refusal`, {
                limits: opts.limits?.refusal
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ImageReplyOfferDiffIdsFieldEvent {
    field: '$.offer.diffIds[]'
    index: number
    value: string
  }

  export interface ImageReplyOfferSizeBytesFieldEvent {
    field: '$.offer.sizeBytes'
    value: number
  }

  export interface ImageReplyOfferLayerSizesFieldEvent {
    field: '$.offer.layerSizes[]'
    index: number
    value: number
  }

  export interface ImageReplyRefusalCodeFieldEvent {
    field: '$.refusal.code'
    value: string
  }

  export interface ImageReplyRefusalMessageFieldEvent {
    field: '$.refusal.message'
    value: string
  }

  export function encode (obj: Partial<ImageReply>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ImageReply.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageReply>): ImageReply {
    return decodeMessage(buf, ImageReply.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageReply>): Generator<ImageReplyOfferDiffIdsFieldEvent | ImageReplyOfferSizeBytesFieldEvent | ImageReplyOfferLayerSizesFieldEvent | ImageReplyRefusalCodeFieldEvent | ImageReplyRefusalMessageFieldEvent> {
    return streamMessage(buf, ImageReply.codec(), opts)
  }
}

export interface ImageWant {
  haveLayers: number[]
  creditBytes: number
}

export namespace ImageWant {
  let _codec: Codec<ImageWant>

  export const codec = (): Codec<ImageWant> => {
    if (_codec == null) {
      _codec = message<ImageWant>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.haveLayers != null && obj.haveLayers.length > 0) {
          for (const value of obj.haveLayers) {
            w.uint32(8)
            w.uint32(value)
          }
        }

        if ((obj.creditBytes != null && obj.creditBytes !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.creditBytes)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          haveLayers: [],
          creditBytes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.haveLayers != null && obj.haveLayers.length === opts.limits.haveLayers) {
                throw new MaxLengthError('Decode error - repeated field "haveLayers" had too many elements')
              }

              obj.haveLayers.push(reader.uint32())
              break
            }
            case 2: {
              obj.creditBytes = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          haveLayers: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.haveLayers != null && obj.haveLayers === opts.limits.haveLayers) {
                throw new MaxLengthError('Streaming decode error - repeated field "haveLayers" had too many elements')
              }

              yield {
                field: `${prefix}.haveLayers[]`,
                index: obj.haveLayers,
                value: reader.uint32()
              }

              obj.haveLayers++

              break
            }
            case 2: {
              yield {
                field: `${prefix}.creditBytes`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ImageWantHaveLayersFieldEvent {
    field: '$.haveLayers[]'
    index: number
    value: number
  }

  export interface ImageWantCreditBytesFieldEvent {
    field: '$.creditBytes'
    value: number
  }

  export function encode (obj: Partial<ImageWant>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ImageWant.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageWant>): ImageWant {
    return decodeMessage(buf, ImageWant.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageWant>): Generator<ImageWantHaveLayersFieldEvent | ImageWantCreditBytesFieldEvent> {
    return streamMessage(buf, ImageWant.codec(), opts)
  }
}

export interface ImageCredit {
  bytes: number
}

export namespace ImageCredit {
  let _codec: Codec<ImageCredit>

  export const codec = (): Codec<ImageCredit> => {
    if (_codec == null) {
      _codec = message<ImageCredit>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.bytes != null && obj.bytes !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.bytes)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          bytes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.bytes = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.bytes`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ImageCreditBytesFieldEvent {
    field: '$.bytes'
    value: number
  }

  export function encode (obj: Partial<ImageCredit>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ImageCredit.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageCredit>): ImageCredit {
    return decodeMessage(buf, ImageCredit.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageCredit>): Generator<ImageCreditBytesFieldEvent> {
    return streamMessage(buf, ImageCredit.codec(), opts)
  }
}

export interface ImageChunk {
  data: Uint8Array<ArrayBuffer>
  end: boolean
}

export namespace ImageChunk {
  let _codec: Codec<ImageChunk>

  export const codec = (): Codec<ImageChunk> => {
    if (_codec == null) {
      _codec = message<ImageChunk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.data)
        }

        if ((obj.end != null && obj.end !== false)) {
          w.uint32(16)
          w.bool(obj.end)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          data: uint8ArrayAlloc(0),
          end: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.data = reader.bytes()
              break
            }
            case 2: {
              obj.end = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.end`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ImageChunkDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ImageChunkEndFieldEvent {
    field: '$.end'
    value: boolean
  }

  export function encode (obj: Partial<ImageChunk>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ImageChunk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageChunk>): ImageChunk {
    return decodeMessage(buf, ImageChunk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageChunk>): Generator<ImageChunkDataFieldEvent | ImageChunkEndFieldEvent> {
    return streamMessage(buf, ImageChunk.codec(), opts)
  }
}
