import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_PAGE_TASKS, MAX_PAGE_TASKS } from '../../node/src/defaults.ts'
import { codeOf } from '../../node/src/errors.ts'
import { TaskState } from '../../node/src/protocol/task-messages.ts'
import { MAX_STATUS_EVENTS } from '../../node/src/store/task-views.ts'
import { TaskHistory } from '../../node/src/tasks/task-history.ts'
import { nextMillisecond, recordPastTask } from '../helpers/history.ts'
import { storedEvent, storedSpec, tempStore } from '../helpers/store.ts'

/**
 * The history is read a page at a time: `tasks` and the API list at most a
 * page, newest first, and `before` continues after a given task; `status` holds a bounded
 * number of a task's events, however many it has.
 */

test('pages: newest first, each task once, and `before` (an id or a unique prefix) continues after a task', async () => {
  const store = tempStore()
  const history = new TaskHistory(store)
  const created: string[] = []
  for (let i = 1; i <= 7; i++) {
    const id = `page-${i}-task`
    recordPastTask(store, id, { role: i === 4 ? 'both' : i === 6 ? 'executed' : 'submitted', endedAt: Date.now() })
    created.push(id)
    await nextMillisecond()
  }
  const newestFirst = [...created].reverse()
  const seen: string[] = []
  let before: string | undefined
  for (let page = 0; page < created.length; page++) {
    const listed = history.list({ limit: 3, ...(before != null ? { before } : {}) }).map(task => task.taskId)
    if (listed.length === 0) break
    seen.push(...listed)
    before = listed.at(-1)!.slice(0, -2) // a unique prefix is enough
  }
  assert.deepEqual(seen, newestFirst, 'every task once, in order, across the pages')
  assert.deepEqual(history.list({ limit: 3, before: 'page-1-task' }), [])
  assert.equal(history.list({ before: 'page-4-task' }).find(task => task.taskId === 'page-4-task'), undefined)
  assert.throws(() => history.list({ before: 'no-such-task' }), (err: unknown) => codeOf(err) === 'UNKNOWN_TASK')
  assert.deepEqual(history.list({ limit: 2, before: 'page-5-task', state: TaskState.SUCCEEDED }).map(task => task.taskId), ['page-4-task', 'page-3-task'])
})

test('a listing is one page: DEFAULT_PAGE_TASKS unless asked, never more than MAX_PAGE_TASKS', async () => {
  const store = tempStore()
  const history = new TaskHistory(store)
  for (let i = 0; i < MAX_PAGE_TASKS + 5; i++) recordPastTask(store, `many-${String(i).padStart(5, '0')}`, { endedAt: Date.now() })
  assert.equal(history.list({}).length, DEFAULT_PAGE_TASKS)
  assert.equal(history.list({ limit: 10 * MAX_PAGE_TASKS }).length, MAX_PAGE_TASKS)
})

test('status holds at most MAX_STATUS_EVENTS of a task\'s events, the first and the last, and says how many it left out', () => {
  const store = tempStore()
  const history = new TaskHistory(store)
  const progress = 3 * MAX_STATUS_EVENTS
  store.createTask({ spec: storedSpec('pulls'), role: 'executed', peerId: 'master', peerName: 'master' })
  for (let seq = 1; seq <= progress; seq++) store.recordEvent('executed', 1, storedEvent('pulls', seq, TaskState.PULLING, { pull: { doneBytes: seq, totalBytes: progress } }))
  store.recordEvent('executed', 1, storedEvent('pulls', progress + 1, TaskState.SUCCEEDED, { exit: { code: 0, oomKilled: false, timedOut: false } }))
  const status = history.status('pulls')
  assert.equal(status.events.length, MAX_STATUS_EVENTS)
  assert.equal(status.eventsOmitted, progress + 1 - MAX_STATUS_EVENTS)
  assert.equal(status.events[0].seq, 1, 'the first event is kept')
  assert.equal(status.events.at(-1)!.state, 'SUCCEEDED', 'the last event is kept')
  const seqs = status.events.map(event => event.seq)
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in order')
})
