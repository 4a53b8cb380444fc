import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { isTerminal, LogStream, TaskState, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import { feedLine, taskFeed, type FeedItem, type FeedOptions } from '../../node/src/store/feed.ts'
import type { TaskRole, TaskStore } from '../../node/src/store/store.ts'
import { listTaskViews, resolveTaskId, taskStatusView } from '../../node/src/store/task-views.ts'
import { tempStore, storedEvent, storedSpec } from '../helpers/store.ts'

/** A task's feed read from the store (logs, logs -f, the API's event streams) and the views of tasks and status. */

/** Every wait in this file ends well inside this. */
const BOUND_MS = 20_000
/** What "at once" means here: no waiting for anything, on a loaded machine. */
const PROMPT_MS = 1_000

const spec = storedSpec
const event = storedEvent

function log (taskId: string, seq: number, bytes: number, stream = LogStream.STDOUT): TaskEvent {
  return event(taskId, seq, TaskState.RUNNING, { log: { stream, data: new Uint8Array(bytes).fill(97), segments: [] } })
}

const succeeded = (taskId: string, seq: number): TaskEvent => event(taskId, seq, TaskState.SUCCEEDED, { exit: { code: 0, oomKilled: false, timedOut: false } })

function newTask (store: TaskStore, id: string, role: TaskRole = 'executed', attempt = 1): void {
  store.createTask({ spec: spec(id, { attempt }), role, peerId: 'peer', peerName: 'peer-name' })
}

/** Record `count` events: QUEUED, then RUNNING output, and (if `end`) SUCCEEDED as the last. */
function recordRun (store: TaskStore, id: string, count: number, end: boolean, role: TaskRole = 'executed'): void {
  for (let seq = 1; seq <= count; seq++) {
    const e = seq === count && end ? succeeded(id, seq) : seq === 1 ? event(id, 1, TaskState.QUEUED) : log(id, seq, 3)
    store.recordEvent(role, 1, e)
  }
}

/** Everything a feed yields until it ends, or an error if it has not ended within `boundMs`. */
async function collect (feed: AsyncGenerator<FeedItem>, boundMs = BOUND_MS): Promise<FeedItem[]> {
  const items: FeedItem[] = []
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<'bound'>(resolve => { timer = setTimeout(() => { resolve('bound') }, boundMs) })
  try {
    const reading = (async () => { for await (const item of feed) items.push(item) })()
    const result = await Promise.race([reading.then(() => 'ended' as const), bound])
    if (result === 'bound') {
      void feed.return(undefined)
      throw new Error(`the feed had not ended after ${boundMs} ms (${items.length} items: ${items.map(describe).join(', ')})`)
    }
    return items
  } finally {
    clearTimeout(timer)
  }
}

function describe (item: FeedItem): string {
  if ('event' in item) return `event ${item.event.seq} ${item.event.state}`
  return 'unreachable' in item ? `unreachable since ${item.unreachable.since}` : 'reachable'
}

const seqs = (items: FeedItem[]): number[] => items.flatMap(item => 'event' in item ? [item.event.seq] : [])

function options (extra: Partial<FeedOptions> = {}): FeedOptions {
  return { follow: false, signal: AbortSignal.timeout(BOUND_MS), ...extra }
}

/** The next item of a feed, or an error naming what was awaited after `boundMs`. */
async function next (feed: AsyncGenerator<FeedItem>, what: string, boundMs = BOUND_MS): Promise<FeedItem | undefined> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`no ${what} within ${boundMs} ms`)) }, boundMs) })
  try {
    const result = await Promise.race([feed.next(), bound])
    return result.done === true ? undefined : result.value
  } finally {
    clearTimeout(timer)
  }
}

test('without follow: every stored event once, in order, from fromSeq, then the end', async () => {
  const store = tempStore()
  newTask(store, 'stored')
  recordRun(store, 'stored', 600, true) // more than one of the feed's batches
  const all = await collect(taskFeed(store, 'stored', 1, options()))
  assert.deepEqual(seqs(all), Array.from({ length: 600 }, (_, i) => i + 1))
  assert.equal(all.length, 600, 'only events: the task has no unreachable callback')
  assert.deepEqual(all.map(item => 'event' in item && item.event), store.events('stored', 1, 1, 1000))
  assert.deepEqual(seqs(await collect(taskFeed(store, 'stored', 1, options({ fromSeq: 257 })))), Array.from({ length: 344 }, (_, i) => i + 257))
  assert.deepEqual(seqs(await collect(taskFeed(store, 'stored', 1, options({ fromSeq: 600 })))), [600])
  assert.deepEqual(seqs(await collect(taskFeed(store, 'stored', 1, options({ fromSeq: 0 })))).length, 600, 'fromSeq 0 reads from the start')
  assert.deepEqual(seqs(await collect(taskFeed(store, 'stored', 1, options({ fromSeq: -5 })))).length, 600)
  assert.deepEqual(await collect(taskFeed(store, 'stored', 1, options({ fromSeq: 601 }))), [])
  assert.deepEqual(await collect(taskFeed(store, 'stored', 1, options({ fromSeq: Number.MAX_SAFE_INTEGER }))), [])
  assert.deepEqual(await collect(taskFeed(store, 'stored', 2, options())), [], 'another attempt has no events')
  assert.deepEqual(await collect(taskFeed(store, 'unknown', 1, options())), [])
})

test('without follow: a task still running stops at its last stored event, at once', async () => {
  const store = tempStore()
  newTask(store, 'running')
  recordRun(store, 'running', 5, false)
  const started = performance.now()
  const items = await collect(taskFeed(store, 'running', 1, options({ unreachableSince: () => 1 })), PROMPT_MS)
  assert.deepEqual(seqs(items), [1, 2, 3, 4, 5])
  assert.equal(items.length, 5, 'no unreachable item without follow')
  assert.ok(performance.now() - started < PROMPT_MS)
})

test('with follow: stored events, then those recorded later, and the end after the terminal event', async () => {
  const store = tempStore()
  newTask(store, 'live')
  recordRun(store, 'live', 3, false)
  const feed = taskFeed(store, 'live', 1, options({ follow: true }))
  const reading = collect(feed)
  await delay(50)
  store.recordEvent('executed', 1, log('live', 4, 10))
  await delay(20)
  store.recordEvent('executed', 1, log('live', 5, 10))
  store.recordEvent('executed', 1, log('live', 5, 10)) // a duplicate is not delivered twice
  store.notify('live') // a notification without an event yields nothing
  await delay(20)
  store.recordEvent('executed', 1, succeeded('live', 6))
  store.recordEvent('executed', 1, event('live', 7, TaskState.FAILED)) // nothing after the terminal event
  const items = await reading
  assert.deepEqual(seqs(items), [1, 2, 3, 4, 5, 6])
  assert.equal(items.length, 6)
})

test('with follow: a finished task read from the start ends at its terminal event', async () => {
  const store = tempStore()
  newTask(store, 'finished')
  recordRun(store, 'finished', 4, true)
  assert.deepEqual(seqs(await collect(taskFeed(store, 'finished', 1, options({ follow: true })), PROMPT_MS)), [1, 2, 3, 4])
  assert.deepEqual(seqs(await collect(taskFeed(store, 'finished', 1, options({ follow: true, fromSeq: 4 })), PROMPT_MS)), [4])
})

test('with follow: reading a finished task from past its terminal event ends at once (logs -f --from after the end)', async () => {
  const store = tempStore()
  newTask(store, 'past')
  recordRun(store, 'past', 4, true)
  const started = performance.now()
  const signal = AbortSignal.timeout(2 * PROMPT_MS)
  const items = await collect(taskFeed(store, 'past', 1, { follow: true, fromSeq: 5, signal }), 3 * PROMPT_MS)
  assert.deepEqual(items, [])
  assert.ok(!signal.aborted && performance.now() - started < PROMPT_MS,
    `node/src/store/feed.ts: taskFeed with follow and fromSeq past the terminal event waits for an event that can never come (ended only by the caller's signal, after ${Math.round(performance.now() - started)} ms)`)
})

test('with follow: the worker becoming unreachable and reachable again shows in the feed', async () => {
  const store = tempStore()
  newTask(store, 'watched', 'submitted')
  store.recordEvent('submitted', 1, event('watched', 1, TaskState.RUNNING))
  let since: number | undefined
  const feed = taskFeed(store, 'watched', 1, options({ follow: true, unreachableSince: () => since }))
  try {
    assert.deepEqual(seqs([(await next(feed, 'event 1'))!]), [1])

    const pending = next(feed, 'unreachable item')
    await delay(20)
    since = Date.UTC(2025, 0, 2, 3, 4, 5)
    store.notify('watched')
    const unreachable = await pending
    assert.deepEqual(unreachable, { unreachable: { since } })
    assert.deepEqual(feedLine(unreachable!), { unreachable: { since: '2025-01-02T03:04:05.000Z' } })

    // Told again with nothing changed: no second item; the next event comes through.
    store.notify('watched')
    store.recordEvent('submitted', 1, log('watched', 2, 5))
    assert.deepEqual(seqs([(await next(feed, 'event 2'))!]), [2])

    const back = next(feed, 'reachable item')
    await delay(20)
    since = undefined
    store.notify('watched')
    assert.deepEqual(await back, { reachable: {} })
    assert.deepEqual(feedLine({ reachable: {} }), { reachable: {} })

    store.recordEvent('submitted', 1, succeeded('watched', 3))
    assert.deepEqual(seqs([(await next(feed, 'event 3'))!]), [3])
    assert.equal(await next(feed, 'the end'), undefined)
  } finally {
    await feed.return(undefined)
  }
})

test('with follow: a worker already unreachable when the reader arrives is reported once it has caught up', async () => {
  const store = tempStore()
  newTask(store, 'gone', 'submitted')
  recordRun(store, 'gone', 3, false, 'submitted')
  const feed = taskFeed(store, 'gone', 1, options({ follow: true, unreachableSince: () => 42 }))
  try {
    const items = [await next(feed, 'event 1'), await next(feed, 'event 2'), await next(feed, 'event 3'), await next(feed, 'unreachable item')]
    assert.deepEqual(items.map(item => describe(item!)), ['event 1 QUEUED', 'event 2 RUNNING', 'event 3 RUNNING', 'unreachable since 42'])
  } finally {
    await feed.return(undefined)
  }
})

test('aborting the signal ends a waiting feed promptly, and an aborted signal reads nothing', async () => {
  const store = tempStore()
  newTask(store, 'abort')
  recordRun(store, 'abort', 2, false)
  const controller = new AbortController()
  const reading = collect(taskFeed(store, 'abort', 1, { follow: true, signal: controller.signal }))
  await delay(50)
  const started = performance.now()
  controller.abort()
  const items = await reading
  assert.deepEqual(seqs(items), [1, 2])
  assert.ok(performance.now() - started < PROMPT_MS, `ended ${performance.now() - started} ms after the abort`)
  assert.deepEqual(await collect(taskFeed(store, 'abort', 1, { follow: true, signal: AbortSignal.abort() }), PROMPT_MS), [])
  // A later event wakes nobody and leaves nothing waiting.
  store.recordEvent('executed', 1, succeeded('abort', 3))
})

test('a slow reader gets each of 5,000 events written meanwhile exactly once, in order', async () => {
  const store = tempStore()
  newTask(store, 'slow')
  const total = 5_000
  const perTick = 25
  let written = 0
  const writer = (async () => {
    while (written < total) {
      for (let i = 0; i < perTick && written < total; i++) {
        written++
        store.recordEvent('executed', 1, written === total ? succeeded('slow', written) : log('slow', written, 16))
      }
      await delay(1)
    }
  })()
  const seen: number[] = []
  let maxBehind = 0
  const signal = AbortSignal.timeout(BOUND_MS * 3)
  for await (const item of taskFeed(store, 'slow', 1, { follow: true, signal })) {
    if (!('event' in item)) continue
    seen.push(item.event.seq)
    maxBehind = Math.max(maxBehind, written - item.event.seq)
    // Slower than the writer: a macrotask after every item, a timer after every 20th.
    await new Promise(resolve => setImmediate(resolve))
    if (seen.length % 20 === 0) await delay(1)
  }
  await writer
  assert.ok(!signal.aborted, 'the reader ran out of time')
  assert.equal(seen.length, total, `got ${seen.length} events`)
  assert.ok(seen.every((seq, i) => seq === i + 1), 'an event was missed, repeated or out of order')
  assert.ok(maxBehind > 0, 'the reader was never behind the writer: the test did not test a slow reader')
  assert.ok(isTerminal(store.event('slow', 1, total)!.state))
})

test('resolveTaskId: an exact id, a unique prefix; an ambiguous prefix names candidates; an unknown one is not found', () => {
  const store = tempStore()
  for (const id of ['m1abc-000001', 'm1abc-000002', 'm1abd-000001', 'zz', 'zz-1', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']) newTask(store, id, 'submitted')
  assert.equal(resolveTaskId(store, 'm1abc-000001'), 'm1abc-000001')
  assert.equal(resolveTaskId(store, 'm1abd'), 'm1abd-000001')
  assert.equal(resolveTaskId(store, 'zz'), 'zz', 'an exact id wins over the longer ids it begins')
  assert.equal(resolveTaskId(store, 'zz-'), 'zz-1')
  assert.throws(() => resolveTaskId(store, 'm1ab'), (err: Error) => {
    assert.equal(err.name, 'AmbiguousTaskError')
    for (const id of ['m1abc-000001', 'm1abc-000002', 'm1abd-000001']) assert.ok(err.message.includes(id), `${id} not named: ${err.message}`)
    return true
  })
  assert.throws(() => resolveTaskId(store, 'p'), (err: Error) => {
    assert.equal(err.name, 'AmbiguousTaskError')
    assert.equal(err.message.match(/\bp\d\b/g)?.length, 5, `five candidates shown: ${err.message}`)
    assert.ok(err.message.includes('…'), 'more than shown is marked')
    return true
  })
  for (const text of ['nope', 'M1ABC', 'm1abc-0000011', '%', '_', 'm1abc%']) {
    assert.throws(() => resolveTaskId(store, text), (err: Error) => err.name === 'TaskNotFoundError' && err.message.includes(text), text)
  }
})

test('listTaskViews: one entry per task, newest first; a task sent to this node itself is listed once as "both"', async () => {
  const store = tempStore()
  newTask(store, 'sent', 'submitted')
  store.recordEvent('submitted', 1, event('sent', 1, TaskState.RUNNING))
  await delay(2)
  newTask(store, 'ran', 'executed')
  await delay(2)
  newTask(store, 'self', 'submitted')
  newTask(store, 'self', 'executed')
  store.recordEvent('executed', 1, succeeded('self', 1))
  store.recordEvent('submitted', 1, succeeded('self', 1))
  const views = listTaskViews(store, {}, id => id === 'sent' ? Date.UTC(2025, 5, 1) : undefined)
  assert.deepEqual(views.map(view => [view.taskId, view.role]), [['self', 'both'], ['ran', 'executed'], ['sent', 'submitted']])
  assert.equal(views[0].state, TaskState.SUCCEEDED)
  assert.equal(views[0].exitCode, 0)
  assert.equal(views[2].unreachableSince, '2025-06-01T00:00:00.000Z')
  assert.equal(views[0].unreachableSince, undefined)
  assert.equal(views[2].image, '127.0.0.1:5000/cloudai/sim:1')
  assert.deepEqual(views[2].command, ['out:hello'])
  assert.equal(views[2].peerName, 'peer-name')
  assert.match(views[2].createdAt, /^\d{4}-\d\d-\d\dT/)
  assert.deepEqual(listTaskViews(store, { state: TaskState.RUNNING }, () => undefined).map(view => view.taskId), ['sent'])
})

test('listTaskViews with a limit: that many tasks, each sent-to-self task still "both"', async () => {
  const store = tempStore()
  for (let i = 1; i <= 4; i++) {
    newTask(store, `self-${i}`, 'submitted')
    newTask(store, `self-${i}`, 'executed')
    await delay(2)
  }
  const views = listTaskViews(store, { limit: 3 }, () => undefined)
  assert.deepEqual(views.map(view => `${view.taskId}:${view.role}`), ['self-4:both', 'self-3:both', 'self-2:both'],
    'node/src/store/task-views.ts listTaskViews applies the limit to store rows (two per sent-to-self task) before merging them')
})

test('taskStatusView counts output per stream, leaves log events out of its events, and says when output was truncated', () => {
  const store = tempStore()
  newTask(store, 'status', 'submitted')
  newTask(store, 'status', 'executed')
  const events = [
    event('status', 1, TaskState.QUEUED, { queuedPosition: 1 }),
    event('status', 2, TaskState.PULLING, { pull: { doneBytes: 1, totalBytes: 2 } }),
    event('status', 3, TaskState.RUNNING, { containerId: 'c' }),
    ...Array.from({ length: 1200 }, (_, i) => log('status', 4 + i, 100, i % 3 === 0 ? LogStream.STDERR : LogStream.STDOUT)),
    event('status', 1204, TaskState.RUNNING, { truncated: { limitBytes: 120_000 } }),
    event('status', 1205, TaskState.FAILED, { exit: { code: 2, oomKilled: false, timedOut: false }, error: { code: 'NONZERO_EXIT', message: 'exit 2' } })
  ]
  for (const e of events) {
    store.recordEvent('executed', 1, e)
    store.recordEvent('submitted', 1, e)
  }
  const view = taskStatusView(store, 'status', Date.UTC(2025, 0, 1))
  assert.equal(view.role, 'both')
  assert.deepEqual(view.events.map(e => e.seq), [1, 2, 3, 1204, 1205])
  assert.ok(view.events.every(e => e.log == null))
  assert.deepEqual(view.logBytes, { stdout: 800 * 100, stderr: 400 * 100 })
  assert.equal(view.logTruncated, true)
  assert.equal(view.state, TaskState.FAILED)
  assert.equal(view.exitCode, 2)
  assert.deepEqual(view.error, { code: 'NONZERO_EXIT', message: 'exit 2' })
  assert.equal(view.unreachableSince, '2025-01-01T00:00:00.000Z')
  assert.equal(view.durationMs, events.at(-1)!.timeMs - events[2].timeMs)

  newTask(store, 'quiet', 'executed')
  const quiet = taskStatusView(store, 'quiet')
  assert.equal(quiet.role, 'executed')
  assert.deepEqual(quiet.events, [])
  assert.deepEqual(quiet.logBytes, { stdout: 0, stderr: 0 })
  assert.equal(quiet.logTruncated, false)
  assert.throws(() => taskStatusView(store, 'missing'), (err: Error) => err.name === 'TaskNotFoundError')
})
