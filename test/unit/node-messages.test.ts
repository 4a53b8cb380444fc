import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import fc from 'fast-check'
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { MemberSummary, NodeRequest, NodeResponse, Status } from '../../protocols/node.ts'
import {
  HINT_STATUS_BUDGET_BYTES,
  MAX_ADDRS_PER_HINT,
  MAX_LABELS,
  MAX_MEMBER_HINTS,
  MAX_TEXT_LENGTH,
  STATUS_DECODE_LIMITS,
  encodeStatus,
  validateStatus,
  type PeerStatus
} from '../../node/src/protocol/node-messages.ts'
import { ProtocolError } from '../../node/src/errors.ts'
import { MAX_NODE_FRAME_BYTES } from '../../node/src/protocol/node-protocol.ts'

/** The limits requestStatus decodes a response with. */
const RESPONSE_LIMITS = { status: STATUS_DECODE_LIMITS }

let peerA: PeerId
let peerB: PeerId

before(async () => {
  peerA = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  peerB = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
})

/** A Status as it arrives off the wire, valid unless a test changes a field. */
function wireStatus (overrides: Partial<Status> = {}): Status {
  return {
    imageIds: [],
    name: 'worker-1',
    version: '0.1.0',
    capacity: { cpu: 4, memoryBytes: 8 * 2 ** 30, storageBytes: 100 * 2 ** 30, gpus: 1 },
    allocated: { cpu: 0.5, memoryBytes: 2 ** 29, storageBytes: 2 ** 30, gpus: 0 },
    running: 1,
    queued: 2,
    labels: new Map([['zone', 'lab']]),
    executorHealthy: true,
    executorDetail: 'docker 27.0',
    storageEnforced: false,
    members: [],
    listenAddrs: [],
    ...overrides
  }
}

function assertRefused (status: Status, why: string): void {
  assert.throws(() => validateStatus(status), (err: any) => {
    assert.ok(err instanceof Error, `${why}: threw a non-Error`)
    assert.ok(err instanceof ProtocolError, `${why}: wrong error ${err.name}: ${err.message}`)
    return true
  }, why)
}

/** Decode, then validate any status: anything thrown must be an Error (callers test err.name). */
function decodeAndValidate (decode: () => NodeResponse | NodeRequest): void {
  try {
    const message = decode()
    if ('status' in message && message.status != null && 'name' in message.status) validateStatus(message.status)
  } catch (err) {
    assert.ok(err instanceof Error, `threw a non-Error: ${String(err)}`)
    assert.equal(typeof err.name, 'string')
  }
}

test('a valid status passes validation with every field kept', () => {
  const status = validateStatus(wireStatus())
  assert.equal(status.name, 'worker-1')
  assert.deepEqual(status.capacity, { cpu: 4, memoryBytes: 8 * 2 ** 30, storageBytes: 100 * 2 ** 30, gpus: 1 })
  assert.deepEqual(status.allocated, { cpu: 0.5, memoryBytes: 2 ** 29, storageBytes: 2 ** 30, gpus: 0 })
  assert.deepEqual(status.labels, { zone: 'lab' })
  assert.equal(status.running, 1)
  assert.equal(status.queued, 2)
  assert.equal(status.executorHealthy, true)
})

test('negative, NaN and infinite resources are refused with ProtocolError', () => {
  for (const field of ['capacity', 'allocated'] as const) {
    for (const bad of [-1, -0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const resource of ['cpu', 'memoryBytes', 'storageBytes', 'gpus'] as const) {
        const resources = { ...wireStatus()[field]!, [resource]: bad }
        assertRefused(wireStatus({ [field]: resources }), `${field}.${resource} = ${bad}`)
      }
    }
  }
  assertRefused(wireStatus({ running: -1 }), 'running = -1')
  assertRefused(wireStatus({ queued: Number.NaN }), 'queued = NaN')
})

test('fractional cores are fine, fractional bytes or GPUs are not', () => {
  assert.equal(validateStatus(wireStatus({ capacity: { cpu: 1.5, memoryBytes: 1, storageBytes: 1, gpus: 0 } })).capacity.cpu, 1.5)
  assertRefused(wireStatus({ capacity: { cpu: 1, memoryBytes: 1.5, storageBytes: 1, gpus: 0 } }), 'memoryBytes = 1.5')
  assertRefused(wireStatus({ capacity: { cpu: 1, memoryBytes: 1, storageBytes: 2.25, gpus: 0 } }), 'storageBytes = 2.25')
  assertRefused(wireStatus({ capacity: { cpu: 1, memoryBytes: 1, storageBytes: 1, gpus: 0.5 } }), 'gpus = 0.5')
  assertRefused(wireStatus({ capacity: { cpu: 1, memoryBytes: 2 ** 60, storageBytes: 1, gpus: 0 } }), 'memoryBytes beyond safe integers')
})

test('a status without capacity or allocation is refused', () => {
  assertRefused(wireStatus({ capacity: undefined }), 'no capacity')
  assertRefused(wireStatus({ allocated: undefined }), 'no allocated')
})

test('names must be 1 to 256 characters', () => {
  assertRefused(wireStatus({ name: '' }), 'empty name')
  assertRefused(wireStatus({ name: 'x'.repeat(MAX_TEXT_LENGTH + 1) }), 'name of 257 characters')
  assert.equal(validateStatus(wireStatus({ name: 'x'.repeat(MAX_TEXT_LENGTH) })).name.length, MAX_TEXT_LENGTH)
  assertRefused(wireStatus({ version: 'v'.repeat(MAX_TEXT_LENGTH + 1) }), 'over-long version')
  assertRefused(wireStatus({ executorDetail: 'd'.repeat(MAX_TEXT_LENGTH + 1) }), 'over-long executor detail')
})

test('over-long or empty label keys and over-long label values are refused', () => {
  assertRefused(wireStatus({ labels: new Map([['k'.repeat(MAX_TEXT_LENGTH + 1), 'v']]) }), 'over-long label key')
  assertRefused(wireStatus({ labels: new Map([['zone', 'v'.repeat(MAX_TEXT_LENGTH + 1)]]) }), 'over-long label value')
  assertRefused(wireStatus({ labels: new Map([['', 'v']]) }), 'empty label key')
})

test('labels named like Object.prototype properties are kept as plain labels', () => {
  const labels = new Map([['__proto__', 'a'], ['constructor', 'b'], ['toString', 'c']])
  const status = validateStatus(wireStatus({ labels }))
  assert.deepEqual(Object.entries(status.labels).sort(), [['__proto__', 'a'], ['constructor', 'b'], ['toString', 'c']])
})

test('member hints that do not parse are dropped; the rest of the status is kept', () => {
  const good = { peerId: peerA.toMultihash().bytes, addrs: [multiaddr('/ip4/127.0.0.1/tcp/7421').bytes] }
  const status = validateStatus(wireStatus({
    members: [
      { peerId: new Uint8Array([1, 2, 3]), addrs: [] },
      { peerId: new Uint8Array(0), addrs: [] },
      { peerId: peerB.toMultihash().bytes, addrs: [new Uint8Array([0xff, 0xff, 0xff])] },
      good
    ]
  }))
  assert.equal(status.name, 'worker-1')
  assert.equal(status.members.length, 1)
  assert.equal(status.members[0].peerId.toString(), peerA.toString())
  assert.deepEqual(status.members[0].addrs.map(addr => addr.toString()), ['/ip4/127.0.0.1/tcp/7421'])
})

test('a hint\'s status survives the wire; one that does not validate is dropped and its hint kept', () => {
  const { members: _, imageIds: __, listenAddrs: ___, ...summary } = wireStatus()
  const hint = (peerId: PeerId, status: typeof summary) => ({ peerId: peerId.toMultihash().bytes, addrs: [], status })
  const bytes = Status.encode(wireStatus({
    members: [
      hint(peerA, summary),
      hint(peerB, { ...summary, name: '', capacity: { cpu: -1, memoryBytes: 0, storageBytes: 0, gpus: 0 } })
    ]
  }))
  const status = validateStatus(Status.decode(bytes, { limits: STATUS_DECODE_LIMITS }))
  assert.equal(status.members.length, 2, 'both hints kept')
  assert.equal(status.members[0].status?.name, 'worker-1')
  assert.deepEqual(status.members[0].status?.labels, { zone: 'lab' })
  assert.deepEqual(status.members[0].status?.members, [], 'a hint\'s status carries no hints of its own')
  assert.equal(status.members[1].status, undefined, 'the bad status is dropped')
  assert.equal(status.members[1].peerId.toString(), peerB.toString())

  // More labels in a hint's status than a status may carry: the decode refuses it.
  const labels = new Map(Array.from({ length: MAX_LABELS + 1 }, (_, i) => [`k${i}`, 'v']))
  assert.throws(() => Status.decode(Status.encode(wireStatus({ members: [hint(peerA, { ...summary, labels })] })), { limits: STATUS_DECODE_LIMITS }), /labels/)
})

test('hints\' statuses take at most HINT_STATUS_BUDGET_BYTES: a full mesh with long labels still fits a frame', () => {
  const long = 'x'.repeat(MAX_TEXT_LENGTH)
  const heavy = { ...validateStatus(wireStatus()), labels: Object.fromEntries(Array.from({ length: MAX_LABELS }, (_, i) => [`${i}${long}`.slice(0, MAX_TEXT_LENGTH), long])) }
  const members = Array.from({ length: MAX_MEMBER_HINTS }, () => ({
    peerId: peerA,
    addrs: Array.from({ length: MAX_ADDRS_PER_HINT }, (_, i) => multiaddr(`/ip4/10.0.0.${i}/tcp/7421`)),
    status: heavy
  }))
  const bytes = Status.encode(encodeStatus({ ...heavy, members }))
  assert.ok(bytes.byteLength < MAX_NODE_FRAME_BYTES, `${bytes.byteLength} bytes do not fit a frame of ${MAX_NODE_FRAME_BYTES}`)
  const decoded = Status.decode(bytes, { limits: STATUS_DECODE_LIMITS })
  const withStatus = decoded.members.filter(hint => hint.status != null)
  assert.ok(withStatus.length > 0 && withStatus.length < MAX_MEMBER_HINTS, `${withStatus.length} hints carry a status`)
  const spent = withStatus.reduce((sum, hint) => sum + MemberSummary.encode(hint.status!).byteLength, 0)
  assert.ok(spent <= HINT_STATUS_BUDGET_BYTES, `hints' statuses take ${spent} bytes`)
  assert.equal(decoded.members.length, MAX_MEMBER_HINTS, 'every hint is sent, with or without a status')
})

test('encodeStatus → encode → decode (with limits) → validateStatus preserves every field', () => {
  const original: PeerStatus = {
    name: 'gpu-box ünïcode 🚀',
    version: '1.2.3',
    capacity: { cpu: 7.5, memoryBytes: 64 * 2 ** 30, storageBytes: Number.MAX_SAFE_INTEGER, gpus: 4 },
    allocated: { cpu: 0.25, memoryBytes: 512 * 2 ** 20, storageBytes: 0, gpus: 2 },
    running: 3,
    queued: 9,
    labels: { zone: 'rack-2', 'gpu.model': 'a100' },
    executorHealthy: false,
    executorDetail: 'no answer within 3000 ms',
    storageEnforced: true,
    imageIds: [`sha256:${'e'.repeat(64)}`, `sha256:${'0'.repeat(64)}`],
    members: [
      { peerId: peerA, addrs: [multiaddr('/ip4/192.168.1.20/tcp/7421'), multiaddr('/ip6/::1/tcp/7421')] },
      { peerId: peerB, addrs: [] }
    ],
    listenAddrs: [multiaddr('/ip4/192.168.1.21/tcp/7421'), multiaddr('/ip6/fe80::1/tcp/7421')]
  }
  const bytes = NodeResponse.encode({ status: encodeStatus(original) })
  const decoded = NodeResponse.decode(bytes, { limits: RESPONSE_LIMITS })
  assert.ok(decoded.status != null)
  const result = validateStatus(decoded.status)
  const { members, listenAddrs, ...rest } = result
  const { members: originalMembers, listenAddrs: originalListenAddrs, ...originalRest } = original
  assert.deepEqual(rest, originalRest)
  assert.deepEqual(listenAddrs?.map(addr => addr.toString()), ['/ip4/192.168.1.21/tcp/7421', '/ip6/fe80::1/tcp/7421'])
  assert.equal(originalListenAddrs?.length, 2)
  assert.deepEqual(
    members.map(m => ({ peerId: m.peerId.toString(), addrs: m.addrs.map(a => a.toString()) })),
    originalMembers.map(m => ({ peerId: m.peerId.toString(), addrs: m.addrs.map(a => a.toString()) }))
  )
})

test('round trip property: any valid status survives the wire unchanged', () => {
  const text = (minLength: number) => fc.string({ unit: 'grapheme', minLength, maxLength: 40 }).filter(s => s.length <= MAX_TEXT_LENGTH)
  const whole = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
  const resources = fc.record({
    cpu: fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true }).map(x => Object.is(x, -0) ? 0 : x),
    memoryBytes: whole,
    storageBytes: whole,
    gpus: fc.integer({ min: 0, max: 2 ** 32 - 1 })
  })
  const status = fc.record({
    name: text(1),
    version: text(0),
    capacity: resources,
    allocated: resources,
    running: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    queued: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    labels: fc.dictionary(text(1), text(0), { maxKeys: 8 }),
    executorHealthy: fc.boolean(),
    executorDetail: text(0),
    storageEnforced: fc.boolean(),
    imageIds: fc.array(fc.integer({ min: 0, max: 2 ** 31 }).map(n => `sha256:${n.toString(16).padStart(64, '0')}`), { maxLength: 4 })
  })
  fc.assert(fc.property(status, partial => {
    // fast-check may build null-prototype records; the decoder builds plain objects.
    const original: PeerStatus = { ...partial, capacity: { ...partial.capacity }, allocated: { ...partial.allocated }, labels: { ...partial.labels }, members: [], imageIds: [...partial.imageIds], listenAddrs: [] }
    const decoded = Status.decode(Status.encode(encodeStatus(original)), { limits: STATUS_DECODE_LIMITS })
    assert.deepEqual(validateStatus(decoded), original)
  }), { numRuns: 300 })
})

test('decode limits refuse more members, addresses or labels than a node may send', () => {
  const manyMembers = Status.encode({ ...wireStatus(), members: Array.from({ length: 10_000 }, () => ({ peerId: new Uint8Array(0), addrs: [] })) })
  assert.throws(() => Status.decode(manyMembers, { limits: STATUS_DECODE_LIMITS }), { name: 'MaxLengthError' })
  const response = NodeResponse.encode({ status: Status.decode(manyMembers) })
  assert.throws(() => NodeResponse.decode(response, { limits: RESPONSE_LIMITS }), { name: 'MaxLengthError' })

  const atLimit = Status.encode({ ...wireStatus(), members: Array.from({ length: MAX_MEMBER_HINTS }, () => ({ peerId: new Uint8Array(0), addrs: [] })) })
  assert.equal(Status.decode(atLimit, { limits: STATUS_DECODE_LIMITS }).members.length, MAX_MEMBER_HINTS)

  const manyAddrs = Status.encode({ ...wireStatus(), members: [{ peerId: peerA.toMultihash().bytes, addrs: Array.from({ length: MAX_ADDRS_PER_HINT + 1 }, () => multiaddr('/ip4/10.0.0.1/tcp/1').bytes) }] })
  assert.throws(() => Status.decode(manyAddrs, { limits: STATUS_DECODE_LIMITS }), { name: 'MaxLengthError' })

  const manyLabels = Status.encode({ ...wireStatus(), labels: new Map(Array.from({ length: MAX_LABELS + 1 }, (_, i) => [`k${i}`, 'v'])) })
  assert.throws(() => Status.decode(manyLabels, { limits: STATUS_DECODE_LIMITS }), { name: 'MaxSizeError' })
})

test('a status\'s own listen addresses: junk is dropped, the rest kept; more than a hint may hold is refused, and never sent', () => {
  const status = validateStatus(wireStatus({ listenAddrs: [new Uint8Array([0xff, 0xff, 0xff]), new Uint8Array(0), multiaddr('/ip4/10.0.0.9/tcp/7421').bytes] }))
  assert.equal(status.name, 'worker-1')
  assert.deepEqual(status.listenAddrs?.map(addr => addr.toString()), ['/ip4/10.0.0.9/tcp/7421'])

  const tooMany = Status.encode({ ...wireStatus(), listenAddrs: Array.from({ length: MAX_ADDRS_PER_HINT + 1 }, () => multiaddr('/ip4/10.0.0.1/tcp/1').bytes) })
  assert.throws(() => Status.decode(tooMany, { limits: STATUS_DECODE_LIMITS }), { name: 'MaxLengthError' })

  const many = Array.from({ length: MAX_ADDRS_PER_HINT + 4 }, (_, i) => multiaddr(`/ip4/10.0.1.${i}/tcp/7421`))
  const sent = Status.decode(Status.encode(encodeStatus({ ...validateStatus(wireStatus()), listenAddrs: many })), { limits: STATUS_DECODE_LIMITS })
  assert.equal(sent.listenAddrs.length, MAX_ADDRS_PER_HINT)
})

test('encodeStatus never sends more members or addresses than peers accept', () => {
  const members = Array.from({ length: MAX_MEMBER_HINTS + 50 }, () => ({
    peerId: peerA,
    addrs: Array.from({ length: MAX_ADDRS_PER_HINT + 4 }, (_, i) => multiaddr(`/ip4/10.0.0.${i}/tcp/7421`))
  }))
  const bytes = Status.encode(encodeStatus({ ...validateStatus(wireStatus()), members }))
  const decoded = Status.decode(bytes, { limits: STATUS_DECODE_LIMITS })
  assert.equal(decoded.members.length, MAX_MEMBER_HINTS)
  assert.ok(decoded.members.every(hint => hint.addrs.length === MAX_ADDRS_PER_HINT))
})

test('random bytes given to the decoders with limits, then validation, only ever throw Errors', { timeout: 60_000 }, () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), bytes => {
    decodeAndValidate(() => NodeRequest.decode(bytes, { limits: {} }))
    decodeAndValidate(() => NodeResponse.decode(bytes, { limits: RESPONSE_LIMITS }))
  }), { numRuns: 3_000 })
})

test('mutated and truncated valid encodings only ever throw Errors', { timeout: 60_000 }, () => {
  const valid = NodeResponse.encode({
    status: encodeStatus({
      ...validateStatus(wireStatus()),
      members: [
        { peerId: peerA, addrs: [multiaddr('/ip4/192.168.1.20/tcp/7421'), multiaddr('/ip6/::1/tcp/7421')] },
        { peerId: peerB, addrs: [multiaddr('/ip4/10.0.0.2/tcp/7421')] }
      ]
    })
  })
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: valid.length }) }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat({ max: valid.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat({ max: valid.length }), value: fc.integer({ min: 0, max: 255 }) })
  )
  fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 8 }), mutations => {
    let bytes = Uint8Array.from(valid)
    for (const m of mutations) {
      const at = Math.min(m.at, bytes.length)
      if (m.kind === 'truncate') bytes = bytes.subarray(0, at)
      else if (m.kind === 'set' && at < bytes.length) bytes[at] = m.value
      else if (m.kind === 'insert') bytes = Uint8Array.from([...bytes.subarray(0, at), m.value, ...bytes.subarray(at)])
    }
    decodeAndValidate(() => NodeResponse.decode(bytes, { limits: RESPONSE_LIMITS }))
    decodeAndValidate(() => NodeRequest.decode(bytes, { limits: {} }))
  }), { numRuns: 3_000 })
})
