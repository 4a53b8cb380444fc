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
  imageId?: string
  files?: TaskFiles
  imageHolders: string[]
  imageGrant?: string
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

        if (obj.imageId != null) {
          w.uint32(82)
          w.string(obj.imageId)
        }

        if (obj.files != null) {
          w.uint32(122)
          TaskFiles.codec().encode(obj.files, w)
        }

        if (obj.imageHolders != null && obj.imageHolders.length > 0) {
          for (const value of obj.imageHolders) {
            w.uint32(162)
            w.string(value)
          }
        }

        if (obj.imageGrant != null) {
          w.uint32(170)
          w.string(obj.imageGrant)
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
          attempt: 0,
          imageHolders: []
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
            case 10: {
              obj.imageId = reader.string()
              break
            }
            case 15: {
              obj.files = TaskFiles.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.files
              })
              break
            }
            case 20: {
              if (opts.limits?.imageHolders != null && obj.imageHolders.length === opts.limits.imageHolders) {
                throw new MaxLengthError('Decode error - repeated field "imageHolders" had too many elements')
              }

              obj.imageHolders.push(reader.string())
              break
            }
            case 21: {
              obj.imageGrant = reader.string()
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
          labels: 0,
          imageHolders: 0
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
            case 10: {
              yield {
                field: `${prefix}.imageId`,
                value: reader.string()
              }
              break
            }
            case 15: {
              yield * TaskFiles.codec().stream(reader, reader.uint32(), `${prefix}.files`, {
                limits: opts.limits?.files
              })

              break
            }
            case 20: {
              if (opts.limits?.imageHolders != null && obj.imageHolders === opts.limits.imageHolders) {
                throw new MaxLengthError('Streaming decode error - repeated field "imageHolders" had too many elements')
              }

              yield {
                field: `${prefix}.imageHolders[]`,
                index: obj.imageHolders,
                value: reader.string()
              }

              obj.imageHolders++

              break
            }
            case 21: {
              yield {
                field: `${prefix}.imageGrant`,
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

  export interface TaskSpecImageIdFieldEvent {
    field: '$.imageId'
    value: string
  }

  export interface TaskSpecFilesInputsTargetFieldEvent {
    field: '$.files.inputs[].target'
    value: string
    index: number
  }

  export interface TaskSpecFilesOutputsFieldEvent {
    field: '$.files.outputs[]'
    index: number
    value: string
  }

  export interface TaskSpecFilesOutputLimitBytesFieldEvent {
    field: '$.files.outputLimitBytes'
    value: number
  }

  export interface TaskSpecImageHoldersFieldEvent {
    field: '$.imageHolders[]'
    index: number
    value: string
  }

  export interface TaskSpecImageGrantFieldEvent {
    field: '$.imageGrant'
    value: string
  }

  export function encode (obj: Partial<TaskSpec>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskSpec.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskSpec>): TaskSpec {
    return decodeMessage(buf, TaskSpec.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskSpec>): Generator<TaskSpecIdFieldEvent | TaskSpecImageFieldEvent | TaskSpecCommandFieldEvent | TaskSpecEnvFieldEvent | TaskSpecResourcesCpuFieldEvent | TaskSpecResourcesMemoryBytesFieldEvent | TaskSpecResourcesStorageBytesFieldEvent | TaskSpecResourcesGpusFieldEvent | TaskSpecNetworkFieldEvent | TaskSpecTimeoutMsFieldEvent | TaskSpecLabelsFieldEvent | TaskSpecAttemptFieldEvent | TaskSpecImageIdFieldEvent | TaskSpecFilesInputsTargetFieldEvent | TaskSpecFilesOutputsFieldEvent | TaskSpecFilesOutputLimitBytesFieldEvent | TaskSpecImageHoldersFieldEvent | TaskSpecImageGrantFieldEvent> {
    return streamMessage(buf, TaskSpec.codec(), opts)
  }
}

export interface TaskFiles {
  inputs: InputTarget[]
  outputs: string[]
  outputLimitBytes: number
}

export namespace TaskFiles {
  let _codec: Codec<TaskFiles>

  export const codec = (): Codec<TaskFiles> => {
    if (_codec == null) {
      _codec = message<TaskFiles>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.inputs != null && obj.inputs.length > 0) {
          for (const value of obj.inputs) {
            w.uint32(10)
            InputTarget.codec().encode(value, w)
          }
        }

        if (obj.outputs != null && obj.outputs.length > 0) {
          for (const value of obj.outputs) {
            w.uint32(18)
            w.string(value)
          }
        }

        if ((obj.outputLimitBytes != null && obj.outputLimitBytes !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.outputLimitBytes)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          inputs: [],
          outputs: [],
          outputLimitBytes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.inputs != null && obj.inputs.length === opts.limits.inputs) {
                throw new MaxLengthError('Decode error - repeated field "inputs" had too many elements')
              }

              obj.inputs.push(InputTarget.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.inputs$
              }))
              break
            }
            case 2: {
              if (opts.limits?.outputs != null && obj.outputs.length === opts.limits.outputs) {
                throw new MaxLengthError('Decode error - repeated field "outputs" had too many elements')
              }

              obj.outputs.push(reader.string())
              break
            }
            case 3: {
              obj.outputLimitBytes = reader.uint64Number()
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
          inputs: 0,
          outputs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.inputs != null && obj.inputs === opts.limits.inputs) {
                throw new MaxLengthError('Streaming decode error - repeated field "inputs" had too many elements')
              }

              for (const evt of InputTarget.codec().stream(reader, reader.uint32(), `${prefix}.inputs[]`, {
                limits: opts.limits?.inputs$
              })) {
                yield {
                  ...evt,
                  index: obj.inputs
                }
              }

              obj.inputs++

              break
            }
            case 2: {
              if (opts.limits?.outputs != null && obj.outputs === opts.limits.outputs) {
                throw new MaxLengthError('Streaming decode error - repeated field "outputs" had too many elements')
              }

              yield {
                field: `${prefix}.outputs[]`,
                index: obj.outputs,
                value: reader.string()
              }

              obj.outputs++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.outputLimitBytes`,
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

  export interface TaskFilesInputsTargetFieldEvent {
    field: '$.inputs[].target'
    value: string
    index: number
  }

  export interface TaskFilesOutputsFieldEvent {
    field: '$.outputs[]'
    index: number
    value: string
  }

  export interface TaskFilesOutputLimitBytesFieldEvent {
    field: '$.outputLimitBytes'
    value: number
  }

  export function encode (obj: Partial<TaskFiles>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskFiles.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskFiles>): TaskFiles {
    return decodeMessage(buf, TaskFiles.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskFiles>): Generator<TaskFilesInputsTargetFieldEvent | TaskFilesOutputsFieldEvent | TaskFilesOutputLimitBytesFieldEvent> {
    return streamMessage(buf, TaskFiles.codec(), opts)
  }
}

export interface InputTarget {
  target: string
}

export namespace InputTarget {
  let _codec: Codec<InputTarget>

  export const codec = (): Codec<InputTarget> => {
    if (_codec == null) {
      _codec = message<InputTarget>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.target != null && obj.target !== '')) {
          w.uint32(10)
          w.string(obj.target)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          target: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.target = reader.string()
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
                field: `${prefix}.target`,
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

  export interface InputTargetTargetFieldEvent {
    field: '$.target'
    value: string
  }

  export function encode (obj: Partial<InputTarget>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, InputTarget.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InputTarget>): InputTarget {
    return decodeMessage(buf, InputTarget.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InputTarget>): Generator<InputTargetTargetFieldEvent> {
    return streamMessage(buf, InputTarget.codec(), opts)
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

  export interface SubmitSpecImageIdFieldEvent {
    field: '$.spec.imageId'
    value: string
  }

  export interface SubmitSpecFilesInputsTargetFieldEvent {
    field: '$.spec.files.inputs[].target'
    value: string
    index: number
  }

  export interface SubmitSpecFilesOutputsFieldEvent {
    field: '$.spec.files.outputs[]'
    index: number
    value: string
  }

  export interface SubmitSpecFilesOutputLimitBytesFieldEvent {
    field: '$.spec.files.outputLimitBytes'
    value: number
  }

  export interface SubmitSpecImageHoldersFieldEvent {
    field: '$.spec.imageHolders[]'
    index: number
    value: string
  }

  export interface SubmitSpecImageGrantFieldEvent {
    field: '$.spec.imageGrant'
    value: string
  }

  export function encode (obj: Partial<Submit>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Submit.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Submit>): Submit {
    return decodeMessage(buf, Submit.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Submit>): Generator<SubmitSpecIdFieldEvent | SubmitSpecImageFieldEvent | SubmitSpecCommandFieldEvent | SubmitSpecEnvFieldEvent | SubmitSpecResourcesCpuFieldEvent | SubmitSpecResourcesMemoryBytesFieldEvent | SubmitSpecResourcesStorageBytesFieldEvent | SubmitSpecResourcesGpusFieldEvent | SubmitSpecNetworkFieldEvent | SubmitSpecTimeoutMsFieldEvent | SubmitSpecLabelsFieldEvent | SubmitSpecAttemptFieldEvent | SubmitSpecImageIdFieldEvent | SubmitSpecFilesInputsTargetFieldEvent | SubmitSpecFilesOutputsFieldEvent | SubmitSpecFilesOutputLimitBytesFieldEvent | SubmitSpecImageHoldersFieldEvent | SubmitSpecImageGrantFieldEvent> {
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
  taskId?: string
  detach?: boolean
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

        if (obj.taskId != null) {
          w.uint32(322)
          w.string(obj.taskId)
        }

        if (obj.detach != null) {
          w.uint32(328)
          w.bool(obj.detach)
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
            case 40: {
              obj.taskId = reader.string()
              break
            }
            case 41: {
              obj.detach = reader.bool()
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
            case 40: {
              yield {
                field: `${prefix}.taskId`,
                value: reader.string()
              }
              break
            }
            case 41: {
              yield {
                field: `${prefix}.detach`,
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

  export interface MasterMessageSubmitSpecImageIdFieldEvent {
    field: '$.submit.spec.imageId'
    value: string
  }

  export interface MasterMessageSubmitSpecFilesInputsTargetFieldEvent {
    field: '$.submit.spec.files.inputs[].target'
    value: string
    index: number
  }

  export interface MasterMessageSubmitSpecFilesOutputsFieldEvent {
    field: '$.submit.spec.files.outputs[]'
    index: number
    value: string
  }

  export interface MasterMessageSubmitSpecFilesOutputLimitBytesFieldEvent {
    field: '$.submit.spec.files.outputLimitBytes'
    value: number
  }

  export interface MasterMessageSubmitSpecImageHoldersFieldEvent {
    field: '$.submit.spec.imageHolders[]'
    index: number
    value: string
  }

  export interface MasterMessageSubmitSpecImageGrantFieldEvent {
    field: '$.submit.spec.imageGrant'
    value: string
  }

  export interface MasterMessageAckSeqFieldEvent {
    field: '$.ack.seq'
    value: number
  }

  export interface MasterMessageTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface MasterMessageDetachFieldEvent {
    field: '$.detach'
    value: boolean
  }

  export function encode (obj: Partial<MasterMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MasterMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MasterMessage>): MasterMessage {
    return decodeMessage(buf, MasterMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MasterMessage>): Generator<MasterMessageSubmitSpecIdFieldEvent | MasterMessageSubmitSpecImageFieldEvent | MasterMessageSubmitSpecCommandFieldEvent | MasterMessageSubmitSpecEnvFieldEvent | MasterMessageSubmitSpecResourcesCpuFieldEvent | MasterMessageSubmitSpecResourcesMemoryBytesFieldEvent | MasterMessageSubmitSpecResourcesStorageBytesFieldEvent | MasterMessageSubmitSpecResourcesGpusFieldEvent | MasterMessageSubmitSpecNetworkFieldEvent | MasterMessageSubmitSpecTimeoutMsFieldEvent | MasterMessageSubmitSpecLabelsFieldEvent | MasterMessageSubmitSpecAttemptFieldEvent | MasterMessageSubmitSpecImageIdFieldEvent | MasterMessageSubmitSpecFilesInputsTargetFieldEvent | MasterMessageSubmitSpecFilesOutputsFieldEvent | MasterMessageSubmitSpecFilesOutputLimitBytesFieldEvent | MasterMessageSubmitSpecImageHoldersFieldEvent | MasterMessageSubmitSpecImageGrantFieldEvent | MasterMessageAckSeqFieldEvent | MasterMessageTaskIdFieldEvent | MasterMessageDetachFieldEvent> {
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

export enum ImageSourceKind {
  ENGINE = 'ENGINE',
  PEER = 'PEER',
  REGISTRY = 'REGISTRY'
}

enum __ImageSourceKindValues {
  ENGINE = 0,
  PEER = 1,
  REGISTRY = 2
}

export namespace ImageSourceKind {
  export const codec = (): Codec<ImageSourceKind> => {
    return enumeration<ImageSourceKind>(__ImageSourceKindValues)
  }
}

export interface ImageSource {
  kind: ImageSourceKind
  peer: string
}

export namespace ImageSource {
  let _codec: Codec<ImageSource>

  export const codec = (): Codec<ImageSource> => {
    if (_codec == null) {
      _codec = message<ImageSource>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.kind != null && __ImageSourceKindValues[obj.kind] !== 0) {
          w.uint32(8)
          ImageSourceKind.codec().encode(obj.kind, w)
        }

        if ((obj.peer != null && obj.peer !== '')) {
          w.uint32(18)
          w.string(obj.peer)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: ImageSourceKind.ENGINE,
          peer: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = ImageSourceKind.codec().decode(reader)
              break
            }
            case 2: {
              obj.peer = reader.string()
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
                field: `${prefix}.kind`,
                value: ImageSourceKind.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.peer`,
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

  export interface ImageSourceKindFieldEvent {
    field: '$.kind'
    value: ImageSourceKind
  }

  export interface ImageSourcePeerFieldEvent {
    field: '$.peer'
    value: string
  }

  export function encode (obj: Partial<ImageSource>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ImageSource.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageSource>): ImageSource {
    return decodeMessage(buf, ImageSource.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageSource>): Generator<ImageSourceKindFieldEvent | ImageSourcePeerFieldEvent> {
    return streamMessage(buf, ImageSource.codec(), opts)
  }
}

export interface ImageFetchProgress {
  peer: string
  doneBytes: number
  totalBytes: number
  bytesPerSecond: number
}

export namespace ImageFetchProgress {
  let _codec: Codec<ImageFetchProgress>

  export const codec = (): Codec<ImageFetchProgress> => {
    if (_codec == null) {
      _codec = message<ImageFetchProgress>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peer != null && obj.peer !== '')) {
          w.uint32(10)
          w.string(obj.peer)
        }

        if ((obj.doneBytes != null && obj.doneBytes !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.doneBytes)
        }

        if ((obj.totalBytes != null && obj.totalBytes !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.totalBytes)
        }

        if ((obj.bytesPerSecond != null && obj.bytesPerSecond !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.bytesPerSecond)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peer: '',
          doneBytes: 0,
          totalBytes: 0,
          bytesPerSecond: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peer = reader.string()
              break
            }
            case 2: {
              obj.doneBytes = reader.uint64Number()
              break
            }
            case 3: {
              obj.totalBytes = reader.uint64Number()
              break
            }
            case 4: {
              obj.bytesPerSecond = reader.uint64Number()
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
                field: `${prefix}.peer`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.doneBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.totalBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.bytesPerSecond`,
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

  export interface ImageFetchProgressPeerFieldEvent {
    field: '$.peer'
    value: string
  }

  export interface ImageFetchProgressDoneBytesFieldEvent {
    field: '$.doneBytes'
    value: number
  }

  export interface ImageFetchProgressTotalBytesFieldEvent {
    field: '$.totalBytes'
    value: number
  }

  export interface ImageFetchProgressBytesPerSecondFieldEvent {
    field: '$.bytesPerSecond'
    value: number
  }

  export function encode (obj: Partial<ImageFetchProgress>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ImageFetchProgress.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageFetchProgress>): ImageFetchProgress {
    return decodeMessage(buf, ImageFetchProgress.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageFetchProgress>): Generator<ImageFetchProgressPeerFieldEvent | ImageFetchProgressDoneBytesFieldEvent | ImageFetchProgressTotalBytesFieldEvent | ImageFetchProgressBytesPerSecondFieldEvent> {
    return streamMessage(buf, ImageFetchProgress.codec(), opts)
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
  imageFetch?: ImageFetchProgress
  imageSource?: ImageSource
  outputs?: TaskOutputs
  transfer?: FileTransfer
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

        if (obj.imageFetch != null) {
          w.uint32(162)
          ImageFetchProgress.codec().encode(obj.imageFetch, w)
        }

        if (obj.imageSource != null) {
          w.uint32(170)
          ImageSource.codec().encode(obj.imageSource, w)
        }

        if (obj.outputs != null) {
          w.uint32(202)
          TaskOutputs.codec().encode(obj.outputs, w)
        }

        if (obj.transfer != null) {
          w.uint32(210)
          FileTransfer.codec().encode(obj.transfer, w)
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
            case 20: {
              obj.imageFetch = ImageFetchProgress.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.imageFetch
              })
              break
            }
            case 21: {
              obj.imageSource = ImageSource.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.imageSource
              })
              break
            }
            case 25: {
              obj.outputs = TaskOutputs.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.outputs
              })
              break
            }
            case 26: {
              obj.transfer = FileTransfer.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.transfer
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
            case 20: {
              yield * ImageFetchProgress.codec().stream(reader, reader.uint32(), `${prefix}.imageFetch`, {
                limits: opts.limits?.imageFetch
              })

              break
            }
            case 21: {
              yield * ImageSource.codec().stream(reader, reader.uint32(), `${prefix}.imageSource`, {
                limits: opts.limits?.imageSource
              })

              break
            }
            case 25: {
              yield * TaskOutputs.codec().stream(reader, reader.uint32(), `${prefix}.outputs`, {
                limits: opts.limits?.outputs
              })

              break
            }
            case 26: {
              yield * FileTransfer.codec().stream(reader, reader.uint32(), `${prefix}.transfer`, {
                limits: opts.limits?.transfer
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

  export interface TaskEventImageFetchPeerFieldEvent {
    field: '$.imageFetch.peer'
    value: string
  }

  export interface TaskEventImageFetchDoneBytesFieldEvent {
    field: '$.imageFetch.doneBytes'
    value: number
  }

  export interface TaskEventImageFetchTotalBytesFieldEvent {
    field: '$.imageFetch.totalBytes'
    value: number
  }

  export interface TaskEventImageFetchBytesPerSecondFieldEvent {
    field: '$.imageFetch.bytesPerSecond'
    value: number
  }

  export interface TaskEventImageSourceKindFieldEvent {
    field: '$.imageSource.kind'
    value: ImageSourceKind
  }

  export interface TaskEventImageSourcePeerFieldEvent {
    field: '$.imageSource.peer'
    value: string
  }

  export interface TaskEventOutputsSetsPathFieldEvent {
    field: '$.outputs.sets[].path'
    value: string
    index: number
  }

  export interface TaskEventOutputsSetsBytesFieldEvent {
    field: '$.outputs.sets[].bytes'
    value: number
    index: number
  }

  export interface TaskEventOutputsSetsFilesFieldEvent {
    field: '$.outputs.sets[].files'
    value: number
    index: number
  }

  export interface TaskEventOutputsSetsSha256FieldEvent {
    field: '$.outputs.sets[].sha256'
    value: string
    index: number
  }

  export interface TaskEventOutputsSetsCompleteFieldEvent {
    field: '$.outputs.sets[].complete'
    value: boolean
    index: number
  }

  export interface TaskEventOutputsSetsNoteFieldEvent {
    field: '$.outputs.sets[].note'
    value: string
    index: number
  }

  export interface TaskEventTransferDirectionFieldEvent {
    field: '$.transfer.direction'
    value: TransferDirection
  }

  export interface TaskEventTransferDoneBytesFieldEvent {
    field: '$.transfer.doneBytes'
    value: number
  }

  export interface TaskEventTransferDoneFilesFieldEvent {
    field: '$.transfer.doneFiles'
    value: number
  }

  export function encode (obj: Partial<TaskEvent>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskEvent.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskEvent>): TaskEvent {
    return decodeMessage(buf, TaskEvent.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskEvent>): Generator<TaskEventTaskIdFieldEvent | TaskEventSeqFieldEvent | TaskEventTimeMsFieldEvent | TaskEventStateFieldEvent | TaskEventQueuedPositionFieldEvent | TaskEventPullDoneBytesFieldEvent | TaskEventPullTotalBytesFieldEvent | TaskEventContainerIdFieldEvent | TaskEventLogStreamFieldEvent | TaskEventLogDataFieldEvent | TaskEventLogSegmentsStreamFieldEvent | TaskEventLogSegmentsLengthFieldEvent | TaskEventExitCodeFieldEvent | TaskEventExitOomKilledFieldEvent | TaskEventExitTimedOutFieldEvent | TaskEventErrorCodeFieldEvent | TaskEventErrorMessageFieldEvent | TaskEventTruncatedLimitBytesFieldEvent | TaskEventTruncatedCauseFieldEvent | TaskEventImageFetchPeerFieldEvent | TaskEventImageFetchDoneBytesFieldEvent | TaskEventImageFetchTotalBytesFieldEvent | TaskEventImageFetchBytesPerSecondFieldEvent | TaskEventImageSourceKindFieldEvent | TaskEventImageSourcePeerFieldEvent | TaskEventOutputsSetsPathFieldEvent | TaskEventOutputsSetsBytesFieldEvent | TaskEventOutputsSetsFilesFieldEvent | TaskEventOutputsSetsSha256FieldEvent | TaskEventOutputsSetsCompleteFieldEvent | TaskEventOutputsSetsNoteFieldEvent | TaskEventTransferDirectionFieldEvent | TaskEventTransferDoneBytesFieldEvent | TaskEventTransferDoneFilesFieldEvent> {
    return streamMessage(buf, TaskEvent.codec(), opts)
  }
}

export interface TaskOutputs {
  sets: OutputSet[]
}

export namespace TaskOutputs {
  let _codec: Codec<TaskOutputs>

  export const codec = (): Codec<TaskOutputs> => {
    if (_codec == null) {
      _codec = message<TaskOutputs>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.sets != null && obj.sets.length > 0) {
          for (const value of obj.sets) {
            w.uint32(10)
            OutputSet.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          sets: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.sets != null && obj.sets.length === opts.limits.sets) {
                throw new MaxLengthError('Decode error - repeated field "sets" had too many elements')
              }

              obj.sets.push(OutputSet.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.sets$
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
          sets: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.sets != null && obj.sets === opts.limits.sets) {
                throw new MaxLengthError('Streaming decode error - repeated field "sets" had too many elements')
              }

              for (const evt of OutputSet.codec().stream(reader, reader.uint32(), `${prefix}.sets[]`, {
                limits: opts.limits?.sets$
              })) {
                yield {
                  ...evt,
                  index: obj.sets
                }
              }

              obj.sets++

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

  export interface TaskOutputsSetsPathFieldEvent {
    field: '$.sets[].path'
    value: string
    index: number
  }

  export interface TaskOutputsSetsBytesFieldEvent {
    field: '$.sets[].bytes'
    value: number
    index: number
  }

  export interface TaskOutputsSetsFilesFieldEvent {
    field: '$.sets[].files'
    value: number
    index: number
  }

  export interface TaskOutputsSetsSha256FieldEvent {
    field: '$.sets[].sha256'
    value: string
    index: number
  }

  export interface TaskOutputsSetsCompleteFieldEvent {
    field: '$.sets[].complete'
    value: boolean
    index: number
  }

  export interface TaskOutputsSetsNoteFieldEvent {
    field: '$.sets[].note'
    value: string
    index: number
  }

  export function encode (obj: Partial<TaskOutputs>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskOutputs.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskOutputs>): TaskOutputs {
    return decodeMessage(buf, TaskOutputs.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskOutputs>): Generator<TaskOutputsSetsPathFieldEvent | TaskOutputsSetsBytesFieldEvent | TaskOutputsSetsFilesFieldEvent | TaskOutputsSetsSha256FieldEvent | TaskOutputsSetsCompleteFieldEvent | TaskOutputsSetsNoteFieldEvent> {
    return streamMessage(buf, TaskOutputs.codec(), opts)
  }
}

export interface OutputSet {
  path: string
  bytes: number
  files: number
  sha256: string
  complete: boolean
  note: string
}

export namespace OutputSet {
  let _codec: Codec<OutputSet>

  export const codec = (): Codec<OutputSet> => {
    if (_codec == null) {
      _codec = message<OutputSet>((obj, w, opts = {}) => {
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

  export interface OutputSetPathFieldEvent {
    field: '$.path'
    value: string
  }

  export interface OutputSetBytesFieldEvent {
    field: '$.bytes'
    value: number
  }

  export interface OutputSetFilesFieldEvent {
    field: '$.files'
    value: number
  }

  export interface OutputSetSha256FieldEvent {
    field: '$.sha256'
    value: string
  }

  export interface OutputSetCompleteFieldEvent {
    field: '$.complete'
    value: boolean
  }

  export interface OutputSetNoteFieldEvent {
    field: '$.note'
    value: string
  }

  export function encode (obj: Partial<OutputSet>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, OutputSet.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<OutputSet>): OutputSet {
    return decodeMessage(buf, OutputSet.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<OutputSet>): Generator<OutputSetPathFieldEvent | OutputSetBytesFieldEvent | OutputSetFilesFieldEvent | OutputSetSha256FieldEvent | OutputSetCompleteFieldEvent | OutputSetNoteFieldEvent> {
    return streamMessage(buf, OutputSet.codec(), opts)
  }
}

export enum TransferDirection {
  INPUTS = 'INPUTS',
  OUTPUTS = 'OUTPUTS'
}

enum __TransferDirectionValues {
  INPUTS = 0,
  OUTPUTS = 1
}

export namespace TransferDirection {
  export const codec = (): Codec<TransferDirection> => {
    return enumeration<TransferDirection>(__TransferDirectionValues)
  }
}

export interface FileTransfer {
  direction: TransferDirection
  doneBytes: number
  doneFiles: number
}

export namespace FileTransfer {
  let _codec: Codec<FileTransfer>

  export const codec = (): Codec<FileTransfer> => {
    if (_codec == null) {
      _codec = message<FileTransfer>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.direction != null && __TransferDirectionValues[obj.direction] !== 0) {
          w.uint32(8)
          TransferDirection.codec().encode(obj.direction, w)
        }

        if ((obj.doneBytes != null && obj.doneBytes !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.doneBytes)
        }

        if ((obj.doneFiles != null && obj.doneFiles !== 0)) {
          w.uint32(24)
          w.uint32(obj.doneFiles)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          direction: TransferDirection.INPUTS,
          doneBytes: 0,
          doneFiles: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.direction = TransferDirection.codec().decode(reader)
              break
            }
            case 2: {
              obj.doneBytes = reader.uint64Number()
              break
            }
            case 3: {
              obj.doneFiles = reader.uint32()
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
                field: `${prefix}.direction`,
                value: TransferDirection.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.doneBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.doneFiles`,
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

  export interface FileTransferDirectionFieldEvent {
    field: '$.direction'
    value: TransferDirection
  }

  export interface FileTransferDoneBytesFieldEvent {
    field: '$.doneBytes'
    value: number
  }

  export interface FileTransferDoneFilesFieldEvent {
    field: '$.doneFiles'
    value: number
  }

  export function encode (obj: Partial<FileTransfer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FileTransfer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileTransfer>): FileTransfer {
    return decodeMessage(buf, FileTransfer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileTransfer>): Generator<FileTransferDirectionFieldEvent | FileTransferDoneBytesFieldEvent | FileTransferDoneFilesFieldEvent> {
    return streamMessage(buf, FileTransfer.codec(), opts)
  }
}
