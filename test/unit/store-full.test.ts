import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { codeOf } from '../../node/src/errors.ts'
import { LogStream, TaskState, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import { TaskStore } from '../../node/src/store/store.ts'
import { WorkerTask } from '../../node/src/worker/worker-task.ts'
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

/**
 * Record `event` as the worker would, and commit its batch (the writes of a turn share one
 * transaction): the error's code if the write is refused, whether at once (the headroom, or
 * a statement the disk refused) or when its batch commits (its `lost` hook); undefined if it
 * is on disk (its `durable` hook ran).
 */
function recordOrCode (event: TaskEvent): string | undefined {
  let settled: string | undefined
  const thrown = codeThrown(() => {
    store.recordEvent('executed', 1, event, { durable: () => { settled = 'durable' }, lost: err => { settled = codeOf(err) ?? err.message } })
    store.commit()
  })
  if (thrown != null) return thrown
  assert.ok(settled != null, 'the write neither reached the disk nor was refused')
  return settled === 'durable' ? undefined : settled
}

test('a write to a full disk fails with STORE_FULL, changes nothing, and succeeds once space returns', () => {
  store.createTask({ spec: storedSpec('filling'), role: 'executed', peerId: 'master', peerName: 'master' })
  store.recordEvent('executed', 1, storedEvent('filling', 1, TaskState.PULLING))
  store.commit() // on disk before it fills
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
  store.commit() // on disk before it fills
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

test('a batch the full disk refuses: each write is made again alone, what fits is kept, and a task\'s events after a refused one are lost with it (no gap)', () => {
  const tasks = ['batch-a', 'batch-b', 'batch-c']
  for (const id of tasks) store.createTask({ spec: storedSpec(id), role: 'executed', peerId: 'master', peerName: 'master' })
  store.commit()
  // Not output, so the headroom lets them through: only the disk itself refuses them.
  const big = (taskId: string, seq: number): TaskEvent => storedEvent(taskId, seq, TaskState.PULLING, { error: { code: 'BIG', message: 'x'.repeat(48 * 1024) } })
  const outcome = new Map<string, string>()
  // Room for some of them alone, not for all of them at once.
  disk.fill(1024 * 1024)
  try {
    // One turn's writes: interleaved across tasks, far more than the room left.
    outer: for (let seq = 1; seq <= 60; seq++) {
      for (const id of tasks) {
        const key = `${id}/${seq}`
        try {
          store.recordEvent('executed', 1, big(id, seq), {
            durable: () => { outcome.set(key, 'durable') },
            lost: err => { outcome.set(key, codeOf(err) ?? err.message) }
          })
        } catch (err) {
          outcome.set(key, `threw ${codeOf(err) ?? String(err)}`)
          break outer
        }
      }
    }
    store.commit()
  } finally {
    disk.unfill()
  }
  const settled = [...outcome.values()]
  assert.ok(settled.some(result => result !== 'durable'), 'the disk refused nothing: the test did not fill it')
  assert.ok(settled.some(result => result === 'durable'), 'nothing was kept: the writes that fit alone were lost with the batch')
  assert.ok(settled.every(result => result === 'durable' || result === 'STORE_FULL' || result === 'threw STORE_FULL'), `unexpected outcomes: ${[...new Set(settled)].join(', ')}`)
  for (const id of tasks) {
    const stored = store.events(id, 1, 1, 10_000).map(event => event.seq)
    assert.deepEqual(stored, Array.from({ length: stored.length }, (_, i) => i + 1), `${id}'s stored events have a gap`)
    const durable = [...outcome].filter(([key, result]) => key.startsWith(`${id}/`) && result === 'durable').map(([key]) => Number(key.split('/')[1]))
    assert.deepEqual(durable, stored, `${id}: told durable exactly for what is on disk`)
    assert.equal(store.task(id, 'executed')?.lastSeq, stored.length)
  }
  // With room back, each task goes on from where its stored events end.
  for (const id of tasks) {
    const next = store.task(id, 'executed')!.lastSeq + 1
    assert.equal(recordOrCode(storedEvent(id, next, TaskState.SUCCEEDED, { exit: { code: 0, oomKilled: false, timedOut: false } })), undefined)
    assert.equal(store.task(id, 'executed')!.state, TaskState.SUCCEEDED)
  }
})

test('a worker task whose writes the full disk refuses ends STORE_FULL right after its last stored event, and its readers see no gap', () => {
  const spec = storedSpec('refused-batches')
  store.createTask({ spec, role: 'executed', peerId: 'master', peerName: 'master' })
  const task = new WorkerTask(spec, 'master', store, { logLimitBytes: 1024 * 1024 })
  task.append({ state: TaskState.PULLING })
  store.commit()
  disk.fill(0)
  try {
    // Two events a turn, each turn committed, until the disk refuses (bounded by its pages).
    for (let i = 0; i < DISK_BYTES / 4096 && !task.finished; i++) {
      task.append({ state: TaskState.PULLING, pull: { doneBytes: 2 * i, totalBytes: 1 << 30 } })
      task.append({ state: TaskState.PULLING, pull: { doneBytes: 2 * i + 1, totalBytes: 1 << 30 } })
      store.commit()
    }
  } finally {
    disk.unfill()
  }
  assert.equal(task.finished, true, 'the task did not end though the disk was full')
  const shown = Array.from({ length: task.lastSeq }, (_, i) => task.eventAt(i + 1))
  assert.ok(shown.every(event => event != null), 'a reader finds a hole among the events it is shown')
  assert.deepEqual(shown.map(event => event!.seq), Array.from({ length: shown.length }, (_, i) => i + 1))
  const last = shown.at(-1)!
  assert.equal(last.state, TaskState.FAILED)
  assert.equal(last.error?.code, 'STORE_FULL')
  assert.ok(shown.slice(0, -1).every(event => event!.state === TaskState.PULLING), 'only the end is not progress')
  // What the store holds is the same events, up to the end (written once there is room, or served from memory until then).
  const stored = store.events(spec.id, 1, 1, 100_000)
  assert.deepEqual(stored.map(event => event.seq), Array.from({ length: stored.length }, (_, i) => i + 1), 'the stored events have a gap')
  assert.ok(stored.length >= shown.length - 1, `${shown.length} events shown, ${stored.length} stored`)
})
