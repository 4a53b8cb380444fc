import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ResourceLedger } from '../../node/src/worker/ledger.ts'

/**
 * A node restarted with less than its running containers hold: the
 * ledger takes them back all the same, says what is over-committed, admits nothing new
 * meanwhile, and once they end holds exactly the new capacity, GPUs included.
 */

const GiB = 1024 ** 3

test('re-adopted tasks past a lowered capacity are held and reported; once released, the ledger is exactly the new capacity', () => {
  const ledger = new ResourceLedger({ cpu: 1, memoryBytes: 4 * GiB, storageBytes: 10 * GiB, gpus: 1 })
  // Started when the node offered 2 CPU and 2 GPUs.
  ledger.readopt('a', { cpu: 1, memoryBytes: GiB, storageBytes: GiB, gpus: 1 }, ['0'])
  ledger.readopt('b', { cpu: 1, memoryBytes: GiB, storageBytes: GiB, gpus: 1 }, ['1'])
  assert.equal(ledger.overCommit(), '2 CPU held, node has 1; 2 GPU held, node has 1')
  assert.deepEqual(ledger.allocated(), { cpu: 2, memoryBytes: 2 * GiB, storageBytes: 2 * GiB, gpus: 2 })
  assert.equal(ledger.fits({ cpu: 0.5, memoryBytes: GiB, storageBytes: 0, gpus: 0 }), false, 'a new task fits beside an over-commit')

  ledger.release('b')
  assert.equal(ledger.overCommit(), undefined)
  assert.equal(ledger.fits({ cpu: 0.5, memoryBytes: GiB, storageBytes: 0, gpus: 1 }), false, 'GPU 0 is still held by a')
  ledger.release('a')
  assert.deepEqual(ledger.allocated(), { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 })
  // GPU 1 is no longer offered: releasing it must not grow the pool past the capacity.
  assert.deepEqual(ledger.reserve('c', { cpu: 1, memoryBytes: GiB, storageBytes: 0, gpus: 1 }).gpuDeviceIds, ['0'])
  assert.equal(ledger.fits({ cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 1 }), false, 'the pool grew past the node\'s GPUs')
})
