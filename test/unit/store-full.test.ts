import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { codeOf } from '../../node/src/errors.ts'
import { LogStream, TaskState, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import { TaskStore } from '../../node/src/store/store.ts'
import { storedEvent, storedSpec } from '../helpers/store.ts'
import { mountSmallDisk, type SmallDisk } from '../helpers/tmpfs.ts'

/**
 * A task store on a disk that fills: a write that does not fit fails with
 * STORE_FULL, leaves the store as it was, and the same write succeeds once space returns.
 * The disk is a small tmpfs of its own (root), unmounted when the file ends.
 */

/** Larger than the headroom the store keeps, so that a disk with room is not "nearly full". */
const DISK_BYTES = 32 * 1024 * 1024
/** One output event: a container's log chunk at its largest. */
const CHUNK_BYTES = 64 * 1024

let disk: SmallDisk
let store: TaskStore

before(async () => {
  disk = await mountSmallDisk(DISK_BYTES)
  store = TaskStore.open(disk.path)
})

after(async () => {
  store?.close()
  await disk?.remove()
})

/** A pull-progress event: small, and not output, so only the disk itself can refuse it. */
function progress (taskId: string, seq: number): TaskEvent {
  return storedEvent(taskId, seq, TaskState.PULLING, { pull: { doneBytes: seq, totalBytes: 1 << 30 } })
}

function output (taskId: string, seq: number): TaskEvent {
  return storedEvent(taskId, seq, TaskState.RUNNING, { log: { stream: LogStream.STDOUT, data: new Uint8Array(CHUNK_BYTES).fill(120), segments: [] } })
}

/** The code of what `work` throws; undefined if it succeeds. */
function codeThrown (work: () => unknown): string | undefined {
  try {
    work()
    return undefined
  } catch (err) {
    return codeOf(err)
  }
}

/** Record `event` as the worker would; the error's code if it fails. */
function recordOrCode (event: TaskEvent): string | undefined {
  return codeThrown(() => store.recordEvent('executed', 1, event))
}

test('a write to a full disk fails with STORE_FULL, changes nothing, and succeeds once space returns', () => {
  store.createTask({ spec: storedSpec('filling'), role: 'executed', peerId: 'master', peerName: 'master' })
  store.recordEvent('executed', 1, storedEvent('filling', 1, TaskState.PULLING))
  disk.fill(0)
  // The store's own files may still have a little room: write until the disk refuses (bounded by its pages).
  let refusedSeq = 2
  try {
    let code: string | undefined
    for (; refusedSeq < 2 + DISK_BYTES / 4096 && code == null; refusedSeq++) code = recordOrCode(progress('filling', refusedSeq))
    refusedSeq--
    assert.equal(code, 'STORE_FULL', `a write that did not fit failed with ${code}`)

    const row = store.task('filling', 'executed')!
    assert.equal(row.state, TaskState.PULLING, 'the row is as the last stored event left it')
    assert.equal(row.lastSeq, refusedSeq - 1, 'the refused event is not half there')
    assert.equal(store.event('filling', 1, refusedSeq), undefined)
  } finally {
    disk.unfill()
  }
  assert.equal(recordOrCode(progress('filling', refusedSeq)), undefined, 'the same write succeeds once space returns')
  assert.equal(recordOrCode(storedEvent('filling', refusedSeq + 1, TaskState.SUCCEEDED, { exit: { code: 0, oomKilled: false, timedOut: false } })), undefined)
  assert.equal(store.task('filling', 'executed')!.state, TaskState.SUCCEEDED)
})

test('a nearly full disk takes no new task and no more output, but still takes the events that end running tasks', () => {
  store.createTask({ spec: storedSpec('running'), role: 'executed', peerId: 'master', peerName: 'master' })
  store.recordEvent('executed', 1, storedEvent('running', 1, TaskState.RUNNING, { containerId: 'c2' }))
  disk.fill(1024 * 1024)
  try {
    assert.equal(codeThrown(() => { store.createTask({ spec: storedSpec('new'), role: 'submitted', peerId: 'w', peerName: 'w' }) }), 'STORE_FULL', 'a new task is refused')
    assert.equal(store.task('new', 'submitted'), undefined, 'the refused task is not recorded')
    assert.equal(recordOrCode(output('running', 2)), 'STORE_FULL', 'output is refused')
    assert.equal(recordOrCode(storedEvent('running', 2, TaskState.FAILED, { error: { code: 'STORE_FULL', message: 'full' } })), undefined, 'the end is recorded')
    assert.equal(store.task('running', 'executed')!.state, TaskState.FAILED)
  } finally {
    disk.unfill()
  }
  store.createTask({ spec: storedSpec('new'), role: 'submitted', peerId: 'w', peerName: 'w' })
  assert.equal(store.task('new', 'submitted')?.state, TaskState.PENDING, 'with space back, new tasks are taken')
})
