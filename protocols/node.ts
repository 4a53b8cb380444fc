import { decodeMessage, encodeMessage, MaxLengthError, MaxSizeError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Resources {
  cpu: number
  memoryBytes: number
  storageBytes: number
  gpus: number
}

export namespace Resources {
  let _codec: Codec<Resources>

  export const codec = (): Codec<Resources> => {
    if (_codec == null) {
      _codec = message<Resources>((obj, w, opts = {}) => {
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

  export interface ResourcesCpuFieldEvent {
    field: '$.cpu'
    value: number
  }

  export interface ResourcesMemoryBytesFieldEvent {
    field: '$.memoryBytes'
    value: number
  }

  export interface ResourcesStorageBytesFieldEvent {
    field: '$.storageBytes'
    value: number
  }

  export interface ResourcesGpusFieldEvent {
    field: '$.gpus'
    value: number
  }

  export function encode (obj: Partial<Resources>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Resources.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Resources>): Resources {
    return decodeMessage(buf, Resources.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Resources>): Generator<ResourcesCpuFieldEvent | ResourcesMemoryBytesFieldEvent | ResourcesStorageBytesFieldEvent | ResourcesGpusFieldEvent> {
    return streamMessage(buf, Resources.codec(), opts)
  }
}

export interface PeerHint {
  peerId: Uint8Array<ArrayBuffer>
  addrs: Uint8Array<ArrayBuffer>[]
  status?: MemberSummary
}

export namespace PeerHint {
  let _codec: Codec<PeerHint>

  export const codec = (): Codec<PeerHint> => {
    if (_codec == null) {
      _codec = message<PeerHint>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.peerId)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if (obj.status != null) {
          w.uint32(26)
          MemberSummary.codec().encode(obj.status, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: uint8ArrayAlloc(0),
          addrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peerId = reader.bytes()
              break
            }
            case 2: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 3: {
              obj.status = MemberSummary.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.status
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
        const obj = {
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.peerId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            case 3: {
              yield * MemberSummary.codec().stream(reader, reader.uint32(), `${prefix}.status`, {
                limits: opts.limits?.status
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

  export interface PeerHintPeerIdFieldEvent {
    field: '$.peerId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PeerHintAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface PeerHintStatusNameFieldEvent {
    field: '$.status.name'
    value: string
  }

  export interface PeerHintStatusVersionFieldEvent {
    field: '$.status.version'
    value: string
  }

  export interface PeerHintStatusCapacityCpuFieldEvent {
    field: '$.status.capacity.cpu'
    value: number
  }

  export interface PeerHintStatusCapacityMemoryBytesFieldEvent {
    field: '$.status.capacity.memoryBytes'
    value: number
  }

  export interface PeerHintStatusCapacityStorageBytesFieldEvent {
    field: '$.status.capacity.storageBytes'
    value: number
  }

  export interface PeerHintStatusCapacityGpusFieldEvent {
    field: '$.status.capacity.gpus'
    value: number
  }

  export interface PeerHintStatusAllocatedCpuFieldEvent {
    field: '$.status.allocated.cpu'
    value: number
  }

  export interface PeerHintStatusAllocatedMemoryBytesFieldEvent {
    field: '$.status.allocated.memoryBytes'
    value: number
  }

  export interface PeerHintStatusAllocatedStorageBytesFieldEvent {
    field: '$.status.allocated.storageBytes'
    value: number
  }

  export interface PeerHintStatusAllocatedGpusFieldEvent {
    field: '$.status.allocated.gpus'
    value: number
  }

  export interface PeerHintStatusRunningFieldEvent {
    field: '$.status.running'
    value: number
  }

  export interface PeerHintStatusQueuedFieldEvent {
    field: '$.status.queued'
    value: number
  }

  export interface PeerHintStatusLabelsFieldEvent {
    field: '$.status.labels{}'
    key: string
    value: string
  }

  export interface PeerHintStatusExecutorHealthyFieldEvent {
    field: '$.status.executorHealthy'
    value: boolean
  }

  export interface PeerHintStatusExecutorDetailFieldEvent {
    field: '$.status.executorDetail'
    value: string
  }

  export interface PeerHintStatusStorageEnforcedFieldEvent {
    field: '$.status.storageEnforced'
    value: boolean
  }

  export function encode (obj: Partial<PeerHint>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PeerHint.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeerHint>): PeerHint {
    return decodeMessage(buf, PeerHint.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeerHint>): Generator<PeerHintPeerIdFieldEvent | PeerHintAddrsFieldEvent | PeerHintStatusNameFieldEvent | PeerHintStatusVersionFieldEvent | PeerHintStatusCapacityCpuFieldEvent | PeerHintStatusCapacityMemoryBytesFieldEvent | PeerHintStatusCapacityStorageBytesFieldEvent | PeerHintStatusCapacityGpusFieldEvent | PeerHintStatusAllocatedCpuFieldEvent | PeerHintStatusAllocatedMemoryBytesFieldEvent | PeerHintStatusAllocatedStorageBytesFieldEvent | PeerHintStatusAllocatedGpusFieldEvent | PeerHintStatusRunningFieldEvent | PeerHintStatusQueuedFieldEvent | PeerHintStatusLabelsFieldEvent | PeerHintStatusExecutorHealthyFieldEvent | PeerHintStatusExecutorDetailFieldEvent | PeerHintStatusStorageEnforcedFieldEvent> {
    return streamMessage(buf, PeerHint.codec(), opts)
  }
}

export interface MemberSummary {
  name: string
  version: string
  capacity?: Resources
  allocated?: Resources
  running: number
  queued: number
  labels: Map<string, string>
  executorHealthy: boolean
  executorDetail: string
  storageEnforced: boolean
}

export namespace MemberSummary {
  export interface MemberSummary$labelsEntry {
    key: string
    value: string
  }

  export namespace MemberSummary$labelsEntry {
    let _codec: Codec<MemberSummary$labelsEntry>

    export const codec = (): Codec<MemberSummary$labelsEntry> => {
      if (_codec == null) {
        _codec = message<MemberSummary$labelsEntry>((obj, w, opts = {}) => {
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

    export interface MemberSummary$labelsEntryKeyFieldEvent {
      field: '$.key'
      value: string
    }

    export interface MemberSummary$labelsEntryValueFieldEvent {
      field: '$.value'
      value: string
    }

    export function encode (obj: Partial<MemberSummary$labelsEntry>): Uint8Array<ArrayBuffer> {
      return encodeMessage(obj, MemberSummary$labelsEntry.codec())
    }

    export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MemberSummary$labelsEntry>): MemberSummary$labelsEntry {
      return decodeMessage(buf, MemberSummary$labelsEntry.codec(), opts)
    }

    export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MemberSummary$labelsEntry>): Generator<MemberSummary$labelsEntryKeyFieldEvent | MemberSummary$labelsEntryValueFieldEvent> {
      return streamMessage(buf, MemberSummary$labelsEntry.codec(), opts)
    }
  }

  let _codec: Codec<MemberSummary>

  export const codec = (): Codec<MemberSummary> => {
    if (_codec == null) {
      _codec = message<MemberSummary>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.version != null && obj.version !== '')) {
          w.uint32(18)
          w.string(obj.version)
        }

        if (obj.capacity != null) {
          w.uint32(26)
          Resources.codec().encode(obj.capacity, w)
        }

        if (obj.allocated != null) {
          w.uint32(34)
          Resources.codec().encode(obj.allocated, w)
        }

        if ((obj.running != null && obj.running !== 0)) {
          w.uint32(40)
          w.uint32(obj.running)
        }

        if ((obj.queued != null && obj.queued !== 0)) {
          w.uint32(48)
          w.uint32(obj.queued)
        }

        if (obj.labels != null && obj.labels.size > 0) {
          for (const [key, value] of obj.labels.entries()) {
            w.uint32(58)
            MemberSummary.MemberSummary$labelsEntry.codec().encode({ key, value }, w)
          }
        }

        if ((obj.executorHealthy != null && obj.executorHealthy !== false)) {
          w.uint32(64)
          w.bool(obj.executorHealthy)
        }

        if ((obj.executorDetail != null && obj.executorDetail !== '')) {
          w.uint32(74)
          w.string(obj.executorDetail)
        }

        if ((obj.storageEnforced != null && obj.storageEnforced !== false)) {
          w.uint32(80)
          w.bool(obj.storageEnforced)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          version: '',
          running: 0,
          queued: 0,
          labels: new Map<string, string>(),
          executorHealthy: false,
          executorDetail: '',
          storageEnforced: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.version = reader.string()
              break
            }
            case 3: {
              obj.capacity = Resources.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.capacity
              })
              break
            }
            case 4: {
              obj.allocated = Resources.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.allocated
              })
              break
            }
            case 5: {
              obj.running = reader.uint32()
              break
            }
            case 6: {
              obj.queued = reader.uint32()
              break
            }
            case 7: {
              if (opts.limits?.labels != null && obj.labels.size === opts.limits.labels) {
                throw new MaxSizeError('Decode error - map field "labels" had too many elements')
              }

              const entry = MemberSummary.MemberSummary$labelsEntry.codec().decode(reader, reader.uint32(), {
                limits: {
                  value: opts.limits?.labels$value
                }
              })
              obj.labels.set(entry.key, entry.value)
              break
            }
            case 8: {
              obj.executorHealthy = reader.bool()
              break
            }
            case 9: {
              obj.executorDetail = reader.string()
              break
            }
            case 10: {
              obj.storageEnforced = reader.bool()
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
          labels: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.version`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield * Resources.codec().stream(reader, reader.uint32(), `${prefix}.capacity`, {
                limits: opts.limits?.capacity
              })

              break
            }
            case 4: {
              yield * Resources.codec().stream(reader, reader.uint32(), `${prefix}.allocated`, {
                limits: opts.limits?.allocated
              })

              break
            }
            case 5: {
              yield {
                field: `${prefix}.running`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.queued`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              if (opts.limits?.labels != null && obj.labels === opts.limits.labels) {
                throw new MaxLengthError('Decode error - map field "labels" had too many elements')
              }

              yield * MemberSummary.MemberSummary$labelsEntry.codec().stream(reader, reader.uint32(), `${prefix}.labels{}`, {
                limits: {
                  value: opts.limits?.labels$value
                }
              })

              obj.labels++

              break
            }
            case 8: {
              yield {
                field: `${prefix}.executorHealthy`,
                value: reader.bool()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.executorDetail`,
                value: reader.string()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.storageEnforced`,
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

  export interface MemberSummaryNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface MemberSummaryVersionFieldEvent {
    field: '$.version'
    value: string
  }

  export interface MemberSummaryCapacityCpuFieldEvent {
    field: '$.capacity.cpu'
    value: number
  }

  export interface MemberSummaryCapacityMemoryBytesFieldEvent {
    field: '$.capacity.memoryBytes'
    value: number
  }

  export interface MemberSummaryCapacityStorageBytesFieldEvent {
    field: '$.capacity.storageBytes'
    value: number
  }

  export interface MemberSummaryCapacityGpusFieldEvent {
    field: '$.capacity.gpus'
    value: number
  }

  export interface MemberSummaryAllocatedCpuFieldEvent {
    field: '$.allocated.cpu'
    value: number
  }

  export interface MemberSummaryAllocatedMemoryBytesFieldEvent {
    field: '$.allocated.memoryBytes'
    value: number
  }

  export interface MemberSummaryAllocatedStorageBytesFieldEvent {
    field: '$.allocated.storageBytes'
    value: number
  }

  export interface MemberSummaryAllocatedGpusFieldEvent {
    field: '$.allocated.gpus'
    value: number
  }

  export interface MemberSummaryRunningFieldEvent {
    field: '$.running'
    value: number
  }

  export interface MemberSummaryQueuedFieldEvent {
    field: '$.queued'
    value: number
  }

  export interface MemberSummaryLabelsFieldEvent {
    field: '$.labels{}'
    key: string
    value: string
  }

  export interface MemberSummaryExecutorHealthyFieldEvent {
    field: '$.executorHealthy'
    value: boolean
  }

  export interface MemberSummaryExecutorDetailFieldEvent {
    field: '$.executorDetail'
    value: string
  }

  export interface MemberSummaryStorageEnforcedFieldEvent {
    field: '$.storageEnforced'
    value: boolean
  }

  export function encode (obj: Partial<MemberSummary>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MemberSummary.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MemberSummary>): MemberSummary {
    return decodeMessage(buf, MemberSummary.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MemberSummary>): Generator<MemberSummaryNameFieldEvent | MemberSummaryVersionFieldEvent | MemberSummaryCapacityCpuFieldEvent | MemberSummaryCapacityMemoryBytesFieldEvent | MemberSummaryCapacityStorageBytesFieldEvent | MemberSummaryCapacityGpusFieldEvent | MemberSummaryAllocatedCpuFieldEvent | MemberSummaryAllocatedMemoryBytesFieldEvent | MemberSummaryAllocatedStorageBytesFieldEvent | MemberSummaryAllocatedGpusFieldEvent | MemberSummaryRunningFieldEvent | MemberSummaryQueuedFieldEvent | MemberSummaryLabelsFieldEvent | MemberSummaryExecutorHealthyFieldEvent | MemberSummaryExecutorDetailFieldEvent | MemberSummaryStorageEnforcedFieldEvent> {
    return streamMessage(buf, MemberSummary.codec(), opts)
  }
}

export interface StatusRequest {
  link?: boolean
  sender?: Status
}

export namespace StatusRequest {
  let _codec: Codec<StatusRequest>

  export const codec = (): Codec<StatusRequest> => {
    if (_codec == null) {
      _codec = message<StatusRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.link != null) {
          w.uint32(8)
          w.bool(obj.link)
        }

        if (obj.sender != null) {
          w.uint32(18)
          Status.codec().encode(obj.sender, w)
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
              obj.link = reader.bool()
              break
            }
            case 2: {
              obj.sender = Status.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.sender
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
                field: `${prefix}.link`,
                value: reader.bool()
              }
              break
            }
            case 2: {
              yield * Status.codec().stream(reader, reader.uint32(), `${prefix}.sender`, {
                limits: opts.limits?.sender
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

  export interface StatusRequestLinkFieldEvent {
    field: '$.link'
    value: boolean
  }

  export interface StatusRequestSenderNameFieldEvent {
    field: '$.sender.name'
    value: string
  }

  export interface StatusRequestSenderVersionFieldEvent {
    field: '$.sender.version'
    value: string
  }

  export interface StatusRequestSenderCapacityCpuFieldEvent {
    field: '$.sender.capacity.cpu'
    value: number
  }

  export interface StatusRequestSenderCapacityMemoryBytesFieldEvent {
    field: '$.sender.capacity.memoryBytes'
    value: number
  }

  export interface StatusRequestSenderCapacityStorageBytesFieldEvent {
    field: '$.sender.capacity.storageBytes'
    value: number
  }

  export interface StatusRequestSenderCapacityGpusFieldEvent {
    field: '$.sender.capacity.gpus'
    value: number
  }

  export interface StatusRequestSenderAllocatedCpuFieldEvent {
    field: '$.sender.allocated.cpu'
    value: number
  }

  export interface StatusRequestSenderAllocatedMemoryBytesFieldEvent {
    field: '$.sender.allocated.memoryBytes'
    value: number
  }

  export interface StatusRequestSenderAllocatedStorageBytesFieldEvent {
    field: '$.sender.allocated.storageBytes'
    value: number
  }

  export interface StatusRequestSenderAllocatedGpusFieldEvent {
    field: '$.sender.allocated.gpus'
    value: number
  }

  export interface StatusRequestSenderRunningFieldEvent {
    field: '$.sender.running'
    value: number
  }

  export interface StatusRequestSenderQueuedFieldEvent {
    field: '$.sender.queued'
    value: number
  }

  export interface StatusRequestSenderLabelsFieldEvent {
    field: '$.sender.labels{}'
    key: string
    value: string
  }

  export interface StatusRequestSenderExecutorHealthyFieldEvent {
    field: '$.sender.executorHealthy'
    value: boolean
  }

  export interface StatusRequestSenderExecutorDetailFieldEvent {
    field: '$.sender.executorDetail'
    value: string
  }

  export interface StatusRequestSenderStorageEnforcedFieldEvent {
    field: '$.sender.storageEnforced'
    value: boolean
  }

  export interface StatusRequestSenderMembersPeerIdFieldEvent {
    field: '$.sender.members[].peerId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface StatusRequestSenderMembersAddrsFieldEvent {
    field: '$.sender.members[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface StatusRequestSenderMembersStatusNameFieldEvent {
    field: '$.sender.members[].status.name'
    value: string
    index: number
  }

  export interface StatusRequestSenderMembersStatusVersionFieldEvent {
    field: '$.sender.members[].status.version'
    value: string
    index: number
  }

  export interface StatusRequestSenderMembersStatusCapacityCpuFieldEvent {
    field: '$.sender.members[].status.capacity.cpu'
    value: number
    index: number
  }

  export interface StatusRequestSenderMembersStatusCapacityMemoryBytesFieldEvent {
    field: '$.sender.members[].status.capacity.memoryBytes'
    value: number
    index: number
  }

  export interface StatusRequestSenderMembersStatusCapacityStorageBytesFieldEvent {
    field: '$.sender.members[].status.capacity.storageBytes'
    value: number
    index: number
  }

  export interface StatusRequestSenderMembersStatusCapacityGpusFieldEvent {
    field: '$.sender.members[].status.capacity.gpus'
    value: number
    index: number
  }

  export interface StatusRequestSenderMembersStatusAllocatedCpuFieldEvent {
    field: '$.sender.members[].status.allocated.cpu'
    value: number
    index: number
  }

  export interface StatusRequestSenderMembersStatusAllocatedMemoryBytesFieldEvent {
    field: '$.sender.members[].status.allocated.memoryBytes'
    value: number
    index: number
  }

  export interface StatusRequestSenderMembersStatusAllocatedStorageBytesFieldEvent {
    field: '$.sender.members[].status.allocated.storageBytes'
    value: number
    index: number
  }

  export interface StatusRequestSenderMembersStatusAllocatedGpusFieldEvent {
    field: '$.sender.members[].status.allocated.gpus'
    value: number
    index: number
  }

  export interface StatusRequestSenderMembersStatusRunningFieldEvent {
    field: '$.sender.members[].status.running'
    value: number
    index: number
  }

  export interface StatusRequestSenderMembersStatusQueuedFieldEvent {
    field: '$.sender.members[].status.queued'
    value: number
    index: number
  }

  export interface StatusRequestSenderMembersStatusLabelsFieldEvent {
    field: '$.sender.members[].status.labels{}'
    key: string
    value: string
    index: number
  }

  export interface StatusRequestSenderMembersStatusExecutorHealthyFieldEvent {
    field: '$.sender.members[].status.executorHealthy'
    value: boolean
    index: number
  }

  export interface StatusRequestSenderMembersStatusExecutorDetailFieldEvent {
    field: '$.sender.members[].status.executorDetail'
    value: string
    index: number
  }

  export interface StatusRequestSenderMembersStatusStorageEnforcedFieldEvent {
    field: '$.sender.members[].status.storageEnforced'
    value: boolean
    index: number
  }

  export interface StatusRequestSenderImageIdsFieldEvent {
    field: '$.sender.imageIds[]'
    index: number
    value: string
  }

  export interface StatusRequestSenderListenAddrsFieldEvent {
    field: '$.sender.listenAddrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<StatusRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, StatusRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StatusRequest>): StatusRequest {
    return decodeMessage(buf, StatusRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StatusRequest>): Generator<StatusRequestLinkFieldEvent | StatusRequestSenderNameFieldEvent | StatusRequestSenderVersionFieldEvent | StatusRequestSenderCapacityCpuFieldEvent | StatusRequestSenderCapacityMemoryBytesFieldEvent | StatusRequestSenderCapacityStorageBytesFieldEvent | StatusRequestSenderCapacityGpusFieldEvent | StatusRequestSenderAllocatedCpuFieldEvent | StatusRequestSenderAllocatedMemoryBytesFieldEvent | StatusRequestSenderAllocatedStorageBytesFieldEvent | StatusRequestSenderAllocatedGpusFieldEvent | StatusRequestSenderRunningFieldEvent | StatusRequestSenderQueuedFieldEvent | StatusRequestSenderLabelsFieldEvent | StatusRequestSenderExecutorHealthyFieldEvent | StatusRequestSenderExecutorDetailFieldEvent | StatusRequestSenderStorageEnforcedFieldEvent | StatusRequestSenderMembersPeerIdFieldEvent | StatusRequestSenderMembersAddrsFieldEvent | StatusRequestSenderMembersStatusNameFieldEvent | StatusRequestSenderMembersStatusVersionFieldEvent | StatusRequestSenderMembersStatusCapacityCpuFieldEvent | StatusRequestSenderMembersStatusCapacityMemoryBytesFieldEvent | StatusRequestSenderMembersStatusCapacityStorageBytesFieldEvent | StatusRequestSenderMembersStatusCapacityGpusFieldEvent | StatusRequestSenderMembersStatusAllocatedCpuFieldEvent | StatusRequestSenderMembersStatusAllocatedMemoryBytesFieldEvent | StatusRequestSenderMembersStatusAllocatedStorageBytesFieldEvent | StatusRequestSenderMembersStatusAllocatedGpusFieldEvent | StatusRequestSenderMembersStatusRunningFieldEvent | StatusRequestSenderMembersStatusQueuedFieldEvent | StatusRequestSenderMembersStatusLabelsFieldEvent | StatusRequestSenderMembersStatusExecutorHealthyFieldEvent | StatusRequestSenderMembersStatusExecutorDetailFieldEvent | StatusRequestSenderMembersStatusStorageEnforcedFieldEvent | StatusRequestSenderImageIdsFieldEvent | StatusRequestSenderListenAddrsFieldEvent> {
    return streamMessage(buf, StatusRequest.codec(), opts)
  }
}

export interface AttachRequest {
  taskId: string
  fromSeq: number
}

export namespace AttachRequest {
  let _codec: Codec<AttachRequest>

  export const codec = (): Codec<AttachRequest> => {
    if (_codec == null) {
      _codec = message<AttachRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(10)
          w.string(obj.taskId)
        }

        if ((obj.fromSeq != null && obj.fromSeq !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.fromSeq)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: '',
          fromSeq: 0
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
              obj.fromSeq = reader.uint64Number()
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
                field: `${prefix}.fromSeq`,
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

  export interface AttachRequestTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface AttachRequestFromSeqFieldEvent {
    field: '$.fromSeq'
    value: number
  }

  export function encode (obj: Partial<AttachRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AttachRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AttachRequest>): AttachRequest {
    return decodeMessage(buf, AttachRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AttachRequest>): Generator<AttachRequestTaskIdFieldEvent | AttachRequestFromSeqFieldEvent> {
    return streamMessage(buf, AttachRequest.codec(), opts)
  }
}

export interface CancelRequest {
  taskId: string
}

export namespace CancelRequest {
  let _codec: Codec<CancelRequest>

  export const codec = (): Codec<CancelRequest> => {
    if (_codec == null) {
      _codec = message<CancelRequest>((obj, w, opts = {}) => {
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

  export interface CancelRequestTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export function encode (obj: Partial<CancelRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CancelRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CancelRequest>): CancelRequest {
    return decodeMessage(buf, CancelRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CancelRequest>): Generator<CancelRequestTaskIdFieldEvent> {
    return streamMessage(buf, CancelRequest.codec(), opts)
  }
}

export interface NodeRequest {
  status?: StatusRequest
  attach?: AttachRequest
  cancel?: CancelRequest
}

export namespace NodeRequest {
  let _codec: Codec<NodeRequest>

  export const codec = (): Codec<NodeRequest> => {
    if (_codec == null) {
      _codec = message<NodeRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null) {
          w.uint32(10)
          StatusRequest.codec().encode(obj.status, w)
        }

        if (obj.attach != null) {
          w.uint32(18)
          AttachRequest.codec().encode(obj.attach, w)
        }

        if (obj.cancel != null) {
          w.uint32(26)
          CancelRequest.codec().encode(obj.cancel, w)
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
              obj.status = StatusRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.status
              })
              break
            }
            case 2: {
              obj.attach = AttachRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.attach
              })
              break
            }
            case 3: {
              obj.cancel = CancelRequest.codec().decode(reader, reader.uint32(), {
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
              yield * StatusRequest.codec().stream(reader, reader.uint32(), `${prefix}.status`, {
                limits: opts.limits?.status
              })

              break
            }
            case 2: {
              yield * AttachRequest.codec().stream(reader, reader.uint32(), `${prefix}.attach`, {
                limits: opts.limits?.attach
              })

              break
            }
            case 3: {
              yield * CancelRequest.codec().stream(reader, reader.uint32(), `${prefix}.cancel`, {
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

  export interface NodeRequestStatusLinkFieldEvent {
    field: '$.status.link'
    value: boolean
  }

  export interface NodeRequestStatusSenderNameFieldEvent {
    field: '$.status.sender.name'
    value: string
  }

  export interface NodeRequestStatusSenderVersionFieldEvent {
    field: '$.status.sender.version'
    value: string
  }

  export interface NodeRequestStatusSenderCapacityCpuFieldEvent {
    field: '$.status.sender.capacity.cpu'
    value: number
  }

  export interface NodeRequestStatusSenderCapacityMemoryBytesFieldEvent {
    field: '$.status.sender.capacity.memoryBytes'
    value: number
  }

  export interface NodeRequestStatusSenderCapacityStorageBytesFieldEvent {
    field: '$.status.sender.capacity.storageBytes'
    value: number
  }

  export interface NodeRequestStatusSenderCapacityGpusFieldEvent {
    field: '$.status.sender.capacity.gpus'
    value: number
  }

  export interface NodeRequestStatusSenderAllocatedCpuFieldEvent {
    field: '$.status.sender.allocated.cpu'
    value: number
  }

  export interface NodeRequestStatusSenderAllocatedMemoryBytesFieldEvent {
    field: '$.status.sender.allocated.memoryBytes'
    value: number
  }

  export interface NodeRequestStatusSenderAllocatedStorageBytesFieldEvent {
    field: '$.status.sender.allocated.storageBytes'
    value: number
  }

  export interface NodeRequestStatusSenderAllocatedGpusFieldEvent {
    field: '$.status.sender.allocated.gpus'
    value: number
  }

  export interface NodeRequestStatusSenderRunningFieldEvent {
    field: '$.status.sender.running'
    value: number
  }

  export interface NodeRequestStatusSenderQueuedFieldEvent {
    field: '$.status.sender.queued'
    value: number
  }

  export interface NodeRequestStatusSenderLabelsFieldEvent {
    field: '$.status.sender.labels{}'
    key: string
    value: string
  }

  export interface NodeRequestStatusSenderExecutorHealthyFieldEvent {
    field: '$.status.sender.executorHealthy'
    value: boolean
  }

  export interface NodeRequestStatusSenderExecutorDetailFieldEvent {
    field: '$.status.sender.executorDetail'
    value: string
  }

  export interface NodeRequestStatusSenderStorageEnforcedFieldEvent {
    field: '$.status.sender.storageEnforced'
    value: boolean
  }

  export interface NodeRequestStatusSenderMembersPeerIdFieldEvent {
    field: '$.status.sender.members[].peerId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface NodeRequestStatusSenderMembersAddrsFieldEvent {
    field: '$.status.sender.members[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface NodeRequestStatusSenderMembersStatusNameFieldEvent {
    field: '$.status.sender.members[].status.name'
    value: string
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusVersionFieldEvent {
    field: '$.status.sender.members[].status.version'
    value: string
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusCapacityCpuFieldEvent {
    field: '$.status.sender.members[].status.capacity.cpu'
    value: number
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusCapacityMemoryBytesFieldEvent {
    field: '$.status.sender.members[].status.capacity.memoryBytes'
    value: number
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusCapacityStorageBytesFieldEvent {
    field: '$.status.sender.members[].status.capacity.storageBytes'
    value: number
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusCapacityGpusFieldEvent {
    field: '$.status.sender.members[].status.capacity.gpus'
    value: number
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusAllocatedCpuFieldEvent {
    field: '$.status.sender.members[].status.allocated.cpu'
    value: number
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusAllocatedMemoryBytesFieldEvent {
    field: '$.status.sender.members[].status.allocated.memoryBytes'
    value: number
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusAllocatedStorageBytesFieldEvent {
    field: '$.status.sender.members[].status.allocated.storageBytes'
    value: number
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusAllocatedGpusFieldEvent {
    field: '$.status.sender.members[].status.allocated.gpus'
    value: number
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusRunningFieldEvent {
    field: '$.status.sender.members[].status.running'
    value: number
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusQueuedFieldEvent {
    field: '$.status.sender.members[].status.queued'
    value: number
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusLabelsFieldEvent {
    field: '$.status.sender.members[].status.labels{}'
    key: string
    value: string
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusExecutorHealthyFieldEvent {
    field: '$.status.sender.members[].status.executorHealthy'
    value: boolean
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusExecutorDetailFieldEvent {
    field: '$.status.sender.members[].status.executorDetail'
    value: string
    index: number
  }

  export interface NodeRequestStatusSenderMembersStatusStorageEnforcedFieldEvent {
    field: '$.status.sender.members[].status.storageEnforced'
    value: boolean
    index: number
  }

  export interface NodeRequestStatusSenderImageIdsFieldEvent {
    field: '$.status.sender.imageIds[]'
    index: number
    value: string
  }

  export interface NodeRequestStatusSenderListenAddrsFieldEvent {
    field: '$.status.sender.listenAddrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface NodeRequestAttachTaskIdFieldEvent {
    field: '$.attach.taskId'
    value: string
  }

  export interface NodeRequestAttachFromSeqFieldEvent {
    field: '$.attach.fromSeq'
    value: number
  }

  export interface NodeRequestCancelTaskIdFieldEvent {
    field: '$.cancel.taskId'
    value: string
  }

  export function encode (obj: Partial<NodeRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, NodeRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NodeRequest>): NodeRequest {
    return decodeMessage(buf, NodeRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NodeRequest>): Generator<NodeRequestStatusLinkFieldEvent | NodeRequestStatusSenderNameFieldEvent | NodeRequestStatusSenderVersionFieldEvent | NodeRequestStatusSenderCapacityCpuFieldEvent | NodeRequestStatusSenderCapacityMemoryBytesFieldEvent | NodeRequestStatusSenderCapacityStorageBytesFieldEvent | NodeRequestStatusSenderCapacityGpusFieldEvent | NodeRequestStatusSenderAllocatedCpuFieldEvent | NodeRequestStatusSenderAllocatedMemoryBytesFieldEvent | NodeRequestStatusSenderAllocatedStorageBytesFieldEvent | NodeRequestStatusSenderAllocatedGpusFieldEvent | NodeRequestStatusSenderRunningFieldEvent | NodeRequestStatusSenderQueuedFieldEvent | NodeRequestStatusSenderLabelsFieldEvent | NodeRequestStatusSenderExecutorHealthyFieldEvent | NodeRequestStatusSenderExecutorDetailFieldEvent | NodeRequestStatusSenderStorageEnforcedFieldEvent | NodeRequestStatusSenderMembersPeerIdFieldEvent | NodeRequestStatusSenderMembersAddrsFieldEvent | NodeRequestStatusSenderMembersStatusNameFieldEvent | NodeRequestStatusSenderMembersStatusVersionFieldEvent | NodeRequestStatusSenderMembersStatusCapacityCpuFieldEvent | NodeRequestStatusSenderMembersStatusCapacityMemoryBytesFieldEvent | NodeRequestStatusSenderMembersStatusCapacityStorageBytesFieldEvent | NodeRequestStatusSenderMembersStatusCapacityGpusFieldEvent | NodeRequestStatusSenderMembersStatusAllocatedCpuFieldEvent | NodeRequestStatusSenderMembersStatusAllocatedMemoryBytesFieldEvent | NodeRequestStatusSenderMembersStatusAllocatedStorageBytesFieldEvent | NodeRequestStatusSenderMembersStatusAllocatedGpusFieldEvent | NodeRequestStatusSenderMembersStatusRunningFieldEvent | NodeRequestStatusSenderMembersStatusQueuedFieldEvent | NodeRequestStatusSenderMembersStatusLabelsFieldEvent | NodeRequestStatusSenderMembersStatusExecutorHealthyFieldEvent | NodeRequestStatusSenderMembersStatusExecutorDetailFieldEvent | NodeRequestStatusSenderMembersStatusStorageEnforcedFieldEvent | NodeRequestStatusSenderImageIdsFieldEvent | NodeRequestStatusSenderListenAddrsFieldEvent | NodeRequestAttachTaskIdFieldEvent | NodeRequestAttachFromSeqFieldEvent | NodeRequestCancelTaskIdFieldEvent> {
    return streamMessage(buf, NodeRequest.codec(), opts)
  }
}

export interface Status {
  name: string
  version: string
  capacity?: Resources
  allocated?: Resources
  running: number
  queued: number
  labels: Map<string, string>
  executorHealthy: boolean
  executorDetail: string
  storageEnforced: boolean
  members: PeerHint[]
  imageIds: string[]
  listenAddrs: Uint8Array<ArrayBuffer>[]
}

export namespace Status {
  export interface Status$labelsEntry {
    key: string
    value: string
  }

  export namespace Status$labelsEntry {
    let _codec: Codec<Status$labelsEntry>

    export const codec = (): Codec<Status$labelsEntry> => {
      if (_codec == null) {
        _codec = message<Status$labelsEntry>((obj, w, opts = {}) => {
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

    export interface Status$labelsEntryKeyFieldEvent {
      field: '$.key'
      value: string
    }

    export interface Status$labelsEntryValueFieldEvent {
      field: '$.value'
      value: string
    }

    export function encode (obj: Partial<Status$labelsEntry>): Uint8Array<ArrayBuffer> {
      return encodeMessage(obj, Status$labelsEntry.codec())
    }

    export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Status$labelsEntry>): Status$labelsEntry {
      return decodeMessage(buf, Status$labelsEntry.codec(), opts)
    }

    export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Status$labelsEntry>): Generator<Status$labelsEntryKeyFieldEvent | Status$labelsEntryValueFieldEvent> {
      return streamMessage(buf, Status$labelsEntry.codec(), opts)
    }
  }

  let _codec: Codec<Status>

  export const codec = (): Codec<Status> => {
    if (_codec == null) {
      _codec = message<Status>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.version != null && obj.version !== '')) {
          w.uint32(18)
          w.string(obj.version)
        }

        if (obj.capacity != null) {
          w.uint32(26)
          Resources.codec().encode(obj.capacity, w)
        }

        if (obj.allocated != null) {
          w.uint32(34)
          Resources.codec().encode(obj.allocated, w)
        }

        if ((obj.running != null && obj.running !== 0)) {
          w.uint32(40)
          w.uint32(obj.running)
        }

        if ((obj.queued != null && obj.queued !== 0)) {
          w.uint32(48)
          w.uint32(obj.queued)
        }

        if (obj.labels != null && obj.labels.size > 0) {
          for (const [key, value] of obj.labels.entries()) {
            w.uint32(58)
            Status.Status$labelsEntry.codec().encode({ key, value }, w)
          }
        }

        if ((obj.executorHealthy != null && obj.executorHealthy !== false)) {
          w.uint32(64)
          w.bool(obj.executorHealthy)
        }

        if ((obj.executorDetail != null && obj.executorDetail !== '')) {
          w.uint32(74)
          w.string(obj.executorDetail)
        }

        if ((obj.storageEnforced != null && obj.storageEnforced !== false)) {
          w.uint32(80)
          w.bool(obj.storageEnforced)
        }

        if (obj.members != null && obj.members.length > 0) {
          for (const value of obj.members) {
            w.uint32(90)
            PeerHint.codec().encode(value, w)
          }
        }

        if (obj.imageIds != null && obj.imageIds.length > 0) {
          for (const value of obj.imageIds) {
            w.uint32(162)
            w.string(value)
          }
        }

        if (obj.listenAddrs != null && obj.listenAddrs.length > 0) {
          for (const value of obj.listenAddrs) {
            w.uint32(322)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          version: '',
          running: 0,
          queued: 0,
          labels: new Map<string, string>(),
          executorHealthy: false,
          executorDetail: '',
          storageEnforced: false,
          members: [],
          imageIds: [],
          listenAddrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.version = reader.string()
              break
            }
            case 3: {
              obj.capacity = Resources.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.capacity
              })
              break
            }
            case 4: {
              obj.allocated = Resources.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.allocated
              })
              break
            }
            case 5: {
              obj.running = reader.uint32()
              break
            }
            case 6: {
              obj.queued = reader.uint32()
              break
            }
            case 7: {
              if (opts.limits?.labels != null && obj.labels.size === opts.limits.labels) {
                throw new MaxSizeError('Decode error - map field "labels" had too many elements')
              }

              const entry = Status.Status$labelsEntry.codec().decode(reader, reader.uint32(), {
                limits: {
                  value: opts.limits?.labels$value
                }
              })
              obj.labels.set(entry.key, entry.value)
              break
            }
            case 8: {
              obj.executorHealthy = reader.bool()
              break
            }
            case 9: {
              obj.executorDetail = reader.string()
              break
            }
            case 10: {
              obj.storageEnforced = reader.bool()
              break
            }
            case 11: {
              if (opts.limits?.members != null && obj.members.length === opts.limits.members) {
                throw new MaxLengthError('Decode error - repeated field "members" had too many elements')
              }

              obj.members.push(PeerHint.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.members$
              }))
              break
            }
            case 20: {
              if (opts.limits?.imageIds != null && obj.imageIds.length === opts.limits.imageIds) {
                throw new MaxLengthError('Decode error - repeated field "imageIds" had too many elements')
              }

              obj.imageIds.push(reader.string())
              break
            }
            case 40: {
              if (opts.limits?.listenAddrs != null && obj.listenAddrs.length === opts.limits.listenAddrs) {
                throw new MaxLengthError('Decode error - repeated field "listenAddrs" had too many elements')
              }

              obj.listenAddrs.push(reader.bytes())
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
          labels: 0,
          members: 0,
          imageIds: 0,
          listenAddrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.version`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield * Resources.codec().stream(reader, reader.uint32(), `${prefix}.capacity`, {
                limits: opts.limits?.capacity
              })

              break
            }
            case 4: {
              yield * Resources.codec().stream(reader, reader.uint32(), `${prefix}.allocated`, {
                limits: opts.limits?.allocated
              })

              break
            }
            case 5: {
              yield {
                field: `${prefix}.running`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.queued`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              if (opts.limits?.labels != null && obj.labels === opts.limits.labels) {
                throw new MaxLengthError('Decode error - map field "labels" had too many elements')
              }

              yield * Status.Status$labelsEntry.codec().stream(reader, reader.uint32(), `${prefix}.labels{}`, {
                limits: {
                  value: opts.limits?.labels$value
                }
              })

              obj.labels++

              break
            }
            case 8: {
              yield {
                field: `${prefix}.executorHealthy`,
                value: reader.bool()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.executorDetail`,
                value: reader.string()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.storageEnforced`,
                value: reader.bool()
              }
              break
            }
            case 11: {
              if (opts.limits?.members != null && obj.members === opts.limits.members) {
                throw new MaxLengthError('Streaming decode error - repeated field "members" had too many elements')
              }

              for (const evt of PeerHint.codec().stream(reader, reader.uint32(), `${prefix}.members[]`, {
                limits: opts.limits?.members$
              })) {
                yield {
                  ...evt,
                  index: obj.members
                }
              }

              obj.members++

              break
            }
            case 20: {
              if (opts.limits?.imageIds != null && obj.imageIds === opts.limits.imageIds) {
                throw new MaxLengthError('Streaming decode error - repeated field "imageIds" had too many elements')
              }

              yield {
                field: `${prefix}.imageIds[]`,
                index: obj.imageIds,
                value: reader.string()
              }

              obj.imageIds++

              break
            }
            case 40: {
              if (opts.limits?.listenAddrs != null && obj.listenAddrs === opts.limits.listenAddrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "listenAddrs" had too many elements')
              }

              yield {
                field: `${prefix}.listenAddrs[]`,
                index: obj.listenAddrs,
                value: reader.bytes()
              }

              obj.listenAddrs++

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

  export interface StatusNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface StatusVersionFieldEvent {
    field: '$.version'
    value: string
  }

  export interface StatusCapacityCpuFieldEvent {
    field: '$.capacity.cpu'
    value: number
  }

  export interface StatusCapacityMemoryBytesFieldEvent {
    field: '$.capacity.memoryBytes'
    value: number
  }

  export interface StatusCapacityStorageBytesFieldEvent {
    field: '$.capacity.storageBytes'
    value: number
  }

  export interface StatusCapacityGpusFieldEvent {
    field: '$.capacity.gpus'
    value: number
  }

  export interface StatusAllocatedCpuFieldEvent {
    field: '$.allocated.cpu'
    value: number
  }

  export interface StatusAllocatedMemoryBytesFieldEvent {
    field: '$.allocated.memoryBytes'
    value: number
  }

  export interface StatusAllocatedStorageBytesFieldEvent {
    field: '$.allocated.storageBytes'
    value: number
  }

  export interface StatusAllocatedGpusFieldEvent {
    field: '$.allocated.gpus'
    value: number
  }

  export interface StatusRunningFieldEvent {
    field: '$.running'
    value: number
  }

  export interface StatusQueuedFieldEvent {
    field: '$.queued'
    value: number
  }

  export interface StatusLabelsFieldEvent {
    field: '$.labels{}'
    key: string
    value: string
  }

  export interface StatusExecutorHealthyFieldEvent {
    field: '$.executorHealthy'
    value: boolean
  }

  export interface StatusExecutorDetailFieldEvent {
    field: '$.executorDetail'
    value: string
  }

  export interface StatusStorageEnforcedFieldEvent {
    field: '$.storageEnforced'
    value: boolean
  }

  export interface StatusMembersPeerIdFieldEvent {
    field: '$.members[].peerId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface StatusMembersAddrsFieldEvent {
    field: '$.members[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface StatusMembersStatusNameFieldEvent {
    field: '$.members[].status.name'
    value: string
    index: number
  }

  export interface StatusMembersStatusVersionFieldEvent {
    field: '$.members[].status.version'
    value: string
    index: number
  }

  export interface StatusMembersStatusCapacityCpuFieldEvent {
    field: '$.members[].status.capacity.cpu'
    value: number
    index: number
  }

  export interface StatusMembersStatusCapacityMemoryBytesFieldEvent {
    field: '$.members[].status.capacity.memoryBytes'
    value: number
    index: number
  }

  export interface StatusMembersStatusCapacityStorageBytesFieldEvent {
    field: '$.members[].status.capacity.storageBytes'
    value: number
    index: number
  }

  export interface StatusMembersStatusCapacityGpusFieldEvent {
    field: '$.members[].status.capacity.gpus'
    value: number
    index: number
  }

  export interface StatusMembersStatusAllocatedCpuFieldEvent {
    field: '$.members[].status.allocated.cpu'
    value: number
    index: number
  }

  export interface StatusMembersStatusAllocatedMemoryBytesFieldEvent {
    field: '$.members[].status.allocated.memoryBytes'
    value: number
    index: number
  }

  export interface StatusMembersStatusAllocatedStorageBytesFieldEvent {
    field: '$.members[].status.allocated.storageBytes'
    value: number
    index: number
  }

  export interface StatusMembersStatusAllocatedGpusFieldEvent {
    field: '$.members[].status.allocated.gpus'
    value: number
    index: number
  }

  export interface StatusMembersStatusRunningFieldEvent {
    field: '$.members[].status.running'
    value: number
    index: number
  }

  export interface StatusMembersStatusQueuedFieldEvent {
    field: '$.members[].status.queued'
    value: number
    index: number
  }

  export interface StatusMembersStatusLabelsFieldEvent {
    field: '$.members[].status.labels{}'
    key: string
    value: string
    index: number
  }

  export interface StatusMembersStatusExecutorHealthyFieldEvent {
    field: '$.members[].status.executorHealthy'
    value: boolean
    index: number
  }

  export interface StatusMembersStatusExecutorDetailFieldEvent {
    field: '$.members[].status.executorDetail'
    value: string
    index: number
  }

  export interface StatusMembersStatusStorageEnforcedFieldEvent {
    field: '$.members[].status.storageEnforced'
    value: boolean
    index: number
  }

  export interface StatusImageIdsFieldEvent {
    field: '$.imageIds[]'
    index: number
    value: string
  }

  export interface StatusListenAddrsFieldEvent {
    field: '$.listenAddrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Status>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Status.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Status>): Status {
    return decodeMessage(buf, Status.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Status>): Generator<StatusNameFieldEvent | StatusVersionFieldEvent | StatusCapacityCpuFieldEvent | StatusCapacityMemoryBytesFieldEvent | StatusCapacityStorageBytesFieldEvent | StatusCapacityGpusFieldEvent | StatusAllocatedCpuFieldEvent | StatusAllocatedMemoryBytesFieldEvent | StatusAllocatedStorageBytesFieldEvent | StatusAllocatedGpusFieldEvent | StatusRunningFieldEvent | StatusQueuedFieldEvent | StatusLabelsFieldEvent | StatusExecutorHealthyFieldEvent | StatusExecutorDetailFieldEvent | StatusStorageEnforcedFieldEvent | StatusMembersPeerIdFieldEvent | StatusMembersAddrsFieldEvent | StatusMembersStatusNameFieldEvent | StatusMembersStatusVersionFieldEvent | StatusMembersStatusCapacityCpuFieldEvent | StatusMembersStatusCapacityMemoryBytesFieldEvent | StatusMembersStatusCapacityStorageBytesFieldEvent | StatusMembersStatusCapacityGpusFieldEvent | StatusMembersStatusAllocatedCpuFieldEvent | StatusMembersStatusAllocatedMemoryBytesFieldEvent | StatusMembersStatusAllocatedStorageBytesFieldEvent | StatusMembersStatusAllocatedGpusFieldEvent | StatusMembersStatusRunningFieldEvent | StatusMembersStatusQueuedFieldEvent | StatusMembersStatusLabelsFieldEvent | StatusMembersStatusExecutorHealthyFieldEvent | StatusMembersStatusExecutorDetailFieldEvent | StatusMembersStatusStorageEnforcedFieldEvent | StatusImageIdsFieldEvent | StatusListenAddrsFieldEvent> {
    return streamMessage(buf, Status.codec(), opts)
  }
}

export interface ErrorReply {
  code: string
  message: string
}

export namespace ErrorReply {
  let _codec: Codec<ErrorReply>

  export const codec = (): Codec<ErrorReply> => {
    if (_codec == null) {
      _codec = message<ErrorReply>((obj, w, opts = {}) => {
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

  export interface ErrorReplyCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface ErrorReplyMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<ErrorReply>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ErrorReply.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ErrorReply>): ErrorReply {
    return decodeMessage(buf, ErrorReply.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ErrorReply>): Generator<ErrorReplyCodeFieldEvent | ErrorReplyMessageFieldEvent> {
    return streamMessage(buf, ErrorReply.codec(), opts)
  }
}

export interface TaskStateReply {
  state: string
  lastSeq: number
}

export namespace TaskStateReply {
  let _codec: Codec<TaskStateReply>

  export const codec = (): Codec<TaskStateReply> => {
    if (_codec == null) {
      _codec = message<TaskStateReply>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.state != null && obj.state !== '')) {
          w.uint32(10)
          w.string(obj.state)
        }

        if ((obj.lastSeq != null && obj.lastSeq !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.lastSeq)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          state: '',
          lastSeq: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.state = reader.string()
              break
            }
            case 2: {
              obj.lastSeq = reader.uint64Number()
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
                field: `${prefix}.state`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.lastSeq`,
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

  export interface TaskStateReplyStateFieldEvent {
    field: '$.state'
    value: string
  }

  export interface TaskStateReplyLastSeqFieldEvent {
    field: '$.lastSeq'
    value: number
  }

  export function encode (obj: Partial<TaskStateReply>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskStateReply.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskStateReply>): TaskStateReply {
    return decodeMessage(buf, TaskStateReply.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskStateReply>): Generator<TaskStateReplyStateFieldEvent | TaskStateReplyLastSeqFieldEvent> {
    return streamMessage(buf, TaskStateReply.codec(), opts)
  }
}

export interface NodeResponse {
  status?: Status
  error?: ErrorReply
  attached?: TaskStateReply
  cancelled?: TaskStateReply
}

export namespace NodeResponse {
  let _codec: Codec<NodeResponse>

  export const codec = (): Codec<NodeResponse> => {
    if (_codec == null) {
      _codec = message<NodeResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null) {
          w.uint32(10)
          Status.codec().encode(obj.status, w)
        }

        if (obj.error != null) {
          w.uint32(18)
          ErrorReply.codec().encode(obj.error, w)
        }

        if (obj.attached != null) {
          w.uint32(26)
          TaskStateReply.codec().encode(obj.attached, w)
        }

        if (obj.cancelled != null) {
          w.uint32(34)
          TaskStateReply.codec().encode(obj.cancelled, w)
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
              obj.status = Status.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.status
              })
              break
            }
            case 2: {
              obj.error = ErrorReply.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            case 3: {
              obj.attached = TaskStateReply.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.attached
              })
              break
            }
            case 4: {
              obj.cancelled = TaskStateReply.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.cancelled
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
              yield * Status.codec().stream(reader, reader.uint32(), `${prefix}.status`, {
                limits: opts.limits?.status
              })

              break
            }
            case 2: {
              yield * ErrorReply.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            case 3: {
              yield * TaskStateReply.codec().stream(reader, reader.uint32(), `${prefix}.attached`, {
                limits: opts.limits?.attached
              })

              break
            }
            case 4: {
              yield * TaskStateReply.codec().stream(reader, reader.uint32(), `${prefix}.cancelled`, {
                limits: opts.limits?.cancelled
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

  export interface NodeResponseStatusNameFieldEvent {
    field: '$.status.name'
    value: string
  }

  export interface NodeResponseStatusVersionFieldEvent {
    field: '$.status.version'
    value: string
  }

  export interface NodeResponseStatusCapacityCpuFieldEvent {
    field: '$.status.capacity.cpu'
    value: number
  }

  export interface NodeResponseStatusCapacityMemoryBytesFieldEvent {
    field: '$.status.capacity.memoryBytes'
    value: number
  }

  export interface NodeResponseStatusCapacityStorageBytesFieldEvent {
    field: '$.status.capacity.storageBytes'
    value: number
  }

  export interface NodeResponseStatusCapacityGpusFieldEvent {
    field: '$.status.capacity.gpus'
    value: number
  }

  export interface NodeResponseStatusAllocatedCpuFieldEvent {
    field: '$.status.allocated.cpu'
    value: number
  }

  export interface NodeResponseStatusAllocatedMemoryBytesFieldEvent {
    field: '$.status.allocated.memoryBytes'
    value: number
  }

  export interface NodeResponseStatusAllocatedStorageBytesFieldEvent {
    field: '$.status.allocated.storageBytes'
    value: number
  }

  export interface NodeResponseStatusAllocatedGpusFieldEvent {
    field: '$.status.allocated.gpus'
    value: number
  }

  export interface NodeResponseStatusRunningFieldEvent {
    field: '$.status.running'
    value: number
  }

  export interface NodeResponseStatusQueuedFieldEvent {
    field: '$.status.queued'
    value: number
  }

  export interface NodeResponseStatusLabelsFieldEvent {
    field: '$.status.labels{}'
    key: string
    value: string
  }

  export interface NodeResponseStatusExecutorHealthyFieldEvent {
    field: '$.status.executorHealthy'
    value: boolean
  }

  export interface NodeResponseStatusExecutorDetailFieldEvent {
    field: '$.status.executorDetail'
    value: string
  }

  export interface NodeResponseStatusStorageEnforcedFieldEvent {
    field: '$.status.storageEnforced'
    value: boolean
  }

  export interface NodeResponseStatusMembersPeerIdFieldEvent {
    field: '$.status.members[].peerId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface NodeResponseStatusMembersAddrsFieldEvent {
    field: '$.status.members[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface NodeResponseStatusMembersStatusNameFieldEvent {
    field: '$.status.members[].status.name'
    value: string
    index: number
  }

  export interface NodeResponseStatusMembersStatusVersionFieldEvent {
    field: '$.status.members[].status.version'
    value: string
    index: number
  }

  export interface NodeResponseStatusMembersStatusCapacityCpuFieldEvent {
    field: '$.status.members[].status.capacity.cpu'
    value: number
    index: number
  }

  export interface NodeResponseStatusMembersStatusCapacityMemoryBytesFieldEvent {
    field: '$.status.members[].status.capacity.memoryBytes'
    value: number
    index: number
  }

  export interface NodeResponseStatusMembersStatusCapacityStorageBytesFieldEvent {
    field: '$.status.members[].status.capacity.storageBytes'
    value: number
    index: number
  }

  export interface NodeResponseStatusMembersStatusCapacityGpusFieldEvent {
    field: '$.status.members[].status.capacity.gpus'
    value: number
    index: number
  }

  export interface NodeResponseStatusMembersStatusAllocatedCpuFieldEvent {
    field: '$.status.members[].status.allocated.cpu'
    value: number
    index: number
  }

  export interface NodeResponseStatusMembersStatusAllocatedMemoryBytesFieldEvent {
    field: '$.status.members[].status.allocated.memoryBytes'
    value: number
    index: number
  }

  export interface NodeResponseStatusMembersStatusAllocatedStorageBytesFieldEvent {
    field: '$.status.members[].status.allocated.storageBytes'
    value: number
    index: number
  }

  export interface NodeResponseStatusMembersStatusAllocatedGpusFieldEvent {
    field: '$.status.members[].status.allocated.gpus'
    value: number
    index: number
  }

  export interface NodeResponseStatusMembersStatusRunningFieldEvent {
    field: '$.status.members[].status.running'
    value: number
    index: number
  }

  export interface NodeResponseStatusMembersStatusQueuedFieldEvent {
    field: '$.status.members[].status.queued'
    value: number
    index: number
  }

  export interface NodeResponseStatusMembersStatusLabelsFieldEvent {
    field: '$.status.members[].status.labels{}'
    key: string
    value: string
    index: number
  }

  export interface NodeResponseStatusMembersStatusExecutorHealthyFieldEvent {
    field: '$.status.members[].status.executorHealthy'
    value: boolean
    index: number
  }

  export interface NodeResponseStatusMembersStatusExecutorDetailFieldEvent {
    field: '$.status.members[].status.executorDetail'
    value: string
    index: number
  }

  export interface NodeResponseStatusMembersStatusStorageEnforcedFieldEvent {
    field: '$.status.members[].status.storageEnforced'
    value: boolean
    index: number
  }

  export interface NodeResponseStatusImageIdsFieldEvent {
    field: '$.status.imageIds[]'
    index: number
    value: string
  }

  export interface NodeResponseStatusListenAddrsFieldEvent {
    field: '$.status.listenAddrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface NodeResponseErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  export interface NodeResponseErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface NodeResponseAttachedStateFieldEvent {
    field: '$.attached.state'
    value: string
  }

  export interface NodeResponseAttachedLastSeqFieldEvent {
    field: '$.attached.lastSeq'
    value: number
  }

  export interface NodeResponseCancelledStateFieldEvent {
    field: '$.cancelled.state'
    value: string
  }

  export interface NodeResponseCancelledLastSeqFieldEvent {
    field: '$.cancelled.lastSeq'
    value: number
  }

  export function encode (obj: Partial<NodeResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, NodeResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NodeResponse>): NodeResponse {
    return decodeMessage(buf, NodeResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NodeResponse>): Generator<NodeResponseStatusNameFieldEvent | NodeResponseStatusVersionFieldEvent | NodeResponseStatusCapacityCpuFieldEvent | NodeResponseStatusCapacityMemoryBytesFieldEvent | NodeResponseStatusCapacityStorageBytesFieldEvent | NodeResponseStatusCapacityGpusFieldEvent | NodeResponseStatusAllocatedCpuFieldEvent | NodeResponseStatusAllocatedMemoryBytesFieldEvent | NodeResponseStatusAllocatedStorageBytesFieldEvent | NodeResponseStatusAllocatedGpusFieldEvent | NodeResponseStatusRunningFieldEvent | NodeResponseStatusQueuedFieldEvent | NodeResponseStatusLabelsFieldEvent | NodeResponseStatusExecutorHealthyFieldEvent | NodeResponseStatusExecutorDetailFieldEvent | NodeResponseStatusStorageEnforcedFieldEvent | NodeResponseStatusMembersPeerIdFieldEvent | NodeResponseStatusMembersAddrsFieldEvent | NodeResponseStatusMembersStatusNameFieldEvent | NodeResponseStatusMembersStatusVersionFieldEvent | NodeResponseStatusMembersStatusCapacityCpuFieldEvent | NodeResponseStatusMembersStatusCapacityMemoryBytesFieldEvent | NodeResponseStatusMembersStatusCapacityStorageBytesFieldEvent | NodeResponseStatusMembersStatusCapacityGpusFieldEvent | NodeResponseStatusMembersStatusAllocatedCpuFieldEvent | NodeResponseStatusMembersStatusAllocatedMemoryBytesFieldEvent | NodeResponseStatusMembersStatusAllocatedStorageBytesFieldEvent | NodeResponseStatusMembersStatusAllocatedGpusFieldEvent | NodeResponseStatusMembersStatusRunningFieldEvent | NodeResponseStatusMembersStatusQueuedFieldEvent | NodeResponseStatusMembersStatusLabelsFieldEvent | NodeResponseStatusMembersStatusExecutorHealthyFieldEvent | NodeResponseStatusMembersStatusExecutorDetailFieldEvent | NodeResponseStatusMembersStatusStorageEnforcedFieldEvent | NodeResponseStatusImageIdsFieldEvent | NodeResponseStatusListenAddrsFieldEvent | NodeResponseErrorCodeFieldEvent | NodeResponseErrorMessageFieldEvent | NodeResponseAttachedStateFieldEvent | NodeResponseAttachedLastSeqFieldEvent | NodeResponseCancelledStateFieldEvent | NodeResponseCancelledLastSeqFieldEvent> {
    return streamMessage(buf, NodeResponse.codec(), opts)
  }
}
