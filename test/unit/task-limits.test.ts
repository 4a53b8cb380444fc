import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { ExecutorTask } from '../../node/src/executor/executor.ts'
import { buildCreateOptions, validateTask } from '../../node/src/executor/host-config.ts'
import { InvalidTaskError } from '../../node/src/errors.ts'
import { MAX_TASK_CPU, MAX_TASK_GPUS, validateSpec, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import { MIN_TASK_CPU, MIN_TASK_MEMORY_BYTES, MIN_TASK_STORAGE_BYTES, NANO_PER_CPU } from '../../node/src/resource-floors.ts'
import { ResourceLedger } from '../../node/src/worker/ledger.ts'
import { TaskSpec as WireTaskSpec } from '../../protocols/task.ts'

/**
 * Any spec the validator accepts becomes a container with real limits (a CPU
 * quota at or above the floor the kernel enforces, a memory limit, a storage quota where the
 * engine enforces one), and the ledger holds exactly what the container is held to.
 */

/** Amounts as a hostile or careless submitter might send them: zero, tiny, negative, fractional, huge, not numbers. */
function amount (floor: number, max: number): fc.Arbitrary<number> {
  return fc.oneof(
    fc.constantFrom(0, -0, 1, floor - 1, floor, floor + 1, floor / 2, Number.MIN_VALUE, 1e-10, Number.NaN, Number.POSITIVE_INFINITY, -1, max, max + 1),
    fc.double({ min: 0, max: floor * 4 }),
    fc.integer({ min: 0, max: Math.floor(floor * 4) }),
    fc.double({ min: -max, max: max * 2 }),
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
  )
}

const wireResources = fc.record({
  cpu: amount(MIN_TASK_CPU, MAX_TASK_CPU),
  memoryBytes: amount(MIN_TASK_MEMORY_BYTES, Number.MAX_SAFE_INTEGER),
  storageBytes: amount(MIN_TASK_STORAGE_BYTES, Number.MAX_SAFE_INTEGER),
  gpus: fc.integer({ min: 0, max: MAX_TASK_GPUS + 1 })
})

function wireSpec (resources: WireTaskSpec['resources']): WireTaskSpec {
  return {
    id: 'limits-1',
    imageHolders: [],
    image: '127.0.0.1:5000/cloudai/busybox:1',
    command: ['true'],
    env: new Map(),
    resources,
    network: 'none',
    timeoutMs: 0,
    labels: new Map(),
    attempt: 1
  }
}

/** What the worker hands the executor for an admitted spec. */
function executorTask (spec: TaskSpec, gpuDeviceIds: string[]): ExecutorTask {
  return {
    taskId: spec.id,
    attempt: spec.attempt,
    image: spec.image,
    command: spec.command,
    env: spec.env,
    resources: spec.resources,
    network: spec.network,
    labels: spec.labels,
    submitter: '12D3KooWMaster',
    node: '12D3KooWWorker',
    gpuDeviceIds
  }
}

/** The validator's answer: the spec, or undefined when it refused with InvalidTaskError (anything else is a bug). */
function accepted (wire: WireTaskSpec): TaskSpec | undefined {
  try {
    return validateSpec(wire)
  } catch (err) {
    if (err instanceof InvalidTaskError) return undefined
    throw err
  }
}

test('property: any spec the validator accepts gets real limits in its container options, and the ledger holds exactly those', () => {
  let admitted = 0
  fc.assert(fc.property(wireResources, fc.boolean(), (resources, storageEnforced) => {
    const spec = accepted(wireSpec(resources))
    if (spec === undefined) return
    admitted++
    const ledger = new ResourceLedger({ cpu: MAX_TASK_CPU, memoryBytes: Number.MAX_SAFE_INTEGER, storageBytes: Number.MAX_SAFE_INTEGER, gpus: MAX_TASK_GPUS })
    const { gpuDeviceIds } = ledger.reserve(spec.id, spec.resources)
    const task = executorTask(spec, gpuDeviceIds)
    validateTask(task)
    const host = buildCreateOptions(task, { storageEnforced }).HostConfig
    assert.ok(host != null)
    const asked = JSON.stringify(resources)

    assert.ok(Number.isSafeInteger(host.NanoCpus) && host.NanoCpus! >= MIN_TASK_CPU * NANO_PER_CPU, `NanoCpus ${host.NanoCpus} for ${asked}`)
    assert.ok(Number.isSafeInteger(host.Memory) && host.Memory! >= MIN_TASK_MEMORY_BYTES, `Memory ${host.Memory} for ${asked}`)
    assert.equal(host.MemorySwap, host.Memory, 'no swap beyond the memory limit')
    const storage = host.StorageOpt?.size
    if (storageEnforced) assert.ok(storage !== undefined && Number(storage) >= MIN_TASK_STORAGE_BYTES, `StorageOpt.size ${storage} for ${asked}`)
    else assert.equal(storage, undefined, 'no StorageOpt where the engine cannot enforce it')

    const held = ledger.allocated()
    assert.equal(Math.round(held.cpu * NANO_PER_CPU), host.NanoCpus, `the ledger holds the CPU the container gets, for ${asked}`)
    assert.equal(held.memoryBytes, host.Memory, `the ledger holds the memory the container gets, for ${asked}`)
    if (storageEnforced) assert.equal(held.storageBytes, Number(storage), `the ledger holds the storage the container gets, for ${asked}`)
    assert.equal(held.gpus, spec.resources.gpus)
  }), { numRuns: 2_000 })
  assert.ok(admitted > 100, `the property saw ${admitted} accepted specs`)
})
