import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { isTerminal, LogStream, TaskState, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import { STORE_FILE, TaskStore, type TaskRole } from '../../node/src/store/store.ts'
import { EVENT_COST_BYTES, logChunk, SEGMENT_COST_BYTES } from '../../node/src/protocol/task-output.ts'
import { tempStore, storedEvent, storedSpec } from '../helpers/store.ts'

/** The task store (docs/architecture.md): what it keeps, how it orders and finds tasks, and that nothing recorded is lost. */

/** Every child process and wait in this file ends well inside this. */
const BOUND_MS = 20_000

const spec = storedSpec
const event = storedEvent

function log (taskId: string, seq: number, text: string, stream = LogStream.STDOUT): TaskEvent {
  return event(taskId, seq, TaskState.RUNNING, { log: { stream, data: new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>, segments: [] } })
}

const exit = (code: number): Partial<TaskEvent> => ({ exit: { code, oomKilled: false, timedOut: false } })

/** A fresh, empty data dir, removed when the file ends. */
function tempDataDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'cloudai-store-test-'))
  after(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

/** Distinct creation times: the store orders tasks by the millisecond they were recorded. */
async function nextMillisecond (): Promise<void> {
  const start = Date.now()
  while (Date.now() === start) await new Promise(resolve => setTimeout(resolve, 1))
}

/** Record `id` for `role` and move it through `states` (one event each). */
function taskIn (store: TaskStore, id: string, states: TaskState[], role: TaskRole = 'submitted'): void {
  store.createTask({ spec: spec(id), role, peerId: 'peer', peerName: 'peer' })
  states.forEach((state, i) => store.recordEvent(role, 1, event(id, i + 1, state, isTerminal(state) ? exit(0) : {})))
}

test('a task and its events come back as they were recorded', () => {
  const store = tempStore()
  const full = spec('round-trip', { env: { A: '1', B: 'two words' }, labels: { team: 'ml' }, timeoutMs: 60_000, command: ['out:a', 'exit:3'] })
  const before = Date.now()
  store.createTask({ spec: full, role: 'submitted', peerId: '12D3KooWPeer', peerName: 'worker-1' })
  const created = store.task('round-trip', 'submitted')
  assert.ok(created != null)
  assert.deepEqual(created.spec, full)
  assert.equal(created.role, 'submitted')
  assert.equal(created.attempt, 1)
  assert.equal(created.peerId, '12D3KooWPeer')
  assert.equal(created.peerName, 'worker-1')
  assert.equal(created.state, TaskState.PENDING)
  assert.equal(created.lastSeq, 0)
  assert.ok(created.createdMs >= before && created.createdMs <= Date.now())
  for (const field of ['startedMs', 'finishedMs', 'exitCode', 'errorCode', 'containerId', 'note'] as const) {
    assert.equal(field in created, false, `${field} is set on a new task`)
  }
  assert.equal(store.task('round-trip', 'executed'), undefined, 'the other role has no record')

  const written = [
    event('round-trip', 1, TaskState.QUEUED, { queuedPosition: 2 }),
    event('round-trip', 2, TaskState.PULLING, { pull: { doneBytes: 5, totalBytes: 10 } }),
    event('round-trip', 3, TaskState.RUNNING, { containerId: 'c0ffee' }),
    log('round-trip', 4, 'out\n'),
    log('round-trip', 5, 'err\n', LogStream.STDERR),
    event('round-trip', 6, TaskState.FAILED, { ...exit(3), error: { code: 'NONZERO_EXIT', message: 'exited with 3' } })
  ]
  for (const e of written) assert.equal(store.recordEvent('submitted', 1, e), true)
  assert.deepEqual(store.events('round-trip', 1), written)
  assert.deepEqual(store.event('round-trip', 1, 5), written[4])
  assert.equal(store.event('round-trip', 1, 7), undefined)
  assert.equal(store.event('round-trip', 2, 1), undefined, 'events belong to their attempt')
  assert.deepEqual(store.events('round-trip', 1, 3, 2).map(e => e.seq), [3, 4], 'fromSeq and limit')

  const record = store.task('round-trip', 'submitted')!
  assert.equal(record.state, TaskState.FAILED)
  assert.equal(record.lastSeq, 6)
  assert.equal(record.containerId, 'c0ffee')
  assert.equal(record.startedMs, written[2].timeMs)
  assert.equal(record.finishedMs, written[5].timeMs)
  assert.equal(record.exitCode, 3)
  assert.equal(record.errorCode, 'NONZERO_EXIT')
  assert.equal(record.errorMessage, 'exited with 3')

  store.setNote('round-trip', 'submitted', 'a note')
  assert.equal(store.task('round-trip', 'submitted')?.note, 'a note')

  // Recording the same task again (a second Submit) leaves the first record as it is.
  store.createTask({ spec: { ...full, image: 'other:1' }, role: 'submitted', peerId: 'someone-else', peerName: 'x' })
  const again = store.task('round-trip', 'submitted')!
  assert.equal(again.peerId, '12D3KooWPeer')
  assert.equal(again.spec.image, full.image)
  assert.equal(again.state, TaskState.FAILED)
})

test('an event recorded twice is stored once, and the second time says so', () => {
  const store = tempStore()
  taskIn(store, 'twice', [])
  const first = event('twice', 1, TaskState.QUEUED, { queuedPosition: 1 })
  assert.equal(store.recordEvent('submitted', 1, first), true)
  assert.equal(store.recordEvent('submitted', 1, first), false)
  assert.equal(store.recordEvent('submitted', 1, { ...first, queuedPosition: 9, timeMs: 1 }), false, 'another event with a stored seq')
  assert.deepEqual(store.events('twice', 1), [first], 'the first one stays')
  assert.equal(store.task('twice', 'submitted')?.lastSeq, 1)

  // The same seq of another attempt is another event.
  assert.equal(store.recordEvent('submitted', 2, first), true)
  assert.equal(store.events('twice', 2).length, 1)
})

test('the row follows the events, and nothing changes it after a terminal one', () => {
  const store = tempStore()
  taskIn(store, 'moves', [])
  const stateAfter = (e: TaskEvent): TaskState => {
    store.recordEvent('submitted', 1, e)
    return store.task('moves', 'submitted')!.state
  }
  assert.equal(stateAfter(event('moves', 1, TaskState.QUEUED)), TaskState.QUEUED)
  assert.equal(stateAfter(event('moves', 2, TaskState.PULLING)), TaskState.PULLING)
  // Progress and output do not touch the row (they are many; the state event before them did).
  assert.equal(stateAfter(event('moves', 3, TaskState.RUNNING, { pull: { doneBytes: 1, totalBytes: 2 } })), TaskState.PULLING)
  assert.equal(stateAfter(event('moves', 4, TaskState.STARTING)), TaskState.STARTING)
  assert.equal(stateAfter(event('moves', 5, TaskState.RUNNING, { containerId: 'c1' })), TaskState.RUNNING)
  const started = store.task('moves', 'submitted')!.startedMs
  assert.equal(started, event('moves', 5, TaskState.RUNNING).timeMs)
  assert.equal(stateAfter(log('moves', 6, 'x')), TaskState.RUNNING)
  assert.equal(stateAfter(event('moves', 7, TaskState.SUCCEEDED, exit(0))), TaskState.SUCCEEDED)
  const ended = store.task('moves', 'submitted')!

  // Whatever arrives after the end (a late LOST, a hostile FAILED, a stray RUNNING) leaves the row as it was.
  stateAfter(event('moves', 8, TaskState.FAILED, { ...exit(1), error: { code: 'X', message: 'late' } }))
  stateAfter(event('moves', 9, TaskState.RUNNING, { containerId: 'c2' }))
  stateAfter(event('moves', 10, TaskState.LOST))
  const after = store.task('moves', 'submitted')!
  assert.deepEqual({ ...after, lastSeq: ended.lastSeq }, ended, 'the row changed after its terminal event')
  assert.equal(after.startedMs, started)

  // The row of the other role is another record: events for one role leave the other alone.
  taskIn(store, 'roles', [TaskState.QUEUED], 'executed')
  store.createTask({ spec: spec('roles'), role: 'submitted', peerId: 'self', peerName: 'self' })
  store.recordEvent('executed', 1, event('roles', 2, TaskState.RUNNING))
  assert.equal(store.task('roles', 'executed')?.state, TaskState.RUNNING)
  assert.equal(store.task('roles', 'submitted')?.state, TaskState.PENDING)
  // A task sent to this node itself: the master records the events its worker stored already, and its row follows.
  assert.equal(store.recordEvent('submitted', 1, event('roles', 2, TaskState.RUNNING)), false)
  assert.equal(store.task('roles', 'submitted')?.state, TaskState.RUNNING)
})

test('the row\'s state never moves backwards (docs/architecture.md: of two observations, the later state wins)', () => {
  const store = tempStore()
  const problems: string[] = []
  // An older event seen again (a re-attach that replays, the master catching up with its own worker's events).
  taskIn(store, 'replayed', [TaskState.QUEUED, TaskState.PULLING, TaskState.RUNNING])
  store.recordEvent('submitted', 1, event('replayed', 1, TaskState.QUEUED))
  const replayed = store.task('replayed', 'submitted')!.state
  if (replayed !== TaskState.RUNNING) problems.push(`replaying event 1 (QUEUED) moved a RUNNING row back to ${replayed}`)
  // A new event whose state is behind the row's (a worker must never send one, but the master's store should not believe it).
  taskIn(store, 'behind', [TaskState.QUEUED, TaskState.RUNNING])
  store.recordEvent('submitted', 1, event('behind', 3, TaskState.QUEUED, { queuedPosition: 1 }))
  const behind = store.task('behind', 'submitted')!.state
  if (behind !== TaskState.RUNNING) problems.push(`event 3 (QUEUED) after event 2 (RUNNING) moved the row back to ${behind}`)
  assert.deepEqual(problems, [], `TaskStore.applyEvent (node/src/store/store.ts) applies any non-terminal state: ${problems.join('; ')}`)
})

test('list: newest first, with limit, state and role filters', async () => {
  const store = tempStore()
  const ids = ['t1', 't2', 't3', 't4', 't5']
  const states = [TaskState.SUCCEEDED, TaskState.RUNNING, TaskState.FAILED, TaskState.SUCCEEDED, TaskState.QUEUED]
  for (const [i, id] of ids.entries()) {
    taskIn(store, id, [TaskState.QUEUED, ...(states[i] === TaskState.QUEUED ? [] : [states[i]])], i === 2 ? 'executed' : 'submitted')
    await nextMillisecond()
  }
  const newestFirst = [...ids].reverse()
  assert.deepEqual(store.list().map(t => t.taskId), newestFirst)
  assert.deepEqual(store.list({ limit: 2 }).map(t => t.taskId), ['t5', 't4'])
  assert.deepEqual(store.list({ limit: 1 }).map(t => t.taskId), ['t5'])
  assert.deepEqual(store.list({ limit: 0 }), [])
  assert.deepEqual(store.list({ state: TaskState.SUCCEEDED }).map(t => t.taskId), ['t4', 't1'])
  assert.deepEqual(store.list({ state: TaskState.SUCCEEDED, limit: 1 }).map(t => t.taskId), ['t4'])
  assert.deepEqual(store.list({ state: TaskState.LOST }), [])
  assert.deepEqual(store.list({ role: 'executed' }).map(t => t.taskId), ['t3'])
  assert.deepEqual(store.list({ role: 'submitted', state: TaskState.FAILED }), [])
  assert.equal(store.list()[0].lastSeq, 1)
  assert.equal(store.list()[1].lastSeq, 2)
})

test('huge and odd limits: every row, or nothing, never a wrong answer', () => {
  const store = tempStore()
  for (const id of ['h1', 'h2', 'h3']) taskIn(store, id, [TaskState.QUEUED])
  for (const limit of [Number.MAX_SAFE_INTEGER, 2 ** 31, 2 ** 32 + 1]) {
    assert.equal(store.list({ limit }).length, 3, `list limit ${limit}`)
    assert.equal(store.idsWithPrefix('h', limit).length, 3, `idsWithPrefix limit ${limit}`)
    assert.equal(store.events('h1', 1, 1, limit).length, 1, `events limit ${limit}`)
  }
  // Callers bound their limits (the API takes 1 to 100,000); past what SQLite can bind as an
  // integer the store throws rather than answering wrongly.
  for (const limit of [Infinity, 2 ** 64, Number.NaN, 1.5]) {
    let answer: number | string
    try {
      answer = store.list({ limit }).length
    } catch (err) {
      answer = `throws ${(err as Error).message}`
    }
    assert.ok(answer === 3 || typeof answer === 'string', `list limit ${limit} answered ${answer} rows`)
  }
})

test('unfinished: the tasks of a role that have not ended, oldest first', async () => {
  const store = tempStore()
  taskIn(store, 'u1', [TaskState.QUEUED], 'executed')
  await nextMillisecond()
  taskIn(store, 'u2', [TaskState.QUEUED, TaskState.SUCCEEDED], 'executed')
  await nextMillisecond()
  taskIn(store, 'u3', [TaskState.QUEUED, TaskState.PULLING, TaskState.RUNNING], 'executed')
  await nextMillisecond()
  taskIn(store, 'u4', [], 'executed')
  await nextMillisecond()
  taskIn(store, 'u5', [TaskState.QUEUED], 'submitted')
  taskIn(store, 'u6', [TaskState.REJECTED], 'executed')
  assert.deepEqual(store.unfinished('executed').map(t => t.taskId), ['u1', 'u3', 'u4'])
  assert.deepEqual(store.unfinished('executed').map(t => t.state), [TaskState.QUEUED, TaskState.RUNNING, TaskState.PENDING])
  assert.deepEqual(store.unfinished('submitted').map(t => t.taskId), ['u5'])
})

test('idsWithPrefix: ids starting with the text, taken literally (no LIKE wildcards), each once', () => {
  const store = tempStore()
  for (const id of ['abc-1', 'abc-2', 'abd-1', 'ab_1', 'abx1', 'a%z', 'aqz', 'b']) taskIn(store, id, [])
  taskIn(store, 'abc-1', [], 'executed') // sent to self: two rows, one id
  assert.deepEqual(store.idsWithPrefix('abc'), ['abc-1', 'abc-2'])
  assert.deepEqual(store.idsWithPrefix('abc-1'), ['abc-1'])
  assert.deepEqual(store.idsWithPrefix('ab', 2), ['ab_1', 'abc-1'])
  assert.deepEqual(store.idsWithPrefix('ab_'), ['ab_1'], '"_" matched another character')
  assert.deepEqual(store.idsWithPrefix('a%'), ['a%z'], '"%" matched other characters')
  assert.deepEqual(store.idsWithPrefix('%'), [])
  assert.deepEqual(store.idsWithPrefix('_'), [])
  assert.deepEqual(store.idsWithPrefix('%z'), [])
  assert.deepEqual(store.idsWithPrefix('ABC'), [], 'ids are case-sensitive')
  assert.deepEqual(store.idsWithPrefix('abc-1-longer'), [])
  assert.deepEqual(store.idsWithPrefix('\'; DROP TABLE tasks; --'), [])
  assert.deepEqual(store.idsWithPrefix('a\u0000'), [])
  assert.deepEqual(store.idsWithPrefix('x'.repeat(100_000)), [])
  assert.equal(store.list().length, 9, 'the table is intact')
})

test('outputTotals counts the bytes of each stream and notices a truncation, per attempt', () => {
  const store = tempStore()
  taskIn(store, 'out', [TaskState.RUNNING], 'executed')
  store.recordEvent('executed', 1, log('out', 2, 'hello'))
  store.recordEvent('executed', 1, log('out', 3, 'errors!', LogStream.STDERR))
  store.recordEvent('executed', 1, log('out', 4, 'more'))
  // What the three output events cost to store: their bytes and each event's overhead.
  const stored = 16 + 3 * (EVENT_COST_BYTES + 2 * 'out'.length)
  assert.deepEqual(store.outputTotals('out', 1), { stdoutBytes: 9, stderrBytes: 7, storedBytes: stored, truncated: false })
  assert.deepEqual(store.outputTotals('out', 1, 3), { stdoutBytes: 5, stderrBytes: 7, storedBytes: stored - 4 - EVENT_COST_BYTES - 6, truncated: false }, 'up to seq 3')
  store.recordEvent('executed', 1, event('out', 5, TaskState.RUNNING, { truncated: { limitBytes: 16 } }))
  assert.deepEqual(store.outputTotals('out', 1), { stdoutBytes: 9, stderrBytes: 7, storedBytes: stored, truncated: true })
  store.recordEvent('executed', 1, event('out', 6, TaskState.RUNNING, { log: logChunk([{ stream: LogStream.STDERR, data: Uint8Array.of(1, 2) }, { stream: LogStream.STDOUT, data: Uint8Array.of(3) }]) }))
  assert.deepEqual(store.outputTotals('out', 1), { stdoutBytes: 10, stderrBytes: 9, storedBytes: stored + 3 + 2 * SEGMENT_COST_BYTES + EVENT_COST_BYTES + 6, truncated: true }, 'an event with both streams counts each')
  assert.deepEqual(store.outputTotals('out', 2), { stdoutBytes: 0, stderrBytes: 0, storedBytes: 0, truncated: false })
  assert.deepEqual(store.outputTotals('nothing', 1), { stdoutBytes: 0, stderrBytes: 0, storedBytes: 0, truncated: false })
})

test('a store closed and opened again from its data dir has everything', () => {
  const dir = tempDataDir()
  const first = TaskStore.open(dir)
  taskIn(first, 'kept', [TaskState.QUEUED, TaskState.RUNNING], 'executed')
  first.recordEvent('executed', 1, log('kept', 3, 'output'))
  first.recordEvent('executed', 1, event('kept', 4, TaskState.SUCCEEDED, exit(0)))
  taskIn(first, 'waiting', [TaskState.QUEUED], 'submitted')
  first.setNote('waiting', 'submitted', 'noted')
  const before = { tasks: first.list(), events: first.events('kept', 1), totals: first.outputTotals('kept', 1) }
  first.close()
  first.close() // closing twice is harmless

  const second = TaskStore.open(dir)
  try {
    assert.deepEqual(second.list(), before.tasks)
    assert.deepEqual(second.events('kept', 1), before.events)
    assert.deepEqual(second.outputTotals('kept', 1), before.totals)
    assert.deepEqual(second.unfinished('submitted').map(t => t.taskId), ['waiting'])
    assert.equal(second.task('waiting', 'submitted')?.note, 'noted')
    // And it goes on where the first left off.
    assert.equal(second.recordEvent('executed', 1, event('kept', 4, TaskState.SUCCEEDED, exit(0))), false)
    assert.equal(second.recordEvent('submitted', 1, event('waiting', 2, TaskState.RUNNING)), true)
  } finally {
    second.close()
  }
})

test('a store written by a newer cloudai is refused, untouched, with what to do', () => {
  const dir = tempDataDir()
  TaskStore.open(dir).close()
  const path = join(dir, STORE_FILE)
  const raw = new DatabaseSync(path)
  raw.exec('PRAGMA user_version = 99')
  raw.close()
  assert.throws(() => TaskStore.open(dir), (err: Error) => {
    assert.equal(err.name, 'StoreVersionError')
    assert.match(err.message, /newer/)
    assert.match(err.message, /99/)
    assert.match(err.message, /upgrade cloudai|--data-dir/, 'the message says what to do')
    return true
  })
  const check = new DatabaseSync(path)
  try {
    assert.deepEqual({ ...check.prepare('PRAGMA user_version').get() }, { user_version: 99 }, 'the refused store was changed')
  } finally {
    check.close()
  }
})

test('a cloudai.db that is not a database gives an error that names the file and says what to do, and the file is left alone', () => {
  const dir = tempDataDir()
  const path = join(dir, STORE_FILE)
  const junk = 'this is not a SQLite database\n'.repeat(200)
  writeFileSync(path, junk)
  let thrown: unknown
  try {
    TaskStore.open(dir).close()
  } catch (err) {
    thrown = err
  }
  assert.equal(readFileSync(path, 'utf8'), junk, 'the file was changed')
  assert.ok(thrown instanceof Error, 'a corrupt store was opened without an error')
  const described = `${thrown.name} ${(thrown as { code?: string }).code ?? ''}: "${thrown.message}"`
  // errors.ts documents StoreVersionError as "written by a newer cloudai, or cannot be opened".
  assert.equal(thrown.name, 'StoreVersionError', `TaskStore.open on a corrupt file threw ${described}`)
  assert.ok(thrown.message.includes(path), `the error does not name the file: ${described}`)
  assert.match(thrown.message, /--data-dir|move|remove|rename/, `the error does not say what to do: ${described}`)
})

test('a store that is refused leaves no file of it open', t => {
  if (!existsSync('/proc/self/fd')) {
    t.skip('needs /proc/self/fd to list open files')
    return
  }
  const newer = tempDataDir()
  TaskStore.open(newer).close()
  const raw = new DatabaseSync(join(newer, STORE_FILE))
  raw.exec('PRAGMA user_version = 99')
  raw.close()
  const corrupt = tempDataDir()
  writeFileSync(join(corrupt, STORE_FILE), 'not a database\n'.repeat(100))
  for (const dir of [newer, corrupt]) assert.throws(() => TaskStore.open(dir))
  const open = readdirSync('/proc/self/fd').flatMap(fd => {
    try {
      return [readlinkSync(join('/proc/self/fd', fd))]
    } catch {
      return []
    }
  }).filter(path => path.startsWith(newer) || path.startsWith(corrupt))
  assert.deepEqual(open, [], 'TaskStore\'s constructor (node/src/store/store.ts) does not close the database when PRAGMA or migrate() throws')
})

/** The compiled store module, for child processes (this file runs from dist/test/unit/). */
const STORE_MODULE = pathToFileURL(resolve(dirname(fileURLToPath(import.meta.url)), '../../node/src/store/store.js')).href

/**
 * A child process that records events for task `crash` in `dir`, writing each recorded seq
 * to stdout once the store says it is on disk (the write's `durable` hook: its batch, the
 * writes of one turn, committed); after `count` events (0: never) and a turn for the last
 * batch to commit, it SIGKILLs itself.
 */
const CHILD = `
import { writeSync } from 'node:fs'
const [dir, count, spec] = process.argv.slice(-3)
const { TaskStore } = await import(${JSON.stringify(STORE_MODULE)})
const store = TaskStore.open(dir)
store.createTask({ spec: JSON.parse(spec), role: 'executed', peerId: 'master', peerName: 'm' })
const data = new Uint8Array(1000).fill(120)
for (let seq = 1; Number(count) === 0 || seq <= Number(count); seq++) {
  const state = seq === 1 ? 'QUEUED' : seq === 2 ? 'RUNNING' : 'RUNNING'
  const event = seq <= 2 ? { taskId: 'crash', seq, timeMs: Date.now(), state } : { taskId: 'crash', seq, timeMs: Date.now(), state, log: { stream: 'STDOUT', data, segments: [] } }
  store.recordEvent('executed', 1, event, { durable: () => { writeSync(1, seq + '\\n') } })
  if (seq % 50 === 0) await new Promise(resolve => setImmediate(resolve))
}
await new Promise(resolve => setImmediate(resolve))
process.kill(process.pid, 'SIGKILL')
`

/** Run the child; `killAfter`: SIGKILL it from here once it reported that many events. Resolves with what it reported. */
async function crashingChild (dir: string, count: number, killAfter?: number): Promise<{ reported: number[], signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, '--', dir, String(count), JSON.stringify(spec('crash'))], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const timer = setTimeout(() => { child.kill('SIGKILL') }, BOUND_MS)
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    if (killAfter != null && out.split('\n').length > killAfter) child.kill('SIGKILL')
  })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  try {
    const signal = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (_code, signal) => { resolve(signal) })
    })
    assert.equal(err.trim(), '', 'the child failed')
    return { reported: out.split('\n').filter(line => line !== '').map(Number), signal }
  } finally {
    clearTimeout(timer)
  }
}

test('a process killed (SIGKILL) right after recording loses none of the events it recorded', async () => {
  const dir = tempDataDir()
  const { reported, signal } = await crashingChild(dir, 1000)
  assert.equal(signal, 'SIGKILL')
  assert.equal(reported.length, 1000)
  const store = TaskStore.open(dir)
  try {
    const events = store.events('crash', 1, 1, 10_000)
    assert.deepEqual(events.map(e => e.seq), Array.from({ length: 1000 }, (_, i) => i + 1))
    assert.equal(store.task('crash', 'executed')?.state, TaskState.RUNNING)
    assert.equal(store.task('crash', 'executed')?.lastSeq, 1000)
    assert.equal(store.outputTotals('crash', 1).stdoutBytes, 998 * 1000)
    assert.deepEqual(store.unfinished('executed').map(t => t.taskId), ['crash'], 'a restarted worker finds the task to recover')
  } finally {
    store.close()
  }
})

test('a process killed in the middle of writing keeps every event it had recorded, with no gap and nothing torn', async () => {
  const dir = tempDataDir()
  const { reported, signal } = await crashingChild(dir, 0, 500)
  assert.equal(signal, 'SIGKILL')
  assert.ok(reported.length >= 500, `the child reported only ${reported.length} events`)
  const store = TaskStore.open(dir)
  try {
    const seqs = store.events('crash', 1, 1, 1_000_000).map(e => e.seq)
    // Every event the child was told was recorded is there; at most the ones after it (recorded, not yet reported) more.
    assert.ok(seqs.length >= reported.length, `${reported.length} events were recorded, ${seqs.length} found after the kill`)
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'the stored events have a gap')
    assert.equal(store.task('crash', 'executed')?.lastSeq, seqs.length)
    // The store is usable after the crash.
    assert.equal(store.recordEvent('executed', 1, event('crash', seqs.length + 1, TaskState.SUCCEEDED, exit(0))), true)
    assert.equal(store.task('crash', 'executed')?.state, TaskState.SUCCEEDED)
  } finally {
    store.close()
  }
})
