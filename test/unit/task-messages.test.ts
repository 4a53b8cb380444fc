import fc from 'fast-check'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TaskSpec as WireTaskSpec } from '../../protocols/task.ts'
import {
  MASTER_MESSAGE_LIMITS,
  MAX_COMMAND_ARGS,
  MAX_ENV_VARS,
  MAX_TASK_ID_LENGTH,
  MAX_TASK_LABELS,
  MAX_TIMEOUT_MS,
  LogStream,
  MasterMessage,
  TaskEvent,
  TaskState,
  TERMINAL_STATES,
  checkOneOf,
  encodeSpec,
  eventToJson,
  isTerminal,
  movesForward,
  validateSpec,
  type TaskSpec
} from '../../node/src/protocol/task-messages.ts'
import { MIN_TASK_CPU, MIN_TASK_MEMORY_BYTES, MIN_TASK_STORAGE_BYTES } from '../../node/src/resource-floors.ts'
import { tempStore } from '../helpers/store.ts'
import { WorkerTask } from '../../node/src/worker/worker-task.ts'
import { ProtocolError } from '../../node/src/errors.ts'

const ALL_STATES = [
  TaskState.PENDING, TaskState.QUEUED, TaskState.PULLING, TaskState.STARTING, TaskState.RUNNING,
  TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED, TaskState.REJECTED, TaskState.LOST
]
/** The non-terminal states in the only order they may be visited (docs/architecture.md). */
const PROGRESS = [TaskState.PENDING, TaskState.QUEUED, TaskState.PULLING, TaskState.STARTING, TaskState.RUNNING]

/** A spec as it arrives off the wire, valid unless a test changes a field. */
function wireSpec (overrides: Partial<WireTaskSpec> = {}): WireTaskSpec {
  return {
    imageHolders: [],
    id: 'm1abc-0123456789ab',
    image: '127.0.0.1:5000/cloudai/busybox:1',
    command: ['sh', '-c', 'echo hi; exit 7'],
    env: new Map([['GREETING', 'hello'], ['PATH', '/bin']]),
    resources: { cpu: 1.5, memoryBytes: 512 * 2 ** 20, storageBytes: 2 ** 30, gpus: 0 },
    network: 'none',
    timeoutMs: 90_000,
    labels: new Map([['team', 'data']]),
    attempt: 1,
    ...overrides
  }
}

function withResources (resources: Partial<NonNullable<WireTaskSpec['resources']>>): WireTaskSpec {
  return wireSpec({ resources: { ...wireSpec().resources!, ...resources } })
}

function assertRefused (spec: WireTaskSpec | undefined, why: string): void {
  assert.throws(() => validateSpec(spec), (err: unknown) => {
    assert.ok(err instanceof Error, `${why}: threw a non-Error`)
    assert.ok(err instanceof ProtocolError, `${why}: wrong error ${err.name}: ${err.message}`)
    assert.ok(err.message.length > 0, `${why}: no message`)
    return true
  }, why)
}

function manyEntries (count: number, prefix: string): Map<string, string> {
  return new Map(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, 'x']))
}

/** Decode bytes from the wire the way the worker's task handler does. */
function decodeAsWorker (bytes: Uint8Array): MasterMessage {
  return MasterMessage.decode(bytes, { limits: MASTER_MESSAGE_LIMITS })
}

test('a normal spec is accepted with every field kept', () => {
  const spec = validateSpec(wireSpec())
  assert.deepEqual(spec, {
    id: 'm1abc-0123456789ab',
    image: '127.0.0.1:5000/cloudai/busybox:1',
    command: ['sh', '-c', 'echo hi; exit 7'],
    env: { GREETING: 'hello', PATH: '/bin' },
    resources: { cpu: 1.5, memoryBytes: 512 * 2 ** 20, storageBytes: 2 ** 30, gpus: 0 },
    network: 'none',
    timeoutMs: 90_000,
    labels: { team: 'data' },
    attempt: 1
  })
  // Timeout 0 on the wire means none; an empty command means the image's default.
  const noTimeout = validateSpec(wireSpec({ timeoutMs: 0, command: [] }))
  assert.equal('timeoutMs' in noTimeout, false)
  assert.deepEqual(noTimeout.command, [])
  assert.equal(validateSpec(wireSpec({ network: 'bridge' })).network, 'bridge')
})

test('common image references are accepted', () => {
  const images = [
    'busybox',
    'busybox:1.36',
    'library/busybox:latest',
    'docker.io/library/hello-world:latest',
    'ghcr.io/org/team/app:v1.2.3-rc_1',
    'localhost:5000/x',
    '127.0.0.1:5000/cloudai/busybox:1',
    `alpine@sha256:${'a'.repeat(64)}`,
    `registry.local:443/alpine:3@sha256:${'0f'.repeat(32)}`
  ]
  for (const image of images) assert.equal(validateSpec(wireSpec({ image })).image, image, image)
})

test('missing spec, negative or zero memory or storage, fractional bytes and GPUs are refused with ProtocolError', () => {
  assertRefused(undefined, 'no spec')
  assertRefused(wireSpec({ resources: undefined }), 'no resources')
  for (const memoryBytes of [-1, -512 * 2 ** 20, 0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
    assertRefused(withResources({ memoryBytes }), `memory ${memoryBytes}`)
  }
  for (const storageBytes of [-1, 0, -0, 0.5, Number.NaN, Number.NEGATIVE_INFINITY]) {
    assertRefused(withResources({ storageBytes }), `storage ${storageBytes}`)
  }
  for (const gpus of [-1, 0.5, Number.NaN, 65, 2 ** 32 - 1]) {
    assertRefused(withResources({ gpus }), `gpus ${gpus}`)
  }
  // Zero is refused rather than raised: to Docker it means no limit, which may be what was meant.
  assert.throws(() => validateSpec(withResources({ storageBytes: 0 })), /storage must be more than 0 bytes: 0 would mean no limit/)
  assert.throws(() => validateSpec(withResources({ memoryBytes: 0 })), /memory must be more than 0 bytes: 0 would mean no limit/)
})

test('a positive amount below its floor is raised to the floor: what the ledger holds and the engine enforces', () => {
  const tiny = validateSpec(withResources({ cpu: 1e-10, memoryBytes: 1, storageBytes: 1 })).resources
  assert.deepEqual(tiny, { cpu: MIN_TASK_CPU, memoryBytes: MIN_TASK_MEMORY_BYTES, storageBytes: MIN_TASK_STORAGE_BYTES, gpus: 0 })
  assert.equal(validateSpec(withResources({ cpu: Number.MIN_VALUE })).resources.cpu, MIN_TASK_CPU)
  const atFloors = { cpu: MIN_TASK_CPU, memoryBytes: MIN_TASK_MEMORY_BYTES, storageBytes: MIN_TASK_STORAGE_BYTES, gpus: 0 }
  assert.deepEqual(validateSpec(withResources(atFloors)).resources, atFloors)
  const above = { cpu: 0.015, memoryBytes: MIN_TASK_MEMORY_BYTES + 1, storageBytes: MIN_TASK_STORAGE_BYTES + 1, gpus: 1 }
  assert.deepEqual(validateSpec(withResources(above)).resources, above, 'amounts above the floors are kept as they are')
})

test('NaN, infinite, zero, negative and absurd CPU are refused', () => {
  for (const cpu of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, -1, Number.MIN_VALUE * -1, 4097, Number.MAX_VALUE]) {
    assertRefused(withResources({ cpu }), `cpu ${cpu}`)
  }
  assert.throws(() => validateSpec(withResources({ cpu: 0 })), /CPU must be more than 0 cores: 0 would mean no limit/)
})

test('empty and malformed image references are refused', () => {
  const bad = [
    '',
    ' ',
    'Busybox',
    'busy box',
    'busybox:',
    ':latest',
    '/busybox',
    'busybox/',
    'a//b',
    '-busybox',
    'busybox:-tag',
    'busybox@sha256:abc',
    `busybox@sha256:${'A'.repeat(64)}`,
    'busybox\n',
    'busybox\0',
    '../../etc/passwd',
    'host:port/busybox',
    'http://registry/busybox',
    `busybox:${'t'.repeat(200)}`,
    `${'a'.repeat(600)}`
  ]
  for (const image of bad) assertRefused(wireSpec({ image }), `image ${JSON.stringify(image.slice(0, 60))}`)
})

test('empty, over-long and oddly spelled task ids are refused', () => {
  assert.equal(validateSpec(wireSpec({ id: 'a'.repeat(MAX_TASK_ID_LENGTH) })).id.length, MAX_TASK_ID_LENGTH)
  for (const id of ['', 'a'.repeat(MAX_TASK_ID_LENGTH + 1), 'a'.repeat(100_000), '-leading', '.hidden', 'a b', 'a/b', '../x', 'a\0b', 'ü', 'a\n']) {
    assertRefused(wireSpec({ id }), `id ${JSON.stringify(id.slice(0, 40))}`)
  }
})

test('env names with "=", NUL or other bad characters are refused; NUL bytes anywhere are refused', () => {
  for (const name of ['A=B', '=A', '', '1ABC', 'A B', 'A\0', 'ÄB', 'A\n']) {
    assertRefused(wireSpec({ env: new Map([[name, 'x']]) }), `env name ${JSON.stringify(name)}`)
  }
  assertRefused(wireSpec({ env: new Map([['A', 'x\0y']]) }), 'NUL in an env value')
  assertRefused(wireSpec({ command: ['sh', '-c', 'echo\0'] }), 'NUL in a command argument')
  assertRefused(wireSpec({ labels: new Map([['team', '\0']]) }), 'NUL in a label value')
  assertRefused(wireSpec({ labels: new Map([['bad key', 'v']]) }), 'a label key with a space')
  assertRefused(wireSpec({ labels: new Map([['', 'v']]) }), 'an empty label key')
  // Values may hold "=" and any other text.
  assert.equal(validateSpec(wireSpec({ env: new Map([['A', 'b=c d ü']]) })).env.A, 'b=c d ü')
})

test('a network other than none or bridge is refused', () => {
  for (const network of ['', 'host', 'NONE', 'Bridge', 'container:abc', 'none ']) {
    assertRefused(wireSpec({ network }), `network ${JSON.stringify(network)}`)
  }
})

test('a timeout past the 24 days a timer can hold, and absurd attempts, are refused', () => {
  // Node's timers hold at most 2^31 - 1 ms (24.8 days); a longer one fires at once.
  assert.ok(MAX_TIMEOUT_MS <= 2 ** 31 - 1, `MAX_TIMEOUT_MS ${MAX_TIMEOUT_MS} is past the timer range`)
  assert.equal(validateSpec(wireSpec({ timeoutMs: MAX_TIMEOUT_MS })).timeoutMs, MAX_TIMEOUT_MS)
  for (const timeoutMs of [MAX_TIMEOUT_MS + 1, 2 ** 31, 25 * 24 * 3600_000, 30 * 24 * 3600_000, 2 ** 53, 2 ** 64, Number.POSITIVE_INFINITY, 1.5, -1]) {
    assertRefused(wireSpec({ timeoutMs }), `timeout ${timeoutMs}`)
  }
  assert.throws(() => validateSpec(wireSpec({ timeoutMs: 25 * 24 * 3600_000 })), /timeout must be at most 24 days/)
  for (const attempt of [1001, 2 ** 32 - 1, 0.5]) assertRefused(wireSpec({ attempt }), `attempt ${attempt}`)
})

test('a command, environment and labels too large together are refused', () => {
  assertRefused(wireSpec({ command: ['x'.repeat(600 * 1024)] }), 'a 600 KiB argument')
  assertRefused(wireSpec({ env: new Map([['BIG', 'v'.repeat(600 * 1024)]]) }), 'a 600 KiB env value')
})

test('10,000 env vars, too many command args or labels are refused by the decode limits', () => {
  const cases: Array<[string, WireTaskSpec]> = [
    ['10,000 env vars', wireSpec({ env: manyEntries(10_000, 'V') })],
    [`${MAX_ENV_VARS + 1} env vars`, wireSpec({ env: manyEntries(MAX_ENV_VARS + 1, 'V') })],
    [`${MAX_COMMAND_ARGS + 1} command args`, wireSpec({ command: Array.from({ length: MAX_COMMAND_ARGS + 1 }, () => 'a') })],
    [`${MAX_TASK_LABELS + 1} labels`, wireSpec({ labels: manyEntries(MAX_TASK_LABELS + 1, 'l') })]
  ]
  for (const [why, spec] of cases) {
    const bytes = MasterMessage.encode({ submit: { spec } })
    assert.throws(() => decodeAsWorker(bytes), (err: unknown) => {
      assert.ok(err instanceof Error, `${why}: threw a non-Error`)
      assert.match(err.name, /^Max(Size|Length)Error$/, `${why}: ${err.name}`)
      return true
    }, why)
  }
  // Exactly at the limits decodes and validates.
  const atLimits = wireSpec({ env: manyEntries(MAX_ENV_VARS, 'V'), labels: manyEntries(MAX_TASK_LABELS, 'l'), command: Array.from({ length: MAX_COMMAND_ARGS }, () => 'a') })
  const decoded = decodeAsWorker(MasterMessage.encode({ submit: { spec: atLimits } }))
  const spec = validateSpec(decoded.submit?.spec)
  assert.equal(Object.keys(spec.env).length, MAX_ENV_VARS)
  assert.equal(Object.keys(spec.labels).length, MAX_TASK_LABELS)
  assert.equal(spec.command.length, MAX_COMMAND_ARGS)
})

test('validateSpec itself refuses more env vars, args or labels than the wire accepts', () => {
  // The API and `self` paths validate a spec that never went through the worker's decode
  // limits: a spec validateSpec accepts must also be one a worker can decode, or the task
  // dies as a reset stream instead of a clear INVALID_SPEC.
  assertRefused(wireSpec({ env: manyEntries(10_000, 'V') }), '10,000 env vars')
  assertRefused(wireSpec({ env: manyEntries(MAX_ENV_VARS + 1, 'V') }), `${MAX_ENV_VARS + 1} env vars`)
  assertRefused(wireSpec({ command: Array.from({ length: MAX_COMMAND_ARGS + 1 }, () => 'a') }), `${MAX_COMMAND_ARGS + 1} args`)
  assertRefused(wireSpec({ labels: manyEntries(MAX_TASK_LABELS + 1, 'l') }), `${MAX_TASK_LABELS + 1} labels`)
})

test('a master message must carry exactly one of submit, ack, cancel', () => {
  for (const message of [{}, { ack: { seq: 1 }, cancel: {} }, { submit: { spec: wireSpec() }, ack: { seq: 1 } }] as MasterMessage[]) {
    assert.throws(() => { checkOneOf(message) }, ProtocolError)
  }
  for (const message of [{ ack: { seq: 1 } }, { cancel: {} }, { submit: { spec: wireSpec() } }] as MasterMessage[]) {
    checkOneOf(decodeAsWorker(MasterMessage.encode(message)))
  }
})

test('encodeSpec → encode → decode with limits → validateSpec gives back the same spec', () => {
  const original: TaskSpec = validateSpec(wireSpec())
  const decoded = decodeAsWorker(MasterMessage.encode({ submit: { spec: encodeSpec(original) } }))
  assert.deepEqual(validateSpec(decoded.submit?.spec), original)
  const { timeoutMs: _none, ...withoutTimeout } = original
  const again = validateSpec(decodeAsWorker(MasterMessage.encode({ submit: { spec: encodeSpec(withoutTimeout) } })).submit?.spec)
  assert.deepEqual(again, withoutTimeout)
})

test('round trip property: any valid spec survives encodeSpec and the wire unchanged', () => {
  const idChar = fc.constantFrom(...'abcXYZ019_.-')
  const lower = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789')
  const component = fc.array(lower, { minLength: 1, maxLength: 8 }).map(chars => chars.join(''))
  const image = fc.tuple(fc.option(fc.constantFrom('127.0.0.1:5000/', 'ghcr.io/', 'localhost/')), fc.array(component, { minLength: 1, maxLength: 3 }), fc.option(component))
    .map(([registry, path, tag]) => `${registry ?? ''}${path.join('/')}${tag != null ? `:${tag}` : ''}`)
  const envName = fc.tuple(fc.constantFrom(...'ABC_xyz'), fc.array(fc.constantFrom(...'AZ09_.-'), { maxLength: 12 })).map(([first, rest]) => first + rest.join(''))
  const noNul = fc.string({ unit: 'grapheme', maxLength: 30 }).filter(s => !s.includes('\0'))
  const spec: fc.Arbitrary<TaskSpec> = fc.record({
    id: fc.tuple(fc.constantFrom(...'aZ9'), fc.array(idChar, { maxLength: MAX_TASK_ID_LENGTH - 1 })).map(([first, rest]) => first + rest.join('')),
    image,
    command: fc.array(noNul, { maxLength: 8 }),
    env: fc.dictionary(envName, noNul, { maxKeys: 8, noNullPrototype: true }),
    resources: fc.record({
      cpu: fc.double({ min: MIN_TASK_CPU, max: 4096, noNaN: true }),
      memoryBytes: fc.integer({ min: MIN_TASK_MEMORY_BYTES, max: Number.MAX_SAFE_INTEGER }),
      storageBytes: fc.integer({ min: MIN_TASK_STORAGE_BYTES, max: Number.MAX_SAFE_INTEGER }),
      gpus: fc.integer({ min: 0, max: 64 })
    }, { noNullPrototype: true }),
    network: fc.constantFrom('none' as const, 'bridge' as const),
    timeoutMs: fc.option(fc.integer({ min: 1, max: MAX_TIMEOUT_MS }), { nil: undefined }),
    labels: fc.dictionary(fc.stringMatching(/^[a-z0-9][a-z0-9./-]{0,15}$/), noNul, { maxKeys: 4, noNullPrototype: true }),
    attempt: fc.integer({ min: 0, max: 1000 })
  }, { requiredKeys: ['id', 'image', 'command', 'env', 'resources', 'network', 'labels', 'attempt'], noNullPrototype: true })
  fc.assert(fc.property(spec, original => {
    const direct = validateSpec(encodeSpec(original))
    const decoded = validateSpec(decodeAsWorker(MasterMessage.encode({ submit: { spec: encodeSpec(original) } })).submit?.spec)
    const expected = { ...original }
    if (expected.timeoutMs === undefined) delete expected.timeoutMs
    assert.deepEqual(direct, expected)
    assert.deepEqual(decoded, expected)
  }), { numRuns: 300 })
})

test('movesForward: a terminal state never changes and no state goes backwards', () => {
  const state = fc.constantFrom(...ALL_STATES)
  fc.assert(fc.property(state, state, (from, to) => {
    const allowed = movesForward(from, to)
    if (isTerminal(from)) assert.equal(allowed, false, `${TaskState[from]} → ${TaskState[to]}`)
    else if (isTerminal(to)) assert.equal(allowed, true, `${TaskState[from]} → ${TaskState[to]}`)
    else assert.equal(allowed, PROGRESS.indexOf(to) >= PROGRESS.indexOf(from), `${TaskState[from]} → ${TaskState[to]}`)
  }), { numRuns: 500 })
  assert.deepEqual([...TERMINAL_STATES].sort(), [TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED, TaskState.REJECTED, TaskState.LOST].sort())
})

test('a task\'s recorded states only move forward, and nothing follows a terminal event (any order of observations)', () => {
  const base = validateSpec(wireSpec())
  const store = tempStore()
  let run = 0
  fc.assert(fc.property(fc.array(fc.constantFrom(...ALL_STATES), { maxLength: 40 }), observations => {
    const spec = { ...base, id: `forward-${run++}` }
    store.createTask({ spec, role: 'executed', peerId: 'master', peerName: '' })
    const task = new WorkerTask(spec, 'master', store, { logLimitBytes: 1024 })
    const recorded: TaskState[] = []
    for (const state of observations) {
      const event = task.append({ state })
      if (event != null) recorded.push(event.state)
    }
    for (let i = 1; i < recorded.length; i++) {
      assert.ok(!isTerminal(recorded[i - 1]), 'an event followed a terminal one')
      assert.ok(movesForward(recorded[i - 1], recorded[i]), `${TaskState[recorded[i - 1]]} then ${TaskState[recorded[i]]}`)
    }
    // The first terminal observation ends the task, whatever comes after it.
    const firstTerminal = observations.findIndex(isTerminal)
    if (firstTerminal >= 0) {
      assert.equal(task.state, observations[firstTerminal])
      assert.equal(recorded.length, firstTerminal + 1)
    } else {
      assert.equal(recorded.length, observations.length)
    }
    store.commit() // readers are shown the events once their batch is on disk
    assert.deepEqual(recorded.map((_, i) => i + 1), Array.from({ length: task.lastSeq }, (_, i) => i + 1))
  }), { numRuns: 500 })
})

test('eventToJson encodes log bytes as base64 without loss and names the stream', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 70_000 }), fc.constantFrom(LogStream.STDOUT, LogStream.STDERR), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (data, stream, seq) => {
    const event: TaskEvent = { taskId: 't1', seq, timeMs: 1_700_000_000_000, state: TaskState.RUNNING, log: { stream, data, segments: [] } }
    // Through the wire and through JSON text, as the API serves it.
    const json = JSON.parse(JSON.stringify(eventToJson(TaskEvent.decode(TaskEvent.encode(event)))))
    assert.equal(json.seq, seq)
    assert.equal(json.log.stream, stream === LogStream.STDERR ? 'stderr' : 'stdout')
    assert.match(json.log.data, /^[A-Za-z0-9+/]*={0,2}$/)
    assert.deepEqual(new Uint8Array(Buffer.from(json.log.data, 'base64')), data)
  }), { numRuns: 200 })
})

test('eventToJson keeps each detail with its camelCase field names and an ISO time', () => {
  const base = { taskId: 't1', seq: 3, timeMs: Date.UTC(2025, 0, 2, 3, 4, 5, 6), state: TaskState.FAILED }
  assert.deepEqual(eventToJson({ ...base, exit: { code: -1, oomKilled: true, timedOut: false }, error: { code: 'OOM_KILLED', message: 'm' } }), {
    taskId: 't1', seq: 3, time: '2025-01-02T03:04:05.006Z', state: TaskState.FAILED, exit: { code: -1, oomKilled: true, timedOut: false }, error: { code: 'OOM_KILLED', message: 'm' }
  })
  assert.deepEqual(eventToJson({ ...base, state: TaskState.PULLING, pull: { doneBytes: 5, totalBytes: 10 } }).pull, { doneBytes: 5, totalBytes: 10 })
  assert.equal(eventToJson({ ...base, state: TaskState.QUEUED, queuedPosition: 0 }).queuedPosition, 0)
  assert.equal(eventToJson({ ...base, state: TaskState.RUNNING, containerId: 'abc' }).containerId, 'abc')
  assert.deepEqual(Object.keys(eventToJson(base)).sort(), ['seq', 'state', 'taskId', 'time'])
})

test('image holders and grant: kept when well formed; too many, not peer IDs, an over-long or non-base64 grant, or either without an image ID are refused', async () => {
  const { generateKeyPair } = await import('@libp2p/crypto/keys')
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
  const { MAX_IMAGE_HOLDERS, signImageGrant, verifyImageGrant } = await import('../../node/src/images/image-grant.ts')
  const imageId = `sha256:${'f'.repeat(64)}`
  const key = await generateKeyPair('Ed25519')
  const holder = peerIdFromPrivateKey(key).toString()
  const grant = await signImageGrant(key, 'm1abc-0123456789ab', imageId)
  const kept = validateSpec(wireSpec({ imageId, imageHolders: [holder], imageGrant: grant }))
  assert.deepEqual(kept.imageHolders, [holder])
  assert.equal(kept.imageGrant, grant)
  assert.equal(validateSpec(wireSpec({ imageId })).imageHolders, undefined, 'no holders: the field is left out')
  assertRefused(wireSpec({ imageId, imageHolders: Array.from({ length: MAX_IMAGE_HOLDERS + 1 }, () => holder) }), 'too many holders')
  assertRefused(wireSpec({ imageId, imageHolders: ['../../etc/passwd'] }), 'a holder that is not a peer ID')
  assertRefused(wireSpec({ imageId, imageHolders: ['x'.repeat(1000)] }), 'an endless holder')
  assertRefused(wireSpec({ imageId, imageGrant: 'A'.repeat(10_000) }), 'an over-long grant')
  assertRefused(wireSpec({ imageId, imageGrant: 'not base64!' }), 'a grant that is not base64')
  assertRefused(wireSpec({ imageHolders: [holder], imageGrant: grant }), 'holders without an image ID')
  // More holders than the decode limit fail on the wire, before anything is allocated for them.
  const flood = MasterMessage.encode({ submit: { spec: wireSpec({ imageId, imageHolders: Array.from({ length: 10_000 }, () => holder) }) } })
  assert.throws(() => decodeAsWorker(flood))
  // A grant checks out only for its own task, image and signer; junk is false, never a throw.
  assert.equal(await verifyImageGrant(holder, 'm1abc-0123456789ab', imageId, grant), true)
  assert.equal(await verifyImageGrant(holder, 'm1abc-other', imageId, grant), false)
  assert.equal(await verifyImageGrant(holder, 'm1abc-0123456789ab', `sha256:${'e'.repeat(64)}`, grant), false)
  for (const [signer, junk] of [[holder, ''], [holder, 'AAAA'], [holder, 'x'.repeat(300)], ['not-a-peer-id', grant], ['', grant]]) {
    assert.equal(await verifyImageGrant(signer, 'm1abc-0123456789ab', imageId, junk), false, `${signer.slice(0, 20)} ${junk.slice(0, 20)}`)
  }
})
