/* eslint-disable require-yield */

import { decodeMessage, encodeMessage, enumeration, MaxLengthError, MaxSizeError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface TaskResources {
  cpu: number
  memoryBytes: number
  storageBytes: number
  gpus: number
}

export namespace TaskResources {
  let _codec: Codec<TaskResources>

  export const codec = (): Codec<TaskResources> => {
    if (_codec == null) {
      _codec = message<TaskResources>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.cpu != null && obj.cpu !== 0)) {
          w.uint32(9)
          w.double(obj.cpu)
        }

        if ((obj.memoryBytes != null && obj.memoryBytes !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.memoryBytes)
        }

        if ((obj.storageBytes != null && obj.storageBytes !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.storageBytes)
        }

        if ((obj.gpus != null && obj.gpus !== 0)) {
          w.uint32(32)
          w.uint32(obj.gpus)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          cpu: 0,
          memoryBytes: 0,
          storageBytes: 0,
          gpus: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.cpu = reader.double()
              break
            }
            case 2: {
              obj.memoryBytes = reader.uint64Number()
              break
            }
            case 3: {
              obj.storageBytes = reader.uint64Number()
              break
            }
            case 4: {
              obj.gpus = reader.uint32()
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
                field: `${prefix}.cpu`,
                value: reader.double()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.memoryBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.storageBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.gpus`,
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

  export interface TaskResourcesCpuFieldEvent {
    field: '$.cpu'
    value: number
  }

  export interface TaskResourcesMemoryBytesFieldEvent {
    field: '$.memoryBytes'
    value: number
  }

  export interface TaskResourcesStorageBytesFieldEvent {
    field: '$.storageBytes'
    value: number
  }

  export interface TaskResourcesGpusFieldEvent {
    field: '$.gpus'
    value: number
  }

  export function encode (obj: Partial<TaskResources>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskResources.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskResources>): TaskResources {
    return decodeMessage(buf, TaskResources.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskResources>): Generator<TaskResourcesCpuFieldEvent | TaskResourcesMemoryBytesFieldEvent | TaskResourcesStorageBytesFieldEvent | TaskResourcesGpusFieldEvent> {
    return streamMessage(buf, TaskResources.codec(), opts)
  }
}

export interface TaskSpec {
  id: string
  image: string
  command: string[]
  env: Map<string, string>
  resources?: TaskResources
  network: string
  timeoutMs: number
  labels: Map<string, string>
  attempt: number
}

export namespace TaskSpec {
  export interface TaskSpec$envEntry {
    key: string
    value: string
  }

  export namespace TaskSpec$envEntry {
    let _codec: Codec<TaskSpec$envEntry>

    export const codec = (): Codec<TaskSpec$envEntry> => {
      if (_codec == null) {
        _codec = message<TaskSpec$envEntry>((obj, w, opts = {}) => {
          if (opts.lengthDelimited !== false) {
            w.fork()
          }

          if ((obj.key != null && obj.key !== '')) {
            w.uint32(10)
            w.string(obj.key)
          }

          if ((obj.value != null && obj.value !== '')) {
            w.uint32(18)
            w.string(obj.value)
          }

          if (opts.lengthDelimited !== false) {
            w.ldelim()
          }
        }, (reader, length, opts = {}) => {
          const obj: any = {
            key: '',
            value: ''
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                obj.key = reader.string()
                break
              }
              case 2: {
                obj.value = reader.string()
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
                  field: `${prefix}.key`,
                  value: reader.string()
                }
                break
              }
              case 2: {
                yield {
                  field: `${prefix}.value`,
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

    export interface TaskSpec$envEntryKeyFieldEvent {
      field: '$.key'
      value: string
    }

    export interface TaskSpec$envEntryValueFieldEvent {
      field: '$.value'
      value: string
    }

    export function encode (obj: Partial<TaskSpec$envEntry>): Uint8Array<ArrayBuffer> {
      return encodeMessage(obj, TaskSpec$envEntry.codec())
    }

    export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskSpec$envEntry>): TaskSpec$envEntry {
      return decodeMessage(buf, TaskSpec$envEntry.codec(), opts)
    }

    export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskSpec$envEntry>): Generator<TaskSpec$envEntryKeyFieldEvent | TaskSpec$envEntryValueFieldEvent> {
      return streamMessage(buf, TaskSpec$envEntry.codec(), opts)
    }
  }

  export interface TaskSpec$labelsEntry {
    key: string
    value: string
  }

  export namespace TaskSpec$labelsEntry {
    let _codec: Codec<TaskSpec$labelsEntry>

    export const codec = (): Codec<TaskSpec$labelsEntry> => {
      if (_codec == null) {
        _codec = message<TaskSpec$labelsEntry>((obj, w, opts = {}) => {
          if (opts.lengthDelimited !== false) {
            w.fork()
          }

          if ((obj.key != null && obj.key !== '')) {
            w.uint32(10)
            w.string(obj.key)
          }

          if ((obj.value != null && obj.value !== '')) {
            w.uint32(18)
            w.string(obj.value)
          }

          if (opts.lengthDelimited !== false) {
            w.ldelim()
          }
        }, (reader, length, opts = {}) => {
          const obj: any = {
            key: '',
            value: ''
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                obj.key = reader.string()
                break
              }
              case 2: {
                obj.value = reader.string()
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
                  field: `${prefix}.key`,
                  value: reader.string()
                }
                break
              }
              case 2: {
                yield {
                  field: `${prefix}.value`,
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

    export interface TaskSpec$labelsEntryKeyFieldEvent {
      field: '$.key'
      value: string
    }

    export interface TaskSpec$labelsEntryValueFieldEvent {
      field: '$.value'
      value: string
    }

    export function encode (obj: Partial<TaskSpec$labelsEntry>): Uint8Array<ArrayBuffer> {
      return encodeMessage(obj, TaskSpec$labelsEntry.codec())
    }

    export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskSpec$labelsEntry>): TaskSpec$labelsEntry {
      return decodeMessage(buf, TaskSpec$labelsEntry.codec(), opts)
    }

    export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskSpec$labelsEntry>): Generator<TaskSpec$labelsEntryKeyFieldEvent | TaskSpec$labelsEntryValueFieldEvent> {
      return streamMessage(buf, TaskSpec$labelsEntry.codec(), opts)
    }
  }

  let _codec: Codec<TaskSpec>

  export const codec = (): Codec<TaskSpec> => {
    if (_codec == null) {
      _codec = message<TaskSpec>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== '')) {
          w.uint32(10)
          w.string(obj.id)
        }

        if ((obj.image != null && obj.image !== '')) {
          w.uint32(18)
          w.string(obj.image)
        }

        if (obj.command != null && obj.command.length > 0) {
          for (const value of obj.command) {
            w.uint32(26)
            w.string(value)
          }
        }

        if (obj.env != null && obj.env.size > 0) {
          for (const [key, value] of obj.env.entries()) {
            w.uint32(34)
            TaskSpec.TaskSpec$envEntry.codec().encode({ key, value }, w)
          }
        }

        if (obj.resources != null) {
          w.uint32(42)
          TaskResources.codec().encode(obj.resources, w)
        }

        if ((obj.network != null && obj.network !== '')) {
          w.uint32(50)
          w.string(obj.network)
        }

        if ((obj.timeoutMs != null && obj.timeoutMs !== 0)) {
          w.uint32(56)
          w.uint64Number(obj.timeoutMs)
        }

        if (obj.labels != null && obj.labels.size > 0) {
          for (const [key, value] of obj.labels.entries()) {
            w.uint32(66)
            TaskSpec.TaskSpec$labelsEntry.codec().encode({ key, value }, w)
          }
        }

        if ((obj.attempt != null && obj.attempt !== 0)) {
          w.uint32(72)
          w.uint32(obj.attempt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: '',
          image: '',
          command: [],
          env: new Map<string, string>(),
          network: '',
          timeoutMs: 0,
          labels: new Map<string, string>(),
          attempt: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.string()
              break
            }
            case 2: {
              obj.image = reader.string()
              break
            }
            case 3: {
              if (opts.limits?.command != null && obj.command.length === opts.limits.command) {
                throw new MaxLengthError('Decode error - repeated field "command" had too many elements')
              }

              obj.command.push(reader.string())
              break
            }
            case 4: {
              if (opts.limits?.env != null && obj.env.size === opts.limits.env) {
                throw new MaxSizeError('Decode error - map field "env" had too many elements')
              }

              const entry = TaskSpec.TaskSpec$envEntry.codec().decode(reader, reader.uint32(), {
                limits: {
                  value: opts.limits?.env$value
                }
              })
              obj.env.set(entry.key, entry.value)
              break
            }
            case 5: {
              obj.resources = TaskResources.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.resources
              })
              break
            }
            case 6: {
              obj.network = reader.string()
              break
            }
            case 7: {
              obj.timeoutMs = reader.uint64Number()
              break
            }
            case 8: {
              if (opts.limits?.labels != null && obj.labels.size === opts.limits.labels) {
                throw new MaxSizeError('Decode error - map field "labels" had too many elements')
              }

              const entry = TaskSpec.TaskSpec$labelsEntry.codec().decode(reader, reader.uint32(), {
                limits: {
                  value: opts.limits?.labels$value
                }
              })
              obj.labels.set(entry.key, entry.value)
              break
            }
            case 9: {
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
        const obj = {
          command: 0,
          env: 0,
          labels: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.image`,
                value: reader.string()
              }
              break
            }
            case 3: {
              if (opts.limits?.command != null && obj.command === opts.limits.command) {
                throw new MaxLengthError('Streaming decode error - repeated field "command" had too many elements')
              }

              yield {
                field: `${prefix}.command[]`,
                index: obj.command,
                value: reader.string()
              }

              obj.command++

              break
            }
            case 4: {
              if (opts.limits?.env != null && obj.env === opts.limits.env) {
                throw new MaxLengthError('Decode error - map field "env" had too many elements')
              }

              yield * TaskSpec.TaskSpec$envEntry.codec().stream(reader, reader.uint32(), `${prefix}.env{}`, {
                limits: {
                  value: opts.limits?.env$value
                }
              })

              obj.env++

              break
            }
            case 5: {
              yield * TaskResources.codec().stream(reader, reader.uint32(), `${prefix}.resources`, {
                limits: opts.limits?.resources
              })

              break
            }
            case 6: {
              yield {
                field: `${prefix}.network`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.timeoutMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 8: {
              if (opts.limits?.labels != null && obj.labels === opts.limits.labels) {
                throw new MaxLengthError('Decode error - map field "labels" had too many elements')
              }

              yield * TaskSpec.TaskSpec$labelsEntry.codec().stream(reader, reader.uint32(), `${prefix}.labels{}`, {
                limits: {
                  value: opts.limits?.labels$value
                }
              })

              obj.labels++

              break
            }
            case 9: {
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

  export interface TaskSpecIdFieldEvent {
    field: '$.id'
    value: string
  }

  export interface TaskSpecImageFieldEvent {
    field: '$.image'
    value: string
  }

  export interface TaskSpecCommandFieldEvent {
    field: '$.command[]'
    index: number
    value: string
  }

  export interface TaskSpecEnvFieldEvent {
    field: '$.env{}'
    key: string
    value: string
  }

  export interface TaskSpecResourcesCpuFieldEvent {
    field: '$.resources.cpu'
    value: number
  }

  export interface TaskSpecResourcesMemoryBytesFieldEvent {
    field: '$.resources.memoryBytes'
    value: number
  }

  export interface TaskSpecResourcesStorageBytesFieldEvent {
    field: '$.resources.storageBytes'
    value: number
  }

  export interface TaskSpecResourcesGpusFieldEvent {
    field: '$.resources.gpus'
    value: number
  }

  export interface TaskSpecNetworkFieldEvent {
    field: '$.network'
    value: string
  }

  export interface TaskSpecTimeoutMsFieldEvent {
    field: '$.timeoutMs'
    value: number
  }

  export interface TaskSpecLabelsFieldEvent {
    field: '$.labels{}'
    key: string
    value: string
  }

  export interface TaskSpecAttemptFieldEvent {
    field: '$.attempt'
    value: number
  }

  export function encode (obj: Partial<TaskSpec>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskSpec.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskSpec>): TaskSpec {
    return decodeMessage(buf, TaskSpec.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskSpec>): Generator<TaskSpecIdFieldEvent | TaskSpecImageFieldEvent | TaskSpecCommandFieldEvent | TaskSpecEnvFieldEvent | TaskSpecResourcesCpuFieldEvent | TaskSpecResourcesMemoryBytesFieldEvent | TaskSpecResourcesStorageBytesFieldEvent | TaskSpecResourcesGpusFieldEvent | TaskSpecNetworkFieldEvent | TaskSpecTimeoutMsFieldEvent | TaskSpecLabelsFieldEvent | TaskSpecAttemptFieldEvent> {
    return streamMessage(buf, TaskSpec.codec(), opts)
  }
}

export interface Submit {
  spec?: TaskSpec
}

export namespace Submit {
  let _codec: Codec<Submit>

  export const codec = (): Codec<Submit> => {
    if (_codec == null) {
      _codec = message<Submit>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.spec != null) {
          w.uint32(10)
          TaskSpec.codec().encode(obj.spec, w)
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
              obj.spec = TaskSpec.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.spec
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
              yield * TaskSpec.codec().stream(reader, reader.uint32(), `${prefix}.spec`, {
                limits: opts.limits?.spec
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

  export interface SubmitSpecIdFieldEvent {
    field: '$.spec.id'
    value: string
  }

  export interface SubmitSpecImageFieldEvent {
    field: '$.spec.image'
    value: string
  }

  export interface SubmitSpecCommandFieldEvent {
    field: '$.spec.command[]'
    index: number
    value: string
  }

  export interface SubmitSpecEnvFieldEvent {
    field: '$.spec.env{}'
    key: string
    value: string
  }

  export interface SubmitSpecResourcesCpuFieldEvent {
    field: '$.spec.resources.cpu'
    value: number
  }

  export interface SubmitSpecResourcesMemoryBytesFieldEvent {
    field: '$.spec.resources.memoryBytes'
    value: number
  }

  export interface SubmitSpecResourcesStorageBytesFieldEvent {
    field: '$.spec.resources.storageBytes'
    value: number
  }

  export interface SubmitSpecResourcesGpusFieldEvent {
    field: '$.spec.resources.gpus'
    value: number
  }

  export interface SubmitSpecNetworkFieldEvent {
    field: '$.spec.network'
    value: string
  }

  export interface SubmitSpecTimeoutMsFieldEvent {
    field: '$.spec.timeoutMs'
    value: number
  }

  export interface SubmitSpecLabelsFieldEvent {
    field: '$.spec.labels{}'
    key: string
    value: string
  }

  export interface SubmitSpecAttemptFieldEvent {
    field: '$.spec.attempt'
    value: number
  }

  export function encode (obj: Partial<Submit>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Submit.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Submit>): Submit {
    return decodeMessage(buf, Submit.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Submit>): Generator<SubmitSpecIdFieldEvent | SubmitSpecImageFieldEvent | SubmitSpecCommandFieldEvent | SubmitSpecEnvFieldEvent | SubmitSpecResourcesCpuFieldEvent | SubmitSpecResourcesMemoryBytesFieldEvent | SubmitSpecResourcesStorageBytesFieldEvent | SubmitSpecResourcesGpusFieldEvent | SubmitSpecNetworkFieldEvent | SubmitSpecTimeoutMsFieldEvent | SubmitSpecLabelsFieldEvent | SubmitSpecAttemptFieldEvent> {
    return streamMessage(buf, Submit.codec(), opts)
  }
}

export interface Ack {
  seq: number
}

export namespace Ack {
  let _codec: Codec<Ack>

  export const codec = (): Codec<Ack> => {
    if (_codec == null) {
      _codec = message<Ack>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.seq)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          seq: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.seq = reader.uint64Number()
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
                field: `${prefix}.seq`,
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

  export interface AckSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export function encode (obj: Partial<Ack>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Ack.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ack>): Ack {
    return decodeMessage(buf, Ack.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ack>): Generator<AckSeqFieldEvent> {
    return streamMessage(buf, Ack.codec(), opts)
  }
}

export interface Cancel {}

export namespace Cancel {
  let _codec: Codec<Cancel>

  export const codec = (): Codec<Cancel> => {
    if (_codec == null) {
      _codec = message<Cancel>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
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

  export function encode (obj: Partial<Cancel>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Cancel.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Cancel>): Cancel {
    return decodeMessage(buf, Cancel.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Cancel>): Generator<{}> {
    return streamMessage(buf, Cancel.codec(), opts)
  }
}

export interface MasterMessage {
  submit?: Submit
  ack?: Ack
  cancel?: Cancel
}

export namespace MasterMessage {
  let _codec: Codec<MasterMessage>

  export const codec = (): Codec<MasterMessage> => {
    if (_codec == null) {
      _codec = message<MasterMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.submit != null) {
          w.uint32(10)
          Submit.codec().encode(obj.submit, w)
        }

        if (obj.ack != null) {
          w.uint32(18)
          Ack.codec().encode(obj.ack, w)
        }

        if (obj.cancel != null) {
          w.uint32(26)
          Cancel.codec().encode(obj.cancel, w)
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
              obj.submit = Submit.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.submit
              })
              break
            }
            case 2: {
              obj.ack = Ack.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ack
              })
              break
            }
            case 3: {
              obj.cancel = Cancel.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.cancel
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
              yield * Submit.codec().stream(reader, reader.uint32(), `${prefix}.submit`, {
                limits: opts.limits?.submit
              })

              break
            }
            case 2: {
              yield * Ack.codec().stream(reader, reader.uint32(), `${prefix}.ack`, {
                limits: opts.limits?.ack
              })

              break
            }
            case 3: {
              yield * Cancel.codec().stream(reader, reader.uint32(), `${prefix}.cancel`, {
                limits: opts.limits?.cancel
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

  export interface MasterMessageSubmitSpecIdFieldEvent {
    field: '$.submit.spec.id'
    value: string
  }

  export interface MasterMessageSubmitSpecImageFieldEvent {
    field: '$.submit.spec.image'
    value: string
  }

  export interface MasterMessageSubmitSpecCommandFieldEvent {
    field: '$.submit.spec.command[]'
    index: number
    value: string
  }

  export interface MasterMessageSubmitSpecEnvFieldEvent {
    field: '$.submit.spec.env{}'
    key: string
    value: string
  }

  export interface MasterMessageSubmitSpecResourcesCpuFieldEvent {
    field: '$.submit.spec.resources.cpu'
    value: number
  }

  export interface MasterMessageSubmitSpecResourcesMemoryBytesFieldEvent {
    field: '$.submit.spec.resources.memoryBytes'
    value: number
  }

  export interface MasterMessageSubmitSpecResourcesStorageBytesFieldEvent {
    field: '$.submit.spec.resources.storageBytes'
    value: number
  }

  export interface MasterMessageSubmitSpecResourcesGpusFieldEvent {
    field: '$.submit.spec.resources.gpus'
    value: number
  }

  export interface MasterMessageSubmitSpecNetworkFieldEvent {
    field: '$.submit.spec.network'
    value: string
  }

  export interface MasterMessageSubmitSpecTimeoutMsFieldEvent {
    field: '$.submit.spec.timeoutMs'
    value: number
  }

  export interface MasterMessageSubmitSpecLabelsFieldEvent {
    field: '$.submit.spec.labels{}'
    key: string
    value: string
  }

  export interface MasterMessageSubmitSpecAttemptFieldEvent {
    field: '$.submit.spec.attempt'
    value: number
  }

  export interface MasterMessageAckSeqFieldEvent {
    field: '$.ack.seq'
    value: number
  }

  export function encode (obj: Partial<MasterMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MasterMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MasterMessage>): MasterMessage {
    return decodeMessage(buf, MasterMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MasterMessage>): Generator<MasterMessageSubmitSpecIdFieldEvent | MasterMessageSubmitSpecImageFieldEvent | MasterMessageSubmitSpecCommandFieldEvent | MasterMessageSubmitSpecEnvFieldEvent | MasterMessageSubmitSpecResourcesCpuFieldEvent | MasterMessageSubmitSpecResourcesMemoryBytesFieldEvent | MasterMessageSubmitSpecResourcesStorageBytesFieldEvent | MasterMessageSubmitSpecResourcesGpusFieldEvent | MasterMessageSubmitSpecNetworkFieldEvent | MasterMessageSubmitSpecTimeoutMsFieldEvent | MasterMessageSubmitSpecLabelsFieldEvent | MasterMessageSubmitSpecAttemptFieldEvent | MasterMessageAckSeqFieldEvent> {
    return streamMessage(buf, MasterMessage.codec(), opts)
  }
}

export enum TaskState {
  PENDING = 'PENDING',
  QUEUED = 'QUEUED',
  PULLING = 'PULLING',
  STARTING = 'STARTING',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
  REJECTED = 'REJECTED',
  LOST = 'LOST'
}

enum __TaskStateValues {
  PENDING = 0,
  QUEUED = 1,
  PULLING = 2,
  STARTING = 3,
  RUNNING = 4,
  SUCCEEDED = 5,
  FAILED = 6,
  CANCELLED = 7,
  REJECTED = 8,
  LOST = 9
}

export namespace TaskState {
  export const codec = (): Codec<TaskState> => {
    return enumeration<TaskState>(__TaskStateValues)
  }
}

export enum LogStream {
  STDOUT = 'STDOUT',
  STDERR = 'STDERR'
}

enum __LogStreamValues {
  STDOUT = 0,
  STDERR = 1
}

export namespace LogStream {
  export const codec = (): Codec<LogStream> => {
    return enumeration<LogStream>(__LogStreamValues)
  }
}

export interface PullProgress {
  doneBytes: number
  totalBytes: number
}

export namespace PullProgress {
  let _codec: Codec<PullProgress>

  export const codec = (): Codec<PullProgress> => {
    if (_codec == null) {
      _codec = message<PullProgress>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.doneBytes != null && obj.doneBytes !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.doneBytes)
        }

        if ((obj.totalBytes != null && obj.totalBytes !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.totalBytes)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          doneBytes: 0,
          totalBytes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.doneBytes = reader.uint64Number()
              break
            }
            case 2: {
              obj.totalBytes = reader.uint64Number()
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
                field: `${prefix}.doneBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.totalBytes`,
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

  export interface PullProgressDoneBytesFieldEvent {
    field: '$.doneBytes'
    value: number
  }

  export interface PullProgressTotalBytesFieldEvent {
    field: '$.totalBytes'
    value: number
  }

  export function encode (obj: Partial<PullProgress>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PullProgress.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PullProgress>): PullProgress {
    return decodeMessage(buf, PullProgress.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PullProgress>): Generator<PullProgressDoneBytesFieldEvent | PullProgressTotalBytesFieldEvent> {
    return streamMessage(buf, PullProgress.codec(), opts)
  }
}

export interface LogSegment {
  stream: LogStream
  length: number
}

export namespace LogSegment {
  let _codec: Codec<LogSegment>

  export const codec = (): Codec<LogSegment> => {
    if (_codec == null) {
      _codec = message<LogSegment>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.stream != null && __LogStreamValues[obj.stream] !== 0) {
          w.uint32(8)
          LogStream.codec().encode(obj.stream, w)
        }

        if ((obj.length != null && obj.length !== 0)) {
          w.uint32(16)
          w.uint32(obj.length)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          stream: LogStream.STDOUT,
          length: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.stream = LogStream.codec().decode(reader)
              break
            }
            case 2: {
              obj.length = reader.uint32()
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
                field: `${prefix}.stream`,
                value: LogStream.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.length`,
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

  export interface LogSegmentStreamFieldEvent {
    field: '$.stream'
    value: LogStream
  }

  export interface LogSegmentLengthFieldEvent {
    field: '$.length'
    value: number
  }

  export function encode (obj: Partial<LogSegment>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LogSegment.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogSegment>): LogSegment {
    return decodeMessage(buf, LogSegment.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogSegment>): Generator<LogSegmentStreamFieldEvent | LogSegmentLengthFieldEvent> {
    return streamMessage(buf, LogSegment.codec(), opts)
  }
}

export interface LogChunk {
  stream: LogStream
  data: Uint8Array<ArrayBuffer>
  segments: LogSegment[]
}

export namespace LogChunk {
  let _codec: Codec<LogChunk>

  export const codec = (): Codec<LogChunk> => {
    if (_codec == null) {
      _codec = message<LogChunk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.stream != null && __LogStreamValues[obj.stream] !== 0) {
          w.uint32(8)
          LogStream.codec().encode(obj.stream, w)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.data)
        }

        if (obj.segments != null && obj.segments.length > 0) {
          for (const value of obj.segments) {
            w.uint32(26)
            LogSegment.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          stream: LogStream.STDOUT,
          data: uint8ArrayAlloc(0),
          segments: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.stream = LogStream.codec().decode(reader)
              break
            }
            case 2: {
              obj.data = reader.bytes()
              break
            }
            case 3: {
              if (opts.limits?.segments != null && obj.segments.length === opts.limits.segments) {
                throw new MaxLengthError('Decode error - repeated field "segments" had too many elements')
              }

              obj.segments.push(LogSegment.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.segments$
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
          segments: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.stream`,
                value: LogStream.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              if (opts.limits?.segments != null && obj.segments === opts.limits.segments) {
                throw new MaxLengthError('Streaming decode error - repeated field "segments" had too many elements')
              }

              for (const evt of LogSegment.codec().stream(reader, reader.uint32(), `${prefix}.segments[]`, {
                limits: opts.limits?.segments$
              })) {
                yield {
                  ...evt,
                  index: obj.segments
                }
              }

              obj.segments++

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

  export interface LogChunkStreamFieldEvent {
    field: '$.stream'
    value: LogStream
  }

  export interface LogChunkDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LogChunkSegmentsStreamFieldEvent {
    field: '$.segments[].stream'
    value: LogStream
    index: number
  }

  export interface LogChunkSegmentsLengthFieldEvent {
    field: '$.segments[].length'
    value: number
    index: number
  }

  export function encode (obj: Partial<LogChunk>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LogChunk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogChunk>): LogChunk {
    return decodeMessage(buf, LogChunk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogChunk>): Generator<LogChunkStreamFieldEvent | LogChunkDataFieldEvent | LogChunkSegmentsStreamFieldEvent | LogChunkSegmentsLengthFieldEvent> {
    return streamMessage(buf, LogChunk.codec(), opts)
  }
}

export interface ExitStatus {
  code: number
  oomKilled: boolean
  timedOut: boolean
}

export namespace ExitStatus {
  let _codec: Codec<ExitStatus>

  export const codec = (): Codec<ExitStatus> => {
    if (_codec == null) {
      _codec = message<ExitStatus>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.code != null && obj.code !== 0)) {
          w.uint32(8)
          w.sint32(obj.code)
        }

        if ((obj.oomKilled != null && obj.oomKilled !== false)) {
          w.uint32(16)
          w.bool(obj.oomKilled)
        }

        if ((obj.timedOut != null && obj.timedOut !== false)) {
          w.uint32(24)
          w.bool(obj.timedOut)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: 0,
          oomKilled: false,
          timedOut: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = reader.sint32()
              break
            }
            case 2: {
              obj.oomKilled = reader.bool()
              break
            }
            case 3: {
              obj.timedOut = reader.bool()
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
                value: reader.sint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.oomKilled`,
                value: reader.bool()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.timedOut`,
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

  export interface ExitStatusCodeFieldEvent {
    field: '$.code'
    value: number
  }

  export interface ExitStatusOomKilledFieldEvent {
    field: '$.oomKilled'
    value: boolean
  }

  export interface ExitStatusTimedOutFieldEvent {
    field: '$.timedOut'
    value: boolean
  }

  export function encode (obj: Partial<ExitStatus>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ExitStatus.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ExitStatus>): ExitStatus {
    return decodeMessage(buf, ExitStatus.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ExitStatus>): Generator<ExitStatusCodeFieldEvent | ExitStatusOomKilledFieldEvent | ExitStatusTimedOutFieldEvent> {
    return streamMessage(buf, ExitStatus.codec(), opts)
  }
}

export enum TruncationCause {
  LOG_LIMIT = 'LOG_LIMIT',
  ENGINE_LOG_GAP = 'ENGINE_LOG_GAP'
}

enum __TruncationCauseValues {
  LOG_LIMIT = 0,
  ENGINE_LOG_GAP = 1
}

export namespace TruncationCause {
  export const codec = (): Codec<TruncationCause> => {
    return enumeration<TruncationCause>(__TruncationCauseValues)
  }
}

export interface LogTruncated {
  limitBytes: number
  cause?: TruncationCause
}

export namespace LogTruncated {
  let _codec: Codec<LogTruncated>

  export const codec = (): Codec<LogTruncated> => {
    if (_codec == null) {
      _codec = message<LogTruncated>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.limitBytes != null && obj.limitBytes !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.limitBytes)
        }

        if (obj.cause != null) {
          w.uint32(16)
          TruncationCause.codec().encode(obj.cause, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          limitBytes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.limitBytes = reader.uint64Number()
              break
            }
            case 2: {
              obj.cause = TruncationCause.codec().decode(reader)
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
                field: `${prefix}.limitBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.cause`,
                value: TruncationCause.codec().decode(reader)
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

  export interface LogTruncatedLimitBytesFieldEvent {
    field: '$.limitBytes'
    value: number
  }

  export interface LogTruncatedCauseFieldEvent {
    field: '$.cause'
    value: TruncationCause
  }

  export function encode (obj: Partial<LogTruncated>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LogTruncated.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogTruncated>): LogTruncated {
    return decodeMessage(buf, LogTruncated.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogTruncated>): Generator<LogTruncatedLimitBytesFieldEvent | LogTruncatedCauseFieldEvent> {
    return streamMessage(buf, LogTruncated.codec(), opts)
  }
}

export interface TaskError {
  code: string
  message: string
}

export namespace TaskError {
  let _codec: Codec<TaskError>

  export const codec = (): Codec<TaskError> => {
    if (_codec == null) {
      _codec = message<TaskError>((obj, w, opts = {}) => {
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

  export interface TaskErrorCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface TaskErrorMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<TaskError>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskError.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskError>): TaskError {
    return decodeMessage(buf, TaskError.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskError>): Generator<TaskErrorCodeFieldEvent | TaskErrorMessageFieldEvent> {
    return streamMessage(buf, TaskError.codec(), opts)
  }
}

export interface TaskEvent {
  taskId: string
  seq: number
  timeMs: number
  state: TaskState
  queuedPosition?: number
  pull?: PullProgress
  containerId?: string
  log?: LogChunk
  exit?: ExitStatus
  error?: TaskError
  truncated?: LogTruncated
}

export namespace TaskEvent {
  let _codec: Codec<TaskEvent>

  export const codec = (): Codec<TaskEvent> => {
    if (_codec == null) {
      _codec = message<TaskEvent>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(10)
          w.string(obj.taskId)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.seq)
        }

        if ((obj.timeMs != null && obj.timeMs !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.timeMs)
        }

        if (obj.state != null && __TaskStateValues[obj.state] !== 0) {
          w.uint32(32)
          TaskState.codec().encode(obj.state, w)
        }

        if (obj.queuedPosition != null) {
          w.uint32(40)
          w.uint32(obj.queuedPosition)
        }

        if (obj.pull != null) {
          w.uint32(50)
          PullProgress.codec().encode(obj.pull, w)
        }

        if (obj.containerId != null) {
          w.uint32(58)
          w.string(obj.containerId)
        }

        if (obj.log != null) {
          w.uint32(66)
          LogChunk.codec().encode(obj.log, w)
        }

        if (obj.exit != null) {
          w.uint32(74)
          ExitStatus.codec().encode(obj.exit, w)
        }

        if (obj.error != null) {
          w.uint32(82)
          TaskError.codec().encode(obj.error, w)
        }

        if (obj.truncated != null) {
          w.uint32(90)
          LogTruncated.codec().encode(obj.truncated, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: '',
          seq: 0,
          timeMs: 0,
          state: TaskState.PENDING
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
              obj.seq = reader.uint64Number()
              break
            }
            case 3: {
              obj.timeMs = reader.uint64Number()
              break
            }
            case 4: {
              obj.state = TaskState.codec().decode(reader)
              break
            }
            case 5: {
              obj.queuedPosition = reader.uint32()
              break
            }
            case 6: {
              obj.pull = PullProgress.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.pull
              })
              break
            }
            case 7: {
              obj.containerId = reader.string()
              break
            }
            case 8: {
              obj.log = LogChunk.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.log
              })
              break
            }
            case 9: {
              obj.exit = ExitStatus.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.exit
              })
              break
            }
            case 10: {
              obj.error = TaskError.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            case 11: {
              obj.truncated = LogTruncated.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.truncated
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
              yield {
                field: `${prefix}.taskId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.timeMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.state`,
                value: TaskState.codec().decode(reader)
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.queuedPosition`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield * PullProgress.codec().stream(reader, reader.uint32(), `${prefix}.pull`, {
                limits: opts.limits?.pull
              })

              break
            }
            case 7: {
              yield {
                field: `${prefix}.containerId`,
                value: reader.string()
              }
              break
            }
            case 8: {
              yield * LogChunk.codec().stream(reader, reader.uint32(), `${prefix}.log`, {
                limits: opts.limits?.log
              })

              break
            }
            case 9: {
              yield * ExitStatus.codec().stream(reader, reader.uint32(), `${prefix}.exit`, {
                limits: opts.limits?.exit
              })

              break
            }
            case 10: {
              yield * TaskError.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            case 11: {
              yield * LogTruncated.codec().stream(reader, reader.uint32(), `${prefix}.truncated`, {
                limits: opts.limits?.truncated
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

  export interface TaskEventTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface TaskEventSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface TaskEventTimeMsFieldEvent {
    field: '$.timeMs'
    value: number
  }

  export interface TaskEventStateFieldEvent {
    field: '$.state'
    value: TaskState
  }

  export interface TaskEventQueuedPositionFieldEvent {
    field: '$.queuedPosition'
    value: number
  }

  export interface TaskEventPullDoneBytesFieldEvent {
    field: '$.pull.doneBytes'
    value: number
  }

  export interface TaskEventPullTotalBytesFieldEvent {
    field: '$.pull.totalBytes'
    value: number
  }

  export interface TaskEventContainerIdFieldEvent {
    field: '$.containerId'
    value: string
  }

  export interface TaskEventLogStreamFieldEvent {
    field: '$.log.stream'
    value: LogStream
  }

  export interface TaskEventLogDataFieldEvent {
    field: '$.log.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TaskEventLogSegmentsStreamFieldEvent {
    field: '$.log.segments[].stream'
    value: LogStream
    index: number
  }

  export interface TaskEventLogSegmentsLengthFieldEvent {
    field: '$.log.segments[].length'
    value: number
    index: number
  }

  export interface TaskEventExitCodeFieldEvent {
    field: '$.exit.code'
    value: number
  }

  export interface TaskEventExitOomKilledFieldEvent {
    field: '$.exit.oomKilled'
    value: boolean
  }

  export interface TaskEventExitTimedOutFieldEvent {
    field: '$.exit.timedOut'
    value: boolean
  }

  export interface TaskEventErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  export interface TaskEventErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface TaskEventTruncatedLimitBytesFieldEvent {
    field: '$.truncated.limitBytes'
    value: number
  }

  export interface TaskEventTruncatedCauseFieldEvent {
    field: '$.truncated.cause'
    value: TruncationCause
  }

  export function encode (obj: Partial<TaskEvent>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskEvent.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskEvent>): TaskEvent {
    return decodeMessage(buf, TaskEvent.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskEvent>): Generator<TaskEventTaskIdFieldEvent | TaskEventSeqFieldEvent | TaskEventTimeMsFieldEvent | TaskEventStateFieldEvent | TaskEventQueuedPositionFieldEvent | TaskEventPullDoneBytesFieldEvent | TaskEventPullTotalBytesFieldEvent | TaskEventContainerIdFieldEvent | TaskEventLogStreamFieldEvent | TaskEventLogDataFieldEvent | TaskEventLogSegmentsStreamFieldEvent | TaskEventLogSegmentsLengthFieldEvent | TaskEventExitCodeFieldEvent | TaskEventExitOomKilledFieldEvent | TaskEventExitTimedOutFieldEvent | TaskEventErrorCodeFieldEvent | TaskEventErrorMessageFieldEvent | TaskEventTruncatedLimitBytesFieldEvent | TaskEventTruncatedCauseFieldEvent> {
    return streamMessage(buf, TaskEvent.codec(), opts)
  }
}
