import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { createSimulatedExecutor } from '../../node/src/executor/simulated.ts'
import { TaskState, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import { STORE_FILE, TaskStore } from '../../node/src/store/store.ts'
import { parsePolicy } from '../../node/src/worker/policy-file.ts'
import { Worker } from '../../node/src/worker/worker.ts'
import { FLAT_HEAP_BYTES, settledMemory } from '../helpers/fuzz.ts'

/**
 * Refused work costs nothing lasting. A flood of Submits the policy or the
 * rate limit refuses, each with a large spec, leaves the store and the heap as they were, shows
 * no "TASK RECEIVED" box, and leaves one audit line each.
 */

const GiB = 1024 ** 3
const MiB = 1024 ** 2
/** The figure. */
const REFUSED_SUBMITS = 2_000
/** A quarter of the largest spec text the validator accepts (MAX_SPEC_TEXT). */
const SPEC_ARGUMENT_BYTES = 128 * 1024
/** SQLite's pages for a few rows of bookkeeping at most: far below one stored spec per refusal. */
const FLAT_STORE_BYTES = 1 * MiB

function storeBytes (dir: string): number {
  return [STORE_FILE, `${STORE_FILE}-wal`].reduce((sum, file) => {
    try { return sum + statSync(join(dir, file)).size } catch { return sum }
  }, 0)
}

test(`${REFUSED_SUBMITS} refused Submits with ${SPEC_ARGUMENT_BYTES / 1024} KiB specs leave the store size and the heap flat, show nothing, and are audited`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudai-refused-'))
  const store = TaskStore.open(dir)
  after(() => { store.close(); rmSync(dir, { recursive: true, force: true }) })
  const shown: string[] = []
  const audited: string[] = []
  const worker = new Worker({
    executor: createSimulatedExecutor({ pullMs: 1, startMs: 1 }),
    capacity: { cpu: 4, memoryBytes: 8 * GiB, storageBytes: 8 * GiB, gpus: 0 },
    nodeId: 'node',
    store,
    // 'stranger' is refused by the policy; 'flooder' may submit, once, then the rate limit refuses it.
    policy: parsePolicy(JSON.stringify({ submitters: ['flooder'], submissions: { perSecond: 0.001, burst: 1 } })),
    onReceived: spec => { shown.push(spec.id) },
    onRefused: (_peer, _taskId, code) => { audited.push(code) }
  })
  const spec = (id: string): TaskSpec => ({
    id, image: '127.0.0.1:5000/x:1', command: ['out:' + String(id).padEnd(SPEC_ARGUMENT_BYTES, 'x')], env: {}, resources: { cpu: 1, memoryBytes: GiB, storageBytes: 0, gpus: 0 }, network: 'none', labels: {}, attempt: 1
  })
  assert.notEqual(worker.submit(spec('accepted'), 'flooder').state, TaskState.REJECTED, 'the flooder\'s first task is within its burst')
  const refuse = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const task = worker.submit(spec(`refused-${i}`), i % 2 === 0 ? 'stranger' : 'flooder')
      assert.equal(task.state, TaskState.REJECTED)
      assert.equal(task.eventAt(task.lastSeq)?.error?.code, i % 2 === 0 ? 'POLICY' : 'RATE_LIMITED')
    }
  }
  refuse(0, 20) // warm-up: lazily made code paths and caches are not growth
  const storeBefore = storeBytes(dir)
  const heapBefore = settledMemory().heapUsed
  refuse(20, REFUSED_SUBMITS)
  const heapGrowth = settledMemory().heapUsed - heapBefore
  const storeGrowth = storeBytes(dir) - storeBefore
  console.log(`${REFUSED_SUBMITS} refused Submits: store grew ${(storeGrowth / MiB).toFixed(2)} MiB, heap ${(heapGrowth / MiB).toFixed(2)} MiB; tasks stored: ${store.list().length}`)
  assert.ok(storeGrowth < FLAT_STORE_BYTES, `the store grew by ${(storeGrowth / MiB).toFixed(1)} MiB`)
  assert.ok(heapGrowth < FLAT_HEAP_BYTES, `the heap grew by ${(heapGrowth / MiB).toFixed(1)} MiB`)
  assert.deepEqual(store.list().map(record => record.taskId), ['accepted'], 'only the accepted task is stored')
  assert.equal(worker.get('refused-7'), undefined, 'the worker does not know a refused task')
  assert.deepEqual(shown, ['accepted'], 'no TASK RECEIVED box for a refused Submit')
  assert.equal(audited.length, REFUSED_SUBMITS, 'one audit line per refusal')
  await worker.cancelAll()
})
