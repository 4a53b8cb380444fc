import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HeldImages } from '../../node/src/images/held-images.ts'
import { MAX_ADVERTISED_IMAGES, validateStatus, encodeStatus } from '../../node/src/protocol/node-messages.ts'

/** The image IDs a node advertises in its Status: its tasks' most recently used first, then the engine's newest, bounded. */

const id = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`

test('the images a task used come first, then the engine\'s newest; never more than the bound; removed ones go', async () => {
  let engine = Array.from({ length: 100 }, (_, i) => id(i))
  const held = new HeldImages(async () => engine)
  await held.refresh()
  assert.deepEqual(held.list(), engine.slice(0, MAX_ADVERTISED_IMAGES))
  held.touch(id(90))
  held.touch(id(80))
  assert.deepEqual(held.list().slice(0, 3), [id(80), id(90), id(0)])
  assert.equal(held.list().length, MAX_ADVERTISED_IMAGES)
  assert.equal(new Set(held.list()).size, MAX_ADVERTISED_IMAGES)
  // Removed from the engine: no longer advertised, however recently used.
  engine = engine.filter(image => image !== id(80))
  await held.refresh()
  assert.deepEqual(held.list().slice(0, 2), [id(90), id(0)])
  // An engine that does not answer leaves the list as it was.
  const failing = new HeldImages(async () => { throw new Error('engine down') })
  failing.touch(id(1))
  await failing.refresh()
  assert.deepEqual(failing.list(), [id(1)])
})

test('a peer\'s advertised image IDs: what is not an image ID is dropped, and at most the bound are sent', () => {
  const status = validateStatus({
    name: 'n', version: '1', capacity: { cpu: 1, memoryBytes: 2, storageBytes: 3, gpus: 0 }, allocated: { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 },
    running: 0, queued: 0, labels: new Map(), executorHealthy: true, executorDetail: '', storageEnforced: false, members: [], listenAddrs: [],
    imageIds: [id(1), 'sha256:../../etc', 'x'.repeat(300), id(2)]
  })
  assert.deepEqual(status.imageIds, [id(1), id(2)])
  assert.equal(encodeStatus({ ...status, imageIds: Array.from({ length: 100 }, (_, i) => id(i)) }).imageIds.length, MAX_ADVERTISED_IMAGES)
})
