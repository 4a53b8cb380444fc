import assert from 'node:assert/strict'
import { test } from 'node:test'
import { silentLogger } from '../../node/src/logger.ts'
import { TaskState } from '../../node/src/protocol/task-messages.ts'
import { pruneHistory } from '../../node/src/store/retention.ts'
import type { TaskStore } from '../../node/src/store/store.ts'
import { keepHistoryPruned } from '../../node/src/tasks/history-retention.ts'
import { waitFor } from '../helpers/env.ts'
import { nextMillisecond, OUTPUT_CHUNK_BYTES, recordPastTask } from '../helpers/history.ts'
import { storedEvent, tempStore } from '../helpers/store.ts'

/**
 * History retention: finished tasks go, with their events and attempts,
 * once they ended longer ago than the age kept, and the oldest of them while the history is
 * larger than the size kept; a task that has not ended is never touched.
 */

const DAY_MS = 86_400_000
const MiB = 1024 * 1024
/** Short, so that a periodic run comes round many times within the tests' bounds. */
const QUICK_INTERVAL_MS = 50

function ids (store: TaskStore): string[] {
  return store.list().map(task => task.taskId).sort()
}

test('by age: finished tasks that ended before the cutoff go with their events and attempts; newer and unfinished ones stay', async () => {
  const store = tempStore()
  const now = Date.now()
  const removedEvents = recordPastTask(store, 'old-sent', { endedAt: now - 40 * DAY_MS, outputBytes: 3 * OUTPUT_CHUNK_BYTES }) +
    recordPastTask(store, 'old-self', { role: 'both', endedAt: now - 400 * DAY_MS })
  recordPastTask(store, 'old-running', { startedAt: now - 400 * DAY_MS })
  recordPastTask(store, 'recent', { endedAt: now - 3_600_000 })
  // Sent to itself: the master saw it end long ago (LOST), but its own worker still runs it.
  recordPastTask(store, 'half-ended', { role: 'both', startedAt: now - 400 * DAY_MS })
  store.recordEvent('submitted', 1, storedEvent('half-ended', 2, TaskState.LOST, { timeMs: now - 300 * DAY_MS, error: { code: 'LOST', message: 'gone' } }))

  const report = await pruneHistory(store, { olderThanMs: 30 * DAY_MS })
  assert.equal(report.removedTasks, 2)
  assert.equal(report.removedEvents, removedEvents)
  assert.ok(report.bytesAfter < report.bytesBefore, `the history shrank: ${report.bytesBefore} → ${report.bytesAfter}`)
  assert.deepEqual(ids(store), ['half-ended', 'half-ended', 'old-running', 'recent'])
  for (const gone of ['old-sent', 'old-self']) {
    assert.equal(store.task(gone, 'submitted'), undefined)
    assert.equal(store.task(gone, 'executed'), undefined)
    assert.deepEqual(store.events(gone, 1), [], `${gone}'s events went too`)
    assert.deepEqual(store.attempts(gone), [], `${gone}'s attempts went too`)
  }
  assert.equal(store.events('old-running', 1).length, 1)

  const tighter = await pruneHistory(store, { olderThanMs: 30 * 60_000 })
  assert.equal(tighter.removedTasks, 1)
  assert.deepEqual(ids(store), ['half-ended', 'half-ended', 'old-running'], 'a task that has not ended stays, however old')
})

test('by size: the oldest finished tasks go until the history fits; unfinished ones stay, even when that is not enough', async () => {
  const store = tempStore()
  const now = Date.now()
  recordPastTask(store, 'unfinished', { outputBytes: 4 * OUTPUT_CHUNK_BYTES })
  const finished = Array.from({ length: 8 }, (_, i) => `done-${i}`)
  for (const id of finished) {
    await nextMillisecond()
    recordPastTask(store, id, { endedAt: now, outputBytes: 4 * OUTPUT_CHUNK_BYTES })
  }
  const before = store.historyBytes()
  assert.ok(before > 2 * MiB, `the history takes ${before} bytes`)

  const report = await pruneHistory(store, { olderThanMs: 30 * DAY_MS, keepBytes: MiB })
  assert.equal(report.bytesBefore, before)
  assert.ok(report.bytesAfter <= MiB, `the history takes ${report.bytesAfter} bytes, more than the ${MiB} kept`)
  assert.equal(report.bytesAfter, store.historyBytes())
  const kept = ids(store)
  assert.ok(kept.includes('unfinished'))
  const keptFinished = kept.filter(id => id !== 'unfinished')
  assert.deepEqual(keptFinished, finished.slice(finished.length - keptFinished.length), 'the newest are kept, the oldest went')
  assert.equal(report.removedTasks, finished.length - keptFinished.length)
  assert.ok(report.bytesAfter > MiB / 2, `no more went than was needed: ${report.bytesAfter} bytes left`)

  const nothingKept = await pruneHistory(store, { olderThanMs: 30 * DAY_MS, keepBytes: 0 })
  assert.equal(nothingKept.removedTasks, keptFinished.length)
  assert.deepEqual(ids(store), ['unfinished'])
  assert.equal(store.events('unfinished', 1).length, 5)
})

test('the daemon\'s retention runs at once and then periodically', async () => {
  const store = tempStore()
  recordPastTask(store, 'old-1', { endedAt: Date.now() - 40 * DAY_MS })
  const retention = keepHistoryPruned(async signal => await pruneHistory(store, { olderThanMs: 30 * DAY_MS }, { signal }), silentLogger(), QUICK_INTERVAL_MS)
  try {
    assert.ok(await waitFor(() => store.task('old-1', 'submitted') == null, 10_000), 'pruned at start')
    recordPastTask(store, 'old-2', { endedAt: Date.now() - 40 * DAY_MS })
    assert.ok(await waitFor(() => store.task('old-2', 'submitted') == null, 10_000), 'pruned again later')
  } finally {
    await retention.stop()
  }
})
