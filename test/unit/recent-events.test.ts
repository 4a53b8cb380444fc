import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LogStream, TaskState, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import { RecentEvents } from '../../node/src/store/recent-events.ts'

function logEvent (taskId: string, seq: number, bytes: number): TaskEvent {
  return { taskId, seq, timeMs: seq, state: TaskState.RUNNING, log: { stream: LogStream.STDOUT, data: new Uint8Array(bytes).fill(seq % 251), segments: [] } }
}

test('recent events answer only what they hold completely, and the same as the store would, across drops and forgets', () => {
  const recent = new RecentEvents(64 * 1024)
  const stored = new Map<string, TaskEvent[]>()
  const add = (taskId: string, event: TaskEvent): void => {
    stored.set(taskId, [...(stored.get(taskId) ?? []), event])
    recent.added(1, event)
  }
  // Two tasks interleaved, far more than the limit: the oldest are dropped first.
  for (let seq = 1; seq <= 200; seq++) {
    add('a', logEvent('a', seq, 1000))
    if (seq % 3 === 0) add('b', logEvent('b', seq / 3, 3000))
  }
  for (const taskId of ['a', 'b']) {
    const all = stored.get(taskId)!
    for (let from = 1; from <= all.length + 2; from++) {
      const answer = recent.from(taskId, 1, from, 10)
      if (answer == null) continue
      assert.deepEqual(answer, all.filter(event => event.seq >= from).slice(0, 10), `${taskId} from ${from}`)
    }
    assert.ok(recent.from(taskId, 1, 1, 10) == null, 'the oldest events were dropped, and the store answers for them')
    assert.equal(recent.last(taskId, 1), all.at(-1))
    assert.equal(recent.event(taskId, 1, all.length + 1), null, 'an event after the last is surely not stored')
  }
  // A task whose first event this process never saw is left to the store.
  recent.added(1, logEvent('c', 5, 10))
  assert.equal(recent.from('c', 1, 5, 10), undefined)
  // Forgotten (pruned): the store answers, and a task begun again under the id is followed afresh.
  recent.forget('a')
  assert.equal(recent.last('a', 1), undefined)
  recent.added(1, logEvent('a', 1, 10))
  for (let i = 0; i < 100; i++) recent.added(1, logEvent('d', i + 1, 1000))
  assert.ok(recent.from('a', 1, 1, 10) == null || recent.from('a', 1, 1, 10)!.length === 1)
  // An event out of order makes the task's events the store's to answer.
  recent.added(1, logEvent('e', 1, 10))
  recent.added(1, logEvent('e', 2, 10))
  recent.added(1, logEvent('e', 2, 10))
  assert.equal(recent.from('e', 1, 1, 10), undefined)
})

test('an event written with a Buffer reads back as the store decodes it (a plain Uint8Array of the same bytes)', () => {
  const recent = new RecentEvents(64 * 1024)
  const written: TaskEvent = { taskId: 'c', seq: 1, timeMs: 1, state: TaskState.RUNNING, log: { stream: LogStream.STDOUT, data: Buffer.from('done\n'), segments: [] } }
  recent.added(1, written)
  const [read] = recent.from('c', 1, 1, 10) ?? []
  assert.equal(Object.getPrototypeOf(read.log?.data), Uint8Array.prototype)
  assert.deepEqual(read, { ...written, log: { ...written.log!, data: new Uint8Array(Buffer.from('done\n')) } })
})
