import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface FetchInputs {
  taskId: string
  attempt: number
}

export namespace FetchInputs {
  let _codec: Codec<FetchInputs>

  export const codec = (): Codec<FetchInputs> => {
    if (_codec == null) {
      _codec = message<FetchInputs>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(10)
          w.string(obj.taskId)
        }

        if ((obj.attempt != null && obj.attempt !== 0)) {
          w.uint32(16)
          w.uint32(obj.attempt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: '',
          attempt: 0
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
              obj.attempt = reader.uint32()
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
                field: `${prefix}.attempt`,
                value: reader.uint32()
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

  export interface FetchInputsTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface FetchInputsAttemptFieldEvent {
    field: '$.attempt'
    value: number
  }

  export function encode (obj: Partial<FetchInputs>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FetchInputs.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchInputs>): FetchInputs {
    return decodeMessage(buf, FetchInputs.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchInputs>): Generator<FetchInputsTaskIdFieldEvent | FetchInputsAttemptFieldEvent> {
    return streamMessage(buf, FetchInputs.codec(), opts)
  }
}

export interface FetchOutputs {
  taskId: string
}

export namespace FetchOutputs {
  let _codec: Codec<FetchOutputs>

  export const codec = (): Codec<FetchOutputs> => {
    if (_codec == null) {
      _codec = message<FetchOutputs>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(10)
          w.string(obj.taskId)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.taskId = reader.string()
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

  export interface FetchOutputsTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export function encode (obj: Partial<FetchOutputs>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FetchOutputs.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchOutputs>): FetchOutputs {
    return decodeMessage(buf, FetchOutputs.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchOutputs>): Generator<FetchOutputsTaskIdFieldEvent> {
    return streamMessage(buf, FetchOutputs.codec(), opts)
  }
}

export interface FilesRequest {
  fetchInputs?: FetchInputs
  fetchOutputs?: FetchOutputs
}

export namespace FilesRequest {
  let _codec: Codec<FilesRequest>

  export const codec = (): Codec<FilesRequest> => {
    if (_codec == null) {
      _codec = message<FilesRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.fetchInputs != null) {
          w.uint32(10)
          FetchInputs.codec().encode(obj.fetchInputs, w)
        }

        if (obj.fetchOutputs != null) {
          w.uint32(18)
          FetchOutputs.codec().encode(obj.fetchOutputs, w)
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
              obj.fetchInputs = FetchInputs.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.fetchInputs
              })
              break
            }
            case 2: {
              obj.fetchOutputs = FetchOutputs.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.fetchOutputs
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
              yield * FetchInputs.codec().stream(reader, reader.uint32(), `${prefix}.fetchInputs`, {
                limits: opts.limits?.fetchInputs
              })

              break
            }
            case 2: {
              yield * FetchOutputs.codec().stream(reader, reader.uint32(), `${prefix}.fetchOutputs`, {
                limits: opts.limits?.fetchOutputs
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

  export interface FilesRequestFetchInputsTaskIdFieldEvent {
    field: '$.fetchInputs.taskId'
    value: string
  }

  export interface FilesRequestFetchInputsAttemptFieldEvent {
    field: '$.fetchInputs.attempt'
    value: number
  }

  export interface FilesRequestFetchOutputsTaskIdFieldEvent {
    field: '$.fetchOutputs.taskId'
    value: string
  }

  export function encode (obj: Partial<FilesRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FilesRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FilesRequest>): FilesRequest {
    return decodeMessage(buf, FilesRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FilesRequest>): Generator<FilesRequestFetchInputsTaskIdFieldEvent | FilesRequestFetchInputsAttemptFieldEvent | FilesRequestFetchOutputsTaskIdFieldEvent> {
    return streamMessage(buf, FilesRequest.codec(), opts)
  }
}

export interface FilesError {
  code: string
  message: string
}

export namespace FilesError {
  let _codec: Codec<FilesError>

  export const codec = (): Codec<FilesError> => {
    if (_codec == null) {
      _codec = message<FilesError>((obj, w, opts = {}) => {
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

  export interface FilesErrorCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface FilesErrorMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<FilesError>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FilesError.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FilesError>): FilesError {
    return decodeMessage(buf, FilesError.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FilesError>): Generator<FilesErrorCodeFieldEvent | FilesErrorMessageFieldEvent> {
    return streamMessage(buf, FilesError.codec(), opts)
  }
}

export interface OutputSetSummary {
  path: string
  bytes: number
  files: number
  sha256: string
  complete: boolean
  note: string
}

export namespace OutputSetSummary {
  let _codec: Codec<OutputSetSummary>

  export const codec = (): Codec<OutputSetSummary> => {
    if (_codec == null) {
      _codec = message<OutputSetSummary>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.path != null && obj.path !== '')) {
          w.uint32(10)
          w.string(obj.path)
        }

        if ((obj.bytes != null && obj.bytes !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.bytes)
        }

        if ((obj.files != null && obj.files !== 0)) {
          w.uint32(24)
          w.uint32(obj.files)
        }

        if ((obj.sha256 != null && obj.sha256 !== '')) {
          w.uint32(34)
          w.string(obj.sha256)
        }

        if ((obj.complete != null && obj.complete !== false)) {
          w.uint32(40)
          w.bool(obj.complete)
        }

        if ((obj.note != null && obj.note !== '')) {
          w.uint32(50)
          w.string(obj.note)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          path: '',
          bytes: 0,
          files: 0,
          sha256: '',
          complete: false,
          note: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.path = reader.string()
              break
            }
            case 2: {
              obj.bytes = reader.uint64Number()
              break
            }
            case 3: {
              obj.files = reader.uint32()
              break
            }
            case 4: {
              obj.sha256 = reader.string()
              break
            }
            case 5: {
              obj.complete = reader.bool()
              break
            }
            case 6: {
              obj.note = reader.string()
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
                field: `${prefix}.path`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.bytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.files`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.sha256`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.complete`,
                value: reader.bool()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.note`,
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

  export interface OutputSetSummaryPathFieldEvent {
    field: '$.path'
    value: string
  }

  export interface OutputSetSummaryBytesFieldEvent {
    field: '$.bytes'
    value: number
  }

  export interface OutputSetSummaryFilesFieldEvent {
    field: '$.files'
    value: number
  }

  export interface OutputSetSummarySha256FieldEvent {
    field: '$.sha256'
    value: string
  }

  export interface OutputSetSummaryCompleteFieldEvent {
    field: '$.complete'
    value: boolean
  }

  export interface OutputSetSummaryNoteFieldEvent {
    field: '$.note'
    value: string
  }

  export function encode (obj: Partial<OutputSetSummary>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, OutputSetSummary.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<OutputSetSummary>): OutputSetSummary {
    return decodeMessage(buf, OutputSetSummary.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<OutputSetSummary>): Generator<OutputSetSummaryPathFieldEvent | OutputSetSummaryBytesFieldEvent | OutputSetSummaryFilesFieldEvent | OutputSetSummarySha256FieldEvent | OutputSetSummaryCompleteFieldEvent | OutputSetSummaryNoteFieldEvent> {
    return streamMessage(buf, OutputSetSummary.codec(), opts)
  }
}

export interface FilesReply {
  error?: FilesError
  accepted?: FilesAccepted
}

export namespace FilesReply {
  let _codec: Codec<FilesReply>

  export const codec = (): Codec<FilesReply> => {
    if (_codec == null) {
      _codec = message<FilesReply>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.error != null) {
          w.uint32(10)
          FilesError.codec().encode(obj.error, w)
        }

        if (obj.accepted != null) {
          w.uint32(18)
          FilesAccepted.codec().encode(obj.accepted, w)
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
              obj.error = FilesError.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            case 2: {
              obj.accepted = FilesAccepted.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.accepted
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
              yield * FilesError.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            case 2: {
              yield * FilesAccepted.codec().stream(reader, reader.uint32(), `${prefix}.accepted`, {
                limits: opts.limits?.accepted
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

  export interface FilesReplyErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  export interface FilesReplyErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface FilesReplyAcceptedArchiveBytesFieldEvent {
    field: '$.accepted.archiveBytes'
    value: number
  }

  export interface FilesReplyAcceptedOutputsPathFieldEvent {
    field: '$.accepted.outputs[].path'
    value: string
    index: number
  }

  export interface FilesReplyAcceptedOutputsBytesFieldEvent {
    field: '$.accepted.outputs[].bytes'
    value: number
    index: number
  }

  export interface FilesReplyAcceptedOutputsFilesFieldEvent {
    field: '$.accepted.outputs[].files'
    value: number
    index: number
  }

  export interface FilesReplyAcceptedOutputsSha256FieldEvent {
    field: '$.accepted.outputs[].sha256'
    value: string
    index: number
  }

  export interface FilesReplyAcceptedOutputsCompleteFieldEvent {
    field: '$.accepted.outputs[].complete'
    value: boolean
    index: number
  }

  export interface FilesReplyAcceptedOutputsNoteFieldEvent {
    field: '$.accepted.outputs[].note'
    value: string
    index: number
  }

  export function encode (obj: Partial<FilesReply>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FilesReply.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FilesReply>): FilesReply {
    return decodeMessage(buf, FilesReply.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FilesReply>): Generator<FilesReplyErrorCodeFieldEvent | FilesReplyErrorMessageFieldEvent | FilesReplyAcceptedArchiveBytesFieldEvent | FilesReplyAcceptedOutputsPathFieldEvent | FilesReplyAcceptedOutputsBytesFieldEvent | FilesReplyAcceptedOutputsFilesFieldEvent | FilesReplyAcceptedOutputsSha256FieldEvent | FilesReplyAcceptedOutputsCompleteFieldEvent | FilesReplyAcceptedOutputsNoteFieldEvent> {
    return streamMessage(buf, FilesReply.codec(), opts)
  }
}

export interface FilesAccepted {
  archiveBytes: number
  outputs: OutputSetSummary[]
}

export namespace FilesAccepted {
  let _codec: Codec<FilesAccepted>

  export const codec = (): Codec<FilesAccepted> => {
    if (_codec == null) {
      _codec = message<FilesAccepted>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.archiveBytes != null && obj.archiveBytes !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.archiveBytes)
        }

        if (obj.outputs != null && obj.outputs.length > 0) {
          for (const value of obj.outputs) {
            w.uint32(18)
            OutputSetSummary.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          archiveBytes: 0,
          outputs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.archiveBytes = reader.uint64Number()
              break
            }
            case 2: {
              if (opts.limits?.outputs != null && obj.outputs.length === opts.limits.outputs) {
                throw new MaxLengthError('Decode error - repeated field "outputs" had too many elements')
              }

              obj.outputs.push(OutputSetSummary.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.outputs$
              }))
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
          outputs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.archiveBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              if (opts.limits?.outputs != null && obj.outputs === opts.limits.outputs) {
                throw new MaxLengthError('Streaming decode error - repeated field "outputs" had too many elements')
              }

              for (const evt of OutputSetSummary.codec().stream(reader, reader.uint32(), `${prefix}.outputs[]`, {
                limits: opts.limits?.outputs$
              })) {
                yield {
                  ...evt,
                  index: obj.outputs
                }
              }

              obj.outputs++

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

  export interface FilesAcceptedArchiveBytesFieldEvent {
    field: '$.archiveBytes'
    value: number
  }

  export interface FilesAcceptedOutputsPathFieldEvent {
    field: '$.outputs[].path'
    value: string
    index: number
  }

  export interface FilesAcceptedOutputsBytesFieldEvent {
    field: '$.outputs[].bytes'
    value: number
    index: number
  }

  export interface FilesAcceptedOutputsFilesFieldEvent {
    field: '$.outputs[].files'
    value: number
    index: number
  }

  export interface FilesAcceptedOutputsSha256FieldEvent {
    field: '$.outputs[].sha256'
    value: string
    index: number
  }

  export interface FilesAcceptedOutputsCompleteFieldEvent {
    field: '$.outputs[].complete'
    value: boolean
    index: number
  }

  export interface FilesAcceptedOutputsNoteFieldEvent {
    field: '$.outputs[].note'
    value: string
    index: number
  }

  export function encode (obj: Partial<FilesAccepted>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FilesAccepted.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FilesAccepted>): FilesAccepted {
    return decodeMessage(buf, FilesAccepted.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FilesAccepted>): Generator<FilesAcceptedArchiveBytesFieldEvent | FilesAcceptedOutputsPathFieldEvent | FilesAcceptedOutputsBytesFieldEvent | FilesAcceptedOutputsFilesFieldEvent | FilesAcceptedOutputsSha256FieldEvent | FilesAcceptedOutputsCompleteFieldEvent | FilesAcceptedOutputsNoteFieldEvent> {
    return streamMessage(buf, FilesAccepted.codec(), opts)
  }
}

export interface FilesChunk {
  data: Uint8Array<ArrayBuffer>
  end: boolean
}

export namespace FilesChunk {
  let _codec: Codec<FilesChunk>

  export const codec = (): Codec<FilesChunk> => {
    if (_codec == null) {
      _codec = message<FilesChunk>((obj, w, opts = {}) => {
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

  export interface FilesChunkDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FilesChunkEndFieldEvent {
    field: '$.end'
    value: boolean
  }

  export function encode (obj: Partial<FilesChunk>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FilesChunk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FilesChunk>): FilesChunk {
    return decodeMessage(buf, FilesChunk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FilesChunk>): Generator<FilesChunkDataFieldEvent | FilesChunkEndFieldEvent> {
    return streamMessage(buf, FilesChunk.codec(), opts)
  }
}
