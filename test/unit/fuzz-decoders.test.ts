import fc from 'fast-check'
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { Uint8ArrayList } from 'uint8arraylist'
import { NodeRequest, NodeResponse, Status } from '../../protocols/node.ts'
import { MasterMessage, TaskEvent as TaskEventCodec } from '../../protocols/task.ts'
import { decodeFrame, type MessageCodec } from '../../node/src/protocol/framing.ts'
import { STATUS_DECODE_LIMITS, checkOneOfRequest, validateStatus } from '../../node/src/protocol/node-messages.ts'
import { LogStream, MASTER_MESSAGE_LIMITS, TaskState, checkOneOf, validateSpec } from '../../node/src/protocol/task-messages.ts'
import { FLAT_HEAP_BYTES, count, describeInput, mutate, mutation, reportTried, settledMemory, wireSpec } from '../helpers/fuzz.ts'
import { varint } from '../helpers/streams.ts'
import { ProtocolError } from '../../node/src/errors.ts'

/**
 * Hostile bytes hurt no one. Random bytes and mutated valid encodings go to every
 * decoder and validator directly, and length and count claims far beyond the bytes present.
 * Each property is bounded in runs; every input is counted, and the counts are printed at
 * the end (the issue's closing note asks for them).
 */

/** Error names seen from the decoders, for the report. */
const decoderErrorNames = new Map<string, number>()

after(() => {
  reportTried()
  console.log(`protons decode errors (name "message"): ${[...decoderErrorNames].sort(([, a], [, b]) => b - a).map(([name, n]) => `${name} ×${n}`).join(', ')}`)
})

interface Decoder {
  name: string
  codec: MessageCodec<any>
  limits?: Record<string, unknown>
  validate?: (message: any) => void
  valid: Uint8Array
}

const DECODERS: Decoder[] = [
  { name: 'NodeRequest', codec: NodeRequest, limits: {}, validate: checkOneOfRequest, valid: NodeRequest.encode({ attach: { taskId: 'task-1', fromSeq: 7 } }) },
  {
    name: 'NodeResponse',
    codec: NodeResponse,
    limits: { status: STATUS_DECODE_LIMITS },
    validate: (response: NodeResponse) => { if (response.status != null) validateStatus(response.status) },
    valid: NodeResponse.encode({
      status: {
        name: 'n', version: '1', imageIds: [], listenAddrs: [], capacity: { cpu: 1, memoryBytes: 2, storageBytes: 3, gpus: 0 }, allocated: { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 },
        running: 0, queued: 0, labels: new Map([['a', 'b']]), executorHealthy: true, executorDetail: '', storageEnforced: false,
        members: [{ peerId: Uint8Array.from([0, 4, 1, 2, 3, 4]), addrs: [Uint8Array.from([4, 127, 0, 0, 1, 6, 0x1d, 0x01])] }]
      }
    })
  },
  { name: 'Status', codec: Status, limits: STATUS_DECODE_LIMITS, validate: validateStatus, valid: new Uint8Array(0) },
  {
    name: 'MasterMessage',
    codec: MasterMessage,
    limits: MASTER_MESSAGE_LIMITS,
    validate: (message: MasterMessage) => { checkOneOf(message); if (message.submit != null) validateSpec(message.submit.spec) },
    valid: MasterMessage.encode({ submit: { spec: wireSpec({ id: 'fixed-id' }) } })
  },
  { name: 'TaskEvent', codec: TaskEventCodec, valid: TaskEventCodec.encode({ taskId: 't', seq: 3, timeMs: 1, state: TaskState.RUNNING, log: { stream: LogStream.STDERR, data: Uint8Array.from([1, 2, 3]), segments: [] } }) }
]
DECODERS[2].valid = (() => {
  // The Status inside the NodeResponse above, unwrapped: field 1, length-delimited.
  const response = DECODERS[1].valid
  let i = 1
  let length = 0
  for (let shift = 0; ; shift += 7) {
    const byte = response[i++]
    length += (byte & 0x7f) * 2 ** shift
    if ((byte & 0x80) === 0) break
  }
  return response.subarray(i, i + length)
})()

/**
 * Decode `bytes` directly (protons), through decodeFrame, and validate what decodes. Returns
 * a problem, or undefined. decodeFrame must only throw ProtocolError; protons only Errors;
 * validation only ProtocolError.
 */
function decodeHostile (decoder: Decoder, bytes: Uint8Array): string | undefined {
  let direct: unknown
  try {
    direct = decoder.codec.decode(bytes, { limits: decoder.limits })
  } catch (err) {
    if (!(err instanceof Error)) return `${decoder.name}.decode threw a non-Error: ${String(err)}`
    // Names with their messages (numbers left out), so the report says what each name stands for.
    const key = `${err.name} "${err.message.replace(/\d+/g, 'N').slice(0, 60)}"`
    decoderErrorNames.set(key, (decoderErrorNames.get(key) ?? 0) + 1)
  }
  let framed: unknown
  try {
    framed = decodeFrame(decoder.codec, new Uint8ArrayList(bytes), decoder.limits)
  } catch (err: any) {
    if (!(err instanceof ProtocolError)) return `decodeFrame(${decoder.name}) threw ${err?.name}: ${err?.message}`
    if (direct !== undefined) return `decodeFrame(${decoder.name}) refused what ${decoder.name}.decode accepted`
    return undefined
  }
  if (direct === undefined) return `decodeFrame(${decoder.name}) accepted what ${decoder.name}.decode refused`
  try {
    decoder.validate?.(framed)
  } catch (err: any) {
    if (!(err instanceof ProtocolError)) return `validating a decoded ${decoder.name} threw ${err?.name}: ${err?.message}`
  }
  return undefined
}

describe('decoders with limits', () => {
  test('random bytes: only named errors (ProtocolError from decodeFrame and validation), memory flat', { timeout: 30_000 }, () => {
    const before = settledMemory()
    const problems: string[] = []
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), bytes => {
      for (const decoder of DECODERS) {
        count('decoder, random bytes')
        const problem = decodeHostile(decoder, bytes)
        if (problem != null) problems.push(`${problem} (${describeInput(bytes)})`)
      }
      return problems.length === 0
    }), { numRuns: 4_000 })
    const growth = settledMemory().heapUsed - before.heapUsed
    assert.deepEqual(problems, [])
    assert.ok(growth < FLAT_HEAP_BYTES, `the heap grew by ${(growth / 2 ** 20).toFixed(2)} MiB`)
  })

  test('mutated valid encodings: only named errors, memory flat', { timeout: 30_000 }, () => {
    const before = settledMemory()
    const problems: string[] = []
    fc.assert(fc.property(fc.nat({ max: DECODERS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }), (which, mutations) => {
      const decoder = DECODERS[which]
      // The unframed message: prefix mutations apply to its first bytes as if they were one.
      const bytes = mutate(decoder.valid, mutations, 1024 * 1024)
      count('decoder, mutated valid encoding')
      const problem = decodeHostile(decoder, bytes)
      if (problem != null) problems.push(`${problem} (${describeInput(bytes)})`)
      return problem == null
    }), { numRuns: 6_000 })
    const growth = settledMemory().heapUsed - before.heapUsed
    assert.deepEqual(problems, [])
    assert.ok(growth < FLAT_HEAP_BYTES, `the heap grew by ${(growth / 2 ** 20).toFixed(2)} MiB`)
  })

  test('length and count claims far beyond the bytes present are refused at once, without allocating for them', () => {
    // Field headers claiming up to 4 GiB of bytes, or a repeated field past its limit, in a few bytes.
    const claims: Array<[Decoder, Uint8Array]> = [
      [DECODERS[3], Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a])],
      [DECODERS[1], Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x7f])],
      [DECODERS[4], Uint8Array.from([0x42, 0xff, 0xff, 0xff, 0xff, 0x0f])],
      [DECODERS[2], Uint8Array.from(Array.from({ length: 300 }, () => [0x5a, 0x00]).flat())], // 300 empty member hints, limit 256
      [DECODERS[3], (() => {
        // 2,000 empty command arguments, limit 1,024.
        const spec = Uint8Array.from(Array.from({ length: 2_000 }, () => [0x1a, 0x00]).flat())
        const submit = Uint8Array.from([0x0a, ...varint(spec.length), ...spec])
        return Uint8Array.from([0x0a, ...varint(submit.length), ...submit])
      })()]
    ]
    const before = settledMemory()
    for (const [decoder, bytes] of claims) {
      count('decoder, oversized claims')
      const started = performance.now()
      assert.throws(() => decodeFrame(decoder.codec, new Uint8ArrayList(bytes), decoder.limits), (err: Error) => err instanceof ProtocolError, `${decoder.name}: ${describeInput(bytes)}`)
      assert.ok(performance.now() - started < 50, `${decoder.name} took ${performance.now() - started} ms`)
    }
    const growth = settledMemory().heapUsed - before.heapUsed
    assert.ok(growth < 1024 * 1024, `the heap grew by ${(growth / 2 ** 20).toFixed(2)} MiB`)
  })
})
