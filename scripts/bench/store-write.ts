/**
 * Events per second written by TaskStore.recordEvent, against raw node:sqlite inserts of the
 * same bytes in the same process, measured in the same run (docs/architecture.md, "Tests").
 *
 * Two kinds of event of one task: a 100-byte line of output (a log event: one row in
 * `events`), and a state event (RUNNING with a container id: the row in `events` and an
 * UPDATE of the task's row). Ours: `recordEvent` as the worker calls it, one transaction per
 * event, encoding included. The baseline: the same schema (schema.ts `migrate`) and pragmas
 * (WAL, synchronous NORMAL) on a DatabaseSync of its own, one prepared autocommit INSERT per
 * event of the bytes ours would store, encoded before the clock starts. Every run writes
 * EVENTS events (or what it can in RUN_LIMIT_MS) into a fresh database; the four runs of a
 * round go in an order that rotates from round to round; medians are reported.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { DatabaseSync } from 'node:sqlite'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TaskEvent as TaskEventCodec } from '../../protocols/task.ts'
import { newTaskId } from '../../node/src/master/master.ts'
import { encodeSpec, LogStream, TaskState, validateSpec, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import { migrate } from '../../node/src/store/schema.ts'
import { TaskStore } from '../../node/src/store/store.ts'
import { simTaskRequest } from '../../test/helpers/sim.ts'
import type { BenchRow } from './report.ts'
import { median } from './task-latency.ts'

/** Events per run. */
const EVENTS = 20_000
/** A run stops writing after this, and its rate counts what it wrote. */
const RUN_LIMIT_MS = 20_000
const ROUNDS = 3
const LINE = new TextEncoder().encode('x'.repeat(99) + '\n')
const CONTAINER_ID = 'c'.repeat(64)

type Kind = 'log' | 'state'

function makeEvent (kind: Kind, taskId: string, seq: number): TaskEvent {
  return kind === 'log'
    ? { taskId, seq, timeMs: Date.now(), state: TaskState.RUNNING, log: { stream: LogStream.STDOUT, data: LINE, segments: [] } }
    : { taskId, seq, timeMs: Date.now(), state: TaskState.RUNNING, containerId: CONTAINER_ID }
}

interface Run { eventsPerSecond: number, written: number }

/** recordEvent into a fresh store, for a task created first as the worker does. */
function ours (dir: string, kind: Kind): Run {
  const store = TaskStore.open(dir)
  try {
    const spec = validateSpec(encodeSpec({ ...simTaskRequest(['exit:0']), id: newTaskId(), attempt: 1 }))
    store.createTask({ spec, role: 'executed', peerId: 'bench-master', peerName: 'bench-master' })
    const start = performance.now()
    let seq = 0
    while (seq < EVENTS && performance.now() - start < RUN_LIMIT_MS) {
      seq++
      if (!store.recordEvent('executed', 1, makeEvent(kind, spec.id, seq))) throw new Error(`event ${seq} was not new`)
    }
    return { eventsPerSecond: seq / ((performance.now() - start) / 1000), written: seq }
  } finally {
    store.close()
  }
}

/** The same bytes into the same schema with plain autocommit inserts. */
function raw (dir: string, kind: Kind): Run {
  const db = new DatabaseSync(join(dir, 'raw.db'))
  try {
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;')
    migrate(db)
    const taskId = newTaskId()
    const rows = Array.from({ length: EVENTS }, (_, i) => TaskEventCodec.encode(makeEvent(kind, taskId, i + 1)))
    const insert = db.prepare('INSERT INTO events (task_id, attempt, seq, event) VALUES (?, ?, ?, ?)')
    const start = performance.now()
    let seq = 0
    while (seq < EVENTS && performance.now() - start < RUN_LIMIT_MS) {
      insert.run(taskId, 1, seq + 1, rows[seq])
      seq++
    }
    return { eventsPerSecond: seq / ((performance.now() - start) / 1000), written: seq }
  } finally {
    db.close()
  }
}

export async function storeWriteBench (): Promise<BenchRow[]> {
  const root = await mkdtemp(join(tmpdir(), 'cloudai-bench-store-'))
  try {
    const variants = [
      { kind: 'log' as const, path: 'ours' as const },
      { kind: 'log' as const, path: 'raw' as const },
      { kind: 'state' as const, path: 'ours' as const },
      { kind: 'state' as const, path: 'raw' as const }
    ]
    const results = new Map(variants.map(v => [`${v.kind}/${v.path}`, [] as Run[]]))
    let runs = 0
    const once = async (variant: typeof variants[number]): Promise<Run> => {
      const dir = await mkdtemp(join(root, `${runs++}-`))
      try {
        return variant.path === 'ours' ? ours(dir, variant.kind) : raw(dir, variant.kind)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }
    for (const variant of variants) await once(variant) // warm-up: JIT, statement caches, the file system
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < variants.length; i++) {
        const variant = variants[(round + i) % variants.length]
        results.get(`${variant.kind}/${variant.path}`)!.push(await once(variant))
      }
    }
    const rate = (key: string): number => median(results.get(key)!.map(r => r.eventsPerSecond))
    const written = (key: string): string => {
      const counts = results.get(key)!.map(r => r.written)
      return counts.every(n => n === EVENTS) ? `${EVENTS}` : `${Math.min(...counts)}-${EVENTS} (time-bounded)`
    }
    const bytes = (kind: Kind): number => TaskEventCodec.encode(makeEvent(kind, newTaskId(), 1)).byteLength
    const baseline = 'node:sqlite autocommit INSERT, same bytes, schema and pragmas'
    return [
      {
        name: 'store: recordEvent, 100-byte log line',
        value: rate('log/ours'),
        unit: 'events/s',
        baseline,
        baselineValue: rate('log/raw'),
        note: `median of ${ROUNDS} runs of ${written('log/ours')} events, ${bytes('log')} bytes each encoded; WAL, synchronous NORMAL, ${tmpdir()}`
      },
      {
        name: 'store: recordEvent, state event (row updated)',
        value: rate('state/ours'),
        unit: 'events/s',
        baseline,
        baselineValue: rate('state/raw'),
        note: `median of ${ROUNDS} runs of ${written('state/ours')} events, ${bytes('state')} bytes each encoded; ours also updates the task's row`
      }
    ]
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}
