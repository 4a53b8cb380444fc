import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { MIN_TASK_CPU, MIN_TASK_MEMORY_BYTES, MIN_TASK_STORAGE_BYTES } from '../../node/src/resource-floors.ts'
import type { ResourceAmounts } from '../../node/src/resources.ts'
import { ResourceLedger } from '../../node/src/worker/ledger.ts'
import { EXACT_POSITIONS, MAX_QUEUED_TASKS, TaskQueue } from '../../node/src/worker/task-queue.ts'

const GiB = 2 ** 30
const CAPACITY: ResourceAmounts = { cpu: 2, memoryBytes: 16 * GiB, storageBytes: 100 * GiB, gpus: 2 }

function needs (extra: Partial<ResourceAmounts> = {}): ResourceAmounts {
  return { cpu: 1, memoryBytes: GiB, storageBytes: GiB, gpus: 0, ...extra }
}

test('a task fits while there is room, and no longer once the room is held', () => {
  const ledger = new ResourceLedger(CAPACITY)
  assert.ok(ledger.fits(needs()))
  ledger.reserve('a', needs())
  assert.ok(ledger.fits(needs()))
  assert.ok(ledger.fits({ cpu: 1, memoryBytes: 15 * GiB, storageBytes: GiB, gpus: 2 }), 'memory and GPUs left are still free')
  assert.equal(ledger.fits({ cpu: 1, memoryBytes: 15 * GiB + 1, storageBytes: GiB, gpus: 0 }), false)
  ledger.reserve('b', needs())
  assert.equal(ledger.fits(needs()), false, 'a third CPU does not fit on two')
  assert.equal(ledger.fits(needs({ cpu: 0.001 })), false)
  assert.equal(ledger.fits({ cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 }), false, 'a task asking for nothing still holds the floors')
  assert.deepEqual(ledger.allocated(), { cpu: 2, memoryBytes: 2 * GiB, storageBytes: 2 * GiB, gpus: 0 })
  assert.throws(() => ledger.reserve('c', needs()), { name: 'ReservationError' })
  assert.throws(() => ledger.reserve('a', needs({ cpu: 0 })), { name: 'ReservationError' }, 'one reservation per task')
})

test('a task that can never fit gets the reason with the numbers, each resource that is short', () => {
  const ledger = new ResourceLedger(CAPACITY)
  assert.equal(ledger.neverFits(needs({ cpu: 64 })), 'needs 64 CPU, node has 2')
  assert.equal(ledger.neverFits(needs({ memoryBytes: 64 * GiB })), 'needs 64 GiB memory, node has 16 GiB')
  assert.equal(ledger.neverFits(needs({ storageBytes: 200 * GiB })), 'needs 200 GiB storage, node has 100 GiB')
  assert.equal(ledger.neverFits(needs({ gpus: 3 })), 'needs 3 GPU, node has 2')
  assert.equal(ledger.neverFits(needs({ cpu: 3, gpus: 4 })), 'needs 3 CPU, node has 2; 4 GPU, node has 2')
  assert.equal(ledger.neverFits(CAPACITY), undefined, 'the whole node fits an empty node')
  ledger.reserve('full', CAPACITY)
  assert.equal(ledger.neverFits(needs()), undefined, 'never-fit is about the node, not what is held now')
  assert.equal(ledger.fits(needs()), false)
})

test('a reservation is released exactly once: a second release is a no-op', () => {
  const ledger = new ResourceLedger(CAPACITY)
  ledger.reserve('a', needs({ gpus: 1 }))
  ledger.reserve('b', needs({ gpus: 1 }))
  assert.equal(ledger.release('a'), true)
  assert.deepEqual(ledger.allocated(), { cpu: 1, memoryBytes: GiB, storageBytes: GiB, gpus: 1 })
  assert.equal(ledger.release('a'), false)
  assert.equal(ledger.release('never-held'), false)
  assert.deepEqual(ledger.allocated(), { cpu: 1, memoryBytes: GiB, storageBytes: GiB, gpus: 1 }, 'b still holds its share')
  assert.equal(ledger.reservation('a'), undefined)
  assert.equal(ledger.release('b'), true)
  assert.deepEqual(ledger.allocated(), { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 })
})

test('fractional CPU adds up exactly: ten tasks of 0.1 fill one core, and releasing them leaves zero', () => {
  const ledger = new ResourceLedger({ ...CAPACITY, cpu: 1 })
  for (let i = 0; i < 10; i++) ledger.reserve(`t${i}`, needs({ cpu: 0.1, memoryBytes: 0, storageBytes: 0 }))
  assert.equal(ledger.allocated().cpu, 1)
  assert.equal(ledger.fits(needs({ cpu: 0.1, memoryBytes: 0, storageBytes: 0 })), false)
  for (let i = 0; i < 10; i++) ledger.release(`t${i}`)
  assert.equal(ledger.allocated().cpu, 0)
  const small = new ResourceLedger({ ...CAPACITY, cpu: 0.3 })
  small.reserve('a', needs({ cpu: 0.1, memoryBytes: 0, storageBytes: 0 }))
  assert.ok(small.fits(needs({ cpu: 0.2, memoryBytes: 0, storageBytes: 0 })), '0.1 + 0.2 fits 0.3')
})

test('tiny asks hold the floors: of 1,000 tasks asking 1e-10 CPU and 1 byte of memory and storage, one core holds 100', () => {
  const ledger = new ResourceLedger({ ...CAPACITY, cpu: 1 })
  const tiny = { cpu: 1e-10, memoryBytes: 1, storageBytes: 1, gpus: 0 }
  let held = 0
  for (let i = 0; i < 1_000 && ledger.fits(tiny); i++) {
    ledger.reserve(`tiny-${i}`, tiny)
    held++
  }
  console.log(`tasks asking 1e-10 CPU held on one core: ${held} of 1,000`)
  assert.equal(held, 1 / MIN_TASK_CPU)
  assert.deepEqual(ledger.allocated(), { cpu: 1, memoryBytes: held * MIN_TASK_MEMORY_BYTES, storageBytes: held * MIN_TASK_STORAGE_BYTES, gpus: 0 })
  assert.equal(ledger.neverFits({ ...tiny, cpu: 0 }), undefined)
  assert.equal(new ResourceLedger({ ...CAPACITY, cpu: MIN_TASK_CPU / 2 }).neverFits(tiny), `needs ${MIN_TASK_CPU} CPU, node has ${MIN_TASK_CPU / 2}`, 'the reason names what the task would hold')
})

test('GPUs are handed out by device id and never shared; a released one is handed out again', () => {
  const ledger = new ResourceLedger({ ...CAPACITY, gpus: 4, cpu: 8 })
  const a = ledger.reserve('a', needs({ gpus: 2 }))
  const b = ledger.reserve('b', needs({ gpus: 1 }))
  const c = ledger.reserve('c', needs({ gpus: 0 }))
  assert.deepEqual(a.gpuDeviceIds, ['0', '1'])
  assert.deepEqual(b.gpuDeviceIds, ['2'])
  assert.deepEqual(c.gpuDeviceIds, [])
  assert.equal(ledger.fits(needs({ gpus: 2 })), false, 'one GPU is left')
  ledger.release('a')
  const d = ledger.reserve('d', needs({ gpus: 3 }))
  assert.deepEqual(d.gpuDeviceIds, ['0', '1', '3'])
  assert.equal(ledger.allocated().gpus, 4)

  const named = new ResourceLedger({ ...CAPACITY, gpus: 2 }, ['GPU-aaa', 'GPU-bbb'])
  assert.deepEqual(named.reserve('x', needs({ gpus: 1 })).gpuDeviceIds, ['GPU-aaa'])
  assert.throws(() => new ResourceLedger({ ...CAPACITY, gpus: 2 }, ['0', '0']), { name: 'ReservationError' })
})

test('property: any sequence of reserves and releases never holds more than the capacity, never shares a GPU, and ends at zero', () => {
  const capacity = fc.record({
    cpu: fc.integer({ min: 1, max: 64 }).map(tenths => tenths / 10),
    memoryBytes: fc.integer({ min: 1, max: 64 * GiB }),
    storageBytes: fc.integer({ min: 0, max: 64 * GiB }),
    gpus: fc.integer({ min: 0, max: 8 })
  })
  const request = fc.record({
    cpu: fc.integer({ min: 1, max: 80 }).map(tenths => tenths / 10),
    memoryBytes: fc.integer({ min: MIN_TASK_MEMORY_BYTES, max: 16 * GiB }),
    storageBytes: fc.integer({ min: MIN_TASK_STORAGE_BYTES, max: 16 * GiB }),
    gpus: fc.integer({ min: 0, max: 4 })
  })
  const op = fc.oneof(
    fc.record({ kind: fc.constant('reserve' as const), task: fc.integer({ min: 0, max: 15 }), needs: request }),
    fc.record({ kind: fc.constant('release' as const), task: fc.integer({ min: 0, max: 15 }) })
  )
  fc.assert(fc.property(capacity, fc.array(op, { maxLength: 200 }), (cap, ops) => {
    const ledger = new ResourceLedger(cap)
    const held = new Map<string, ResourceAmounts & { ids: string[] }>()
    for (const step of ops) {
      const id = `t${step.task}`
      if (step.kind === 'reserve') {
        const fits = ledger.fits(step.needs) && !held.has(id)
        if (fits) {
          const r = ledger.reserve(id, step.needs)
          assert.equal(r.gpuDeviceIds.length, step.needs.gpus)
          held.set(id, { ...step.needs, ids: r.gpuDeviceIds })
        } else {
          assert.throws(() => ledger.reserve(id, step.needs), { name: 'ReservationError' })
        }
      } else {
        assert.equal(ledger.release(id), held.delete(id), 'release is true exactly once per reservation')
      }
      const sum = [...held.values()].reduce((s, r) => ({ cpu: s.cpu + r.cpu, memoryBytes: s.memoryBytes + r.memoryBytes, storageBytes: s.storageBytes + r.storageBytes, gpus: s.gpus + r.gpus }), { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 })
      const allocated = ledger.allocated()
      assert.ok(sum.cpu <= cap.cpu + 1e-9 && allocated.cpu <= cap.cpu, `CPU ${sum.cpu} over ${cap.cpu}`)
      assert.ok(allocated.memoryBytes <= cap.memoryBytes && allocated.storageBytes <= cap.storageBytes && allocated.gpus <= cap.gpus)
      assert.ok(Math.abs(allocated.cpu - sum.cpu) < 1e-9)
      assert.equal(allocated.memoryBytes, sum.memoryBytes)
      assert.equal(allocated.storageBytes, sum.storageBytes)
      assert.equal(allocated.gpus, sum.gpus)
      const ids = [...held.values()].flatMap(r => r.ids)
      assert.equal(new Set(ids).size, ids.length, `a GPU is shared: ${ids.join(',')}`)
      assert.ok(ids.every(gpu => Number(gpu) < cap.gpus))
    }
    for (const id of held.keys()) ledger.release(id)
    assert.deepEqual(ledger.allocated(), { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 })
  }), { numRuns: 300 })
})

test('the queue is first in, first out, with 1-based positions, removal from the middle, and a bound', () => {
  const queue = new TaskQueue<string>(3)
  assert.equal(queue.push('a', 'A'), 1)
  assert.equal(queue.push('b', 'B'), 2)
  assert.equal(queue.push('c', 'C'), 3)
  assert.equal(queue.full, true)
  assert.equal(queue.push('d', 'D'), undefined, 'a full queue takes nothing')
  assert.equal(queue.push('a', 'A again'), undefined)
  assert.deepEqual(queue.moved(), [], 'nobody moved yet')
  assert.equal(queue.remove('b'), true)
  assert.equal(queue.remove('b'), false)
  assert.equal(queue.position('c'), 2)
  assert.deepEqual(queue.moved(), [{ item: 'C', position: 2 }], 'only the one behind the removed moved')
  assert.deepEqual(queue.moved(), [], 'each move is reported once')
  assert.equal(queue.peek(), 'A')
  assert.equal(queue.shift(), 'A')
  assert.deepEqual(queue.moved(), [{ item: 'C', position: 1 }])
  assert.equal(queue.push('e', 'E'), 2)
  assert.deepEqual(queue.items(), ['C', 'E'])
  assert.equal(queue.size, 2)
  assert.equal(queue.shift(), 'C')
  assert.equal(queue.shift(), 'E')
  assert.equal(queue.shift(), undefined)
  assert.equal(queue.peek(), undefined)
  assert.equal(queue.position('e'), undefined)
  assert.equal(new TaskQueue().limit, MAX_QUEUED_TASKS)
})

test('property: the queue keeps the order of arrival whatever is removed', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('push' as const) }),
    fc.record({ kind: fc.constant('shift' as const) }),
    fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() })
  )
  fc.assert(fc.property(fc.array(op, { maxLength: 100 }), ops => {
    const queue = new TaskQueue<number>(10)
    const model: number[] = []
    let next = 0
    for (const step of ops) {
      if (step.kind === 'push') {
        const position = queue.push(String(next), next)
        if (model.length < 10) {
          model.push(next)
          assert.equal(position, model.length)
        } else {
          assert.equal(position, undefined)
        }
        next++
      } else if (step.kind === 'shift') {
        assert.equal(queue.shift(), model.shift())
      } else if (model.length > 0) {
        const [gone] = model.splice(step.pick % model.length, 1)
        assert.equal(queue.remove(String(gone)), true)
      }
      assert.deepEqual(queue.items(), model)
      for (const { item, position } of queue.moved()) assert.equal(model.indexOf(item) + 1, position)
    }
  }))
})

test('a long queue tells each task a few new positions, not one per task ahead of it, and every move near the head', () => {
  const queue = new TaskQueue<number>(1000)
  for (let i = 0; i < 1000; i++) queue.push(String(i), i)
  const told = new Map<number, number[]>()
  while (queue.size > 0) {
    queue.shift()
    for (const { item, position } of queue.moved()) told.set(item, [...(told.get(item) ?? []), position])
  }
  const most = Math.max(...[...told.values()].map(positions => positions.length))
  assert.ok(most <= EXACT_POSITIONS + Math.ceil(Math.log2(1000)), `a task was told ${most} positions`)
  for (const [item, positions] of told) {
    if (item >= 1 && item < 1000) assert.equal(positions.at(-1), 1, `task ${item} was not told it is next`)
    const nearHead = positions.filter(position => position <= EXACT_POSITIONS)
    assert.deepEqual(nearHead, Array.from({ length: Math.min(EXACT_POSITIONS, item) }, (_, k) => Math.min(EXACT_POSITIONS, item) - k), `task ${item}: ${positions.join(',')}`)
  }
})
