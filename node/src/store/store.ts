import { chmodSync, closeSync, openSync, statSync } from 'node:fs'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { dirname, join } from 'node:path'
import { TaskEvent as TaskEventCodec } from '../../../protocols/task.ts'
import { isTerminal, LogStream, TaskState, type TaskEvent, type TaskSpec } from '../protocol/task-messages.ts'
import { eventCost, outputPieces } from '../protocol/task-output.ts'
import { StoreVersionError } from '../errors.ts'
import { PROGRESS_STATES, TERMINAL_STATES } from '../task-states.ts'
import { RecentEvents } from './recent-events.ts'
import { migrate } from './schema.ts'
import { isDiskFull, StoreSpace } from './store-space.ts'
import { toRecord, type AttemptRecord, type PlacementRecord, type TaskRecord, type TaskRole, type TaskRow } from './records.ts'

export const STORE_FILE = 'cloudai.db'
/** The history holds every task's command, environment and output: for the node's user alone. SQLite gives its -wal and -shm files the same mode. */
const STORE_FILE_MODE = 0o600

/** What `outputTotals` counts. */
export interface OutputTotals {
  stdoutBytes: number
  stderrBytes: number
  /** What the output events cost to store (`eventCost`). */
  storedBytes: number
  truncated: boolean
}

export type { AttemptRecord, PlacementRecord, TaskRecord, TaskRole }

export interface ListOptions {
  limit?: number
  state?: TaskState
  role?: TaskRole
  oneRowPerTask?: boolean
  /** Only the tasks listed after this one (older, or as old with a smaller id): the next page. */
  after?: { createdMs: number, taskId: string }
}

/** One event as the store took it, for whoever watches the store (metrics). */
export interface RecordedEvent {
  role: TaskRole
  attempt: number
  event: TaskEvent
  /** Stored now (false: the same seq was stored already, e.g. by this node's own worker). */
  inserted: boolean
  /** The task's row in this role took the event's state (false for output, and for a state it had passed). */
  moved: boolean
}

/** What `deleteFinished` removed. */
export interface Deleted {
  tasks: number
  events: number
}

/** What a writer is told of its write (`recordEvent`, `createTask`). */
export interface WriteHooks {
  /** The write is on disk (its batch committed): run before anyone else is told of it. */
  durable?: () => void
  /** The write was refused when its batch committed (the disk filled) and again on its own: it is not in the store. */
  lost?: (err: Error) => void
}

/** One write of a batch, kept so that it can be made again on its own if the batch's commit fails. */
interface BatchedWrite {
  /** After one of a task's writes failed, its later writes in the batch are not made either: a task's events have no gap. */
  taskId: string
  work: () => void
  /** Run once it is on disk, in the order of the writes: who is told of it. */
  durable: Array<() => void>
  lost: Array<(err: Error) => void>
}

interface WriteBatch {
  writes: BatchedWrite[]
  commit: NodeJS.Immediate
}

/** The order of the states before the end: a row's state never moves back (an event seen again after a re-attach). */
const PROGRESS_RANK = `CASE state ${PROGRESS_STATES.map((state, rank) => `WHEN '${state}' THEN ${rank}`).join(' ')} END`
/** The terminal states as an SQL list, for `state NOT IN …`. */
const TERMINAL_SQL = `(${[...TERMINAL_STATES].map(state => `'${state}'`).join(', ')})`

const TASK_COLUMNS = `task_id, role, attempt, spec, peer_id, peer_name, state, created_ms, updated_ms, started_ms,
  finished_ms, exit_code, error_code, error_message, container_id, note, placement,
  (SELECT COALESCE(MAX(seq), 0) FROM events e WHERE e.task_id = t.task_id AND e.attempt = t.attempt) AS last_seq`

/**
 * Tell a watcher. A watcher that throws is a bug in the watcher (it surfaces as an error no
 * code handled, which the daemon logs), never a write that fails: the store has done its part.
 */
function told (tell: () => void): void {
  try {
    tell()
  } catch (err) {
    queueMicrotask(() => { throw err })
  }
}

/**
 * Create the store file with STORE_FILE_MODE before SQLite creates it with the umask's, and
 * take back what an earlier version let others read (its -wal and -shm files included).
 */
function createPrivately (path: string): void {
  closeSync(openSync(path, 'a', STORE_FILE_MODE))
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    let mode: number
    try {
      mode = statSync(file).mode
    } catch (err: any) {
      if (err?.code === 'ENOENT') continue
      throw err
    }
    if ((mode & 0o077) !== 0) chmodSync(file, STORE_FILE_MODE)
  }
}

/**
 * The node's durable state (docs/architecture.md, "Store"): every task it submitted or executed and every
 * event of each, in SQLite (WAL). The writes of one turn of the event loop share one
 * transaction, committed at its end; an event is on disk (in the WAL, which survives a killed
 * process) before anyone is told of it (`WriteHooks.durable`, `changed`, the watchers).
 */
export class TaskStore {
  private readonly db: DatabaseSync
  private readonly statements = new Map<string, StatementSync>()
  /** Bytes kept beside the store per task (a task's output files), counted in `historyBytes` and let go with the task. */
  private readonly keptBeside = new Map<string, number>()
  private keptBesideTotal = 0
  private readonly deletedListeners: Array<(taskId: string) => void> = []
  /** Readers waiting for a task's next event (or a change in how the master sees it). */
  private readonly waiting = new Map<string, Set<() => void>>()
  private readonly space: StoreSpace
  /** What was just recorded, for readers that keep up (`RecentEvents`). */
  private readonly recent = new RecentEvents()
  /** Told of every event recorded and of every task that changed (the dashboard's live list, the metrics). */
  private readonly eventWatchers = new Set<(recorded: RecordedEvent) => void>()
  private readonly changeWatchers = new Set<(taskId: string) => void>()
  /** The writes of this turn of the event loop, in one open transaction (`write`), committed at its end. */
  private batch?: WriteBatch

  constructor (path: string) {
    createPrivately(path)
    this.space = new StoreSpace(dirname(path))
    this.db = new DatabaseSync(path)
    try {
      // NORMAL in WAL mode loses nothing when the process dies; only a power cut can cost the last commits.
      this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;')
      migrate(this.db)
    } catch (err: any) {
      this.db.close()
      if (err instanceof StoreVersionError) throw err
      throw new StoreVersionError(`${path} cannot be used as the task store (${err?.message ?? err}): move it aside to start with an empty history, or use another --data-dir`)
    }
  }

  static open (dataDir: string): TaskStore {
    return new TaskStore(join(dataDir, STORE_FILE))
  }

  /** Commit what this turn wrote (telling its readers), then close. */
  close (): void {
    if (!this.db.isOpen) return
    // What is told of a commit may write again (a task that ended starts the next): those writes are committed too, a bounded number of rounds.
    for (let round = 0; round < 8 && this.batch != null; round++) this.commit()
    if (this.batch != null) clearImmediate(this.batch.commit)
    this.batch = undefined
    this.db.close()
  }

  private sql (text: string): StatementSync {
    let statement = this.statements.get(text)
    if (statement == null) {
      statement = this.db.prepare(text)
      this.statements.set(text, statement)
    }
    return statement
  }

  /**
   * Record a new task (and, for a submitted one, its first attempt); a task already recorded
   * for this role is left as it is. Throws StoreFullError when the disk has less than the
   * headroom free: a new task waits for room, the tasks that run keep it.
   */
  createTask (record: { spec: TaskSpec, role: TaskRole, peerId: string, peerName: string, placement?: PlacementRecord }, hooks: WriteHooks = {}): void {
    this.space.requireHeadroom(this.reusableBytes())
    const now = Date.now()
    this.write(record.spec.id, hooks, () => {
      const created = this.sql(`INSERT OR IGNORE INTO tasks (task_id, role, attempt, spec, peer_id, peer_name, state, created_ms, updated_ms, placement)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(record.spec.id, record.role, record.spec.attempt, JSON.stringify(record.spec), record.peerId, record.peerName,
          TaskState.PENDING, now, now, record.placement != null ? JSON.stringify(record.placement) : null).changes > 0
      if (created && record.role === 'submitted') this.insertAttempt(record.spec.id, record.spec.attempt, record.peerId, record.peerName, now)
    })
  }

  private insertAttempt (taskId: string, attempt: number, peerId: string, peerName: string, now: number): void {
    this.sql(`INSERT OR IGNORE INTO attempts (task_id, attempt, peer_id, peer_name, state, created_ms) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(taskId, attempt, peerId, peerName, TaskState.PENDING, now)
  }

  /**
   * A submitted task goes on as a new attempt (placed again elsewhere): its row follows the
   * new attempt from PENDING, the earlier attempts keep how they ended. `peerId` may be empty
   * while the attempt is being placed (see `placeAttempt`).
   */
  startAttempt (taskId: string, attempt: number, peerId: string, peerName: string): void {
    const now = Date.now()
    this.write(taskId, { durable: () => { this.notify(taskId) } }, () => {
      this.insertAttempt(taskId, attempt, peerId, peerName, now)
      this.sql(`UPDATE tasks SET attempt = ?, peer_id = ?, peer_name = ?, state = 'PENDING', updated_ms = ?, started_ms = NULL,
          exit_code = NULL, error_code = NULL, error_message = NULL, container_id = NULL
        WHERE task_id = ? AND role = 'submitted'`).run(attempt, peerId, peerName, now, taskId)
    })
  }

  /** The worker chosen for an attempt that was being placed. */
  placeAttempt (taskId: string, attempt: number, peerId: string, peerName: string): void {
    this.write(taskId, { durable: () => { this.notify(taskId) } }, () => {
      this.sql('UPDATE attempts SET peer_id = ?, peer_name = ? WHERE task_id = ? AND attempt = ?').run(peerId, peerName, taskId, attempt)
      this.sql(`UPDATE tasks SET peer_id = ?, peer_name = ?, updated_ms = ? WHERE task_id = ? AND role = 'submitted' AND attempt = ?`)
        .run(peerId, peerName, Date.now(), taskId, attempt)
    })
  }

  /** A submitted task's attempts, first to last. */
  attempts (taskId: string): AttemptRecord[] {
    const rows = this.sql('SELECT * FROM attempts WHERE task_id = ? ORDER BY attempt').all(taskId) as Array<Record<string, any>>
    return rows.map(row => ({
      attempt: row.attempt,
      peerId: row.peer_id,
      peerName: row.peer_name,
      state: row.state as TaskState,
      createdMs: row.created_ms,
      ...(row.finished_ms != null ? { finishedMs: row.finished_ms } : {}),
      ...(row.error_code != null ? { errorCode: row.error_code, errorMessage: row.error_message ?? '' } : {})
    }))
  }

  /**
   * A write that joins this turn's batch: the writes made in one turn of the event loop share
   * one transaction, committed at the end of the turn (`commit`), since a commit costs ten
   * times the writes it holds. The write is made now, in a savepoint: this connection's reads
   * see it at once, and one the store refuses throws here having changed nothing (StoreFullError
   * for a full disk), as a write of its own would. Who must hear of it only after it is on
   * disk is told by `hooks.durable` (and this store's own readers and watchers, likewise).
   */
  private write (taskId: string, hooks: WriteHooks, work: () => void): void {
    if (!this.db.isOpen) throw new Error('the task store is closed')
    if (this.batch == null) {
      try {
        this.sql('BEGIN IMMEDIATE').run()
      } catch (err) {
        if (isDiskFull(err)) throw this.space.full('the disk refused a write', err)
        throw err
      }
      this.batch = { writes: [], commit: setImmediate(() => { this.commit() }) }
    }
    try {
      this.sql('SAVEPOINT write').run()
      try {
        work()
        this.sql('RELEASE write').run()
      } catch (err) {
        if (this.db.isTransaction) {
          this.sql('ROLLBACK TO write').run()
          this.sql('RELEASE write').run()
        }
        throw err
      }
    } catch (err) {
      // SQLite rolled the whole transaction back by itself (a full disk can): the batch's earlier writes are made again one by one.
      if (!this.db.isTransaction) this.batchFailed(err)
      if (isDiskFull(err)) throw this.space.full('the disk refused a write', err)
      throw err
    }
    this.batch.writes.push({ taskId, work, durable: hooks.durable != null ? [hooks.durable] : [], lost: hooks.lost != null ? [hooks.lost] : [] })
  }

  /**
   * Commit this turn's writes, then tell of each, in order. Runs at the end of the turn that
   * wrote, and before anything else that needs the store on disk (`close`, a write of its own).
   */
  commit (): void {
    const batch = this.batch
    if (batch == null) return
    this.batch = undefined
    clearImmediate(batch.commit)
    if (!this.db.isOpen) return
    try {
      this.sql('COMMIT').run()
    } catch (err) {
      this.batch = batch
      this.batchFailed(err)
      return
    }
    for (const write of batch.writes) for (const durable of write.durable) told(durable)
  }

  /**
   * The batch could not be committed (the disk refused it): roll it back and make each write
   * again on its own, so that only what does not fit is lost, as if each had been its own
   * transaction; a task's writes after one of its own that failed are not made either.
   */
  private batchFailed (cause: unknown): void {
    const batch = this.batch
    this.batch = undefined
    if (batch == null) return
    clearImmediate(batch.commit)
    if (this.db.isOpen && this.db.isTransaction) this.sql('ROLLBACK').run()
    const failed = new Map<string, Error>()
    for (const write of batch.writes) {
      let err = failed.get(write.taskId)
      if (err == null) {
        try {
          this.transaction(write.work)
        } catch (thrown) {
          err = thrown instanceof Error ? thrown : new Error(String(thrown ?? cause))
          failed.set(write.taskId, err)
        }
      }
      if (err == null) for (const durable of write.durable) told(durable)
      else for (const lost of write.lost) told(() => { lost(err) })
    }
  }

  /**
   * Run `work` once everything written so far is settled (on disk, or refused by a disk that
   * filled): at once if it is; in order with what those writes tell.
   */
  afterCommit (work: () => void): void {
    const last = this.batch?.writes.at(-1)
    if (last == null) {
      work()
      return
    }
    last.durable.push(work)
    last.lost.push(() => { work() })
  }

  /** Resolves once everything written so far is on disk; rejects with why, if the last of it never gets there. */
  async whenDurable (): Promise<void> {
    const last = this.batch?.writes.at(-1)
    if (last == null) return
    await new Promise<void>((resolve, reject) => {
      last.durable.push(resolve)
      last.lost.push(reject)
    })
  }

  /**
   * A write of its own, all of it or nothing, after this turn's batch is committed: for the
   * rare large writes (retention) and for writes made again alone. A disk that refused it
   * becomes StoreFullError, and the store is as it was before (SQLite has rolled the
   * transaction back by itself then, so a second ROLLBACK would hide the real error).
   */
  private transaction (work: () => void): void {
    this.commit()
    try {
      // Prepared once (`sql`): parsing them again for every event cost more than the insert.
      this.sql('BEGIN IMMEDIATE').run()
      try {
        work()
        this.sql('COMMIT').run()
      } catch (err) {
        if (this.db.isTransaction) this.sql('ROLLBACK').run()
        throw err
      }
    } catch (err) {
      if (isDiskFull(err)) throw this.space.full('the disk refused a write', err)
      throw err
    }
  }

  /** Bytes of the store's own free pages (left by pruned history), which new writes reuse before the disk's. */
  private reusableBytes (): number {
    const { freelist_count: free } = this.sql('PRAGMA freelist_count').get() as { freelist_count: number }
    return free * this.pageSize()
  }

  /**
   * Store an event and apply it to the task's row for `role`. An event already stored (the
   * same seq, seen again after a re-attach, or written by this node's own worker) is not
   * stored twice. Returns whether the event was new. New output needs the headroom free
   * (StoreFullError otherwise); the events that end a task do not.
   */
  recordEvent (role: TaskRole, attempt: number, event: TaskEvent, hooks: WriteHooks = {}): boolean {
    // Output and progress change no row; a state event moves `role`'s row.
    const movesRow = event.log == null && event.pull == null
    // Stored already (by this node's own worker, for a task sent to itself): only `role`'s row may move.
    const stored = this.recent.event(event.taskId, attempt, event.seq) != null
    if (stored && !movesRow) {
      if (hooks.durable != null) this.afterCommit(hooks.durable)
      return false
    }
    if (!stored && event.log != null) {
      try {
        this.space.requireHeadroom(this.reusableBytes())
      } catch (err) {
        if (!this.hasEvent(event.taskId, attempt, event.seq)) throw err
      }
    }
    let inserted = false
    let moved = false
    // Readers and watchers hear of it once it is on disk, after the writer (its hooks). A row
    // that moved is told of even when the event was stored already: the submitter's row of a
    // task sent to this node itself counts (metrics, the dashboard) as a peer's does.
    const tell = (): void => {
      hooks.durable?.()
      for (const watcher of this.eventWatchers) told(() => { watcher({ role, attempt, event, inserted, moved }) })
      if (inserted) this.recent.added(attempt, event)
      if (inserted || moved) this.notify(event.taskId)
    }
    this.write(event.taskId, { durable: tell, ...(hooks.lost != null ? { lost: hooks.lost } : {}) }, () => {
      if (!stored) {
        inserted = this.sql('INSERT OR IGNORE INTO events (task_id, attempt, seq, event) VALUES (?, ?, ?, ?)')
          .run(event.taskId, attempt, event.seq, TaskEventCodec.encode(event)).changes > 0
      }
      if (movesRow) moved = this.applyEvent(role, attempt, event)
    })
    return inserted
  }

  /** Call `watcher` with every event recorded from now on; returns how to stop. */
  watchEvents (watcher: (recorded: RecordedEvent) => void): () => void {
    this.eventWatchers.add(watcher)
    return () => { this.eventWatchers.delete(watcher) }
  }

  /** Call `watcher` with the id of every task that changes from now on (an event, a note, a new attempt); returns how to stop. */
  watchChanges (watcher: (taskId: string) => void): () => void {
    this.changeWatchers.add(watcher)
    return () => { this.changeWatchers.delete(watcher) }
  }

  /** How many rows the history holds per role and state. */
  countByRoleAndState (): Array<{ role: TaskRole, state: TaskState, count: number }> {
    return this.sql('SELECT role, state, COUNT(*) AS count FROM tasks GROUP BY role, state').all() as Array<{ role: TaskRole, state: TaskState, count: number }>
  }

  /** A state event moves the row of the task's current attempt (an earlier attempt's late events do not) and, for a master, the attempt's row. */
  private applyEvent (role: TaskRole, attempt: number, event: TaskEvent): boolean {
    if (role === 'submitted') {
      const terminal = isTerminal(event.state)
      this.sql(`UPDATE attempts SET state = ?, finished_ms = CASE WHEN ? THEN ? ELSE finished_ms END,
          error_code = COALESCE(?, error_code), error_message = COALESCE(?, error_message)
        WHERE task_id = ? AND attempt = ? AND state NOT IN ${TERMINAL_SQL}
          AND (? OR ${PROGRESS_RANK} <= ?)`)
        .run(event.state, terminal ? 1 : 0, event.timeMs, event.error?.code ?? null, event.error?.message ?? null,
          event.taskId, attempt, terminal ? 1 : 0, PROGRESS_STATES.indexOf(event.state))
    }
    const terminal = isTerminal(event.state)
    return this.sql(`UPDATE tasks SET state = ?, updated_ms = ?,
        started_ms = CASE WHEN ? AND started_ms IS NULL THEN ? ELSE started_ms END,
        finished_ms = CASE WHEN ? THEN ? ELSE finished_ms END,
        exit_code = COALESCE(?, exit_code), error_code = COALESCE(?, error_code),
        error_message = COALESCE(?, error_message), container_id = COALESCE(?, container_id)
      WHERE task_id = ? AND role = ? AND attempt = ? AND state NOT IN ${TERMINAL_SQL}
        AND (? OR ${PROGRESS_RANK} <= ?)`)
      .run(event.state, event.timeMs, event.state === TaskState.RUNNING ? 1 : 0, event.timeMs, terminal ? 1 : 0, event.timeMs,
        event.exit?.code ?? null, event.error?.code ?? null, event.error?.message ?? null, event.containerId ?? null,
        event.taskId, role, attempt, terminal ? 1 : 0, PROGRESS_STATES.indexOf(event.state)).changes > 0
  }

  setNote (taskId: string, role: TaskRole, note: string): void {
    this.write(taskId, { durable: () => { this.notify(taskId) } }, () => {
      this.sql('UPDATE tasks SET note = ?, updated_ms = ? WHERE task_id = ? AND role = ?').run(note, Date.now(), taskId, role)
    })
  }

  /** Wake everyone waiting in `changed` for this task. */
  notify (taskId: string): void {
    for (const watcher of this.changeWatchers) told(() => { watcher(taskId) })
    const waiters = this.waiting.get(taskId)
    if (waiters == null) return
    this.waiting.delete(taskId)
    for (const wake of waiters) wake()
  }

  /** Resolves at the task's next event or notification, or when `signal` aborts. */
  async changed (taskId: string, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return
    await new Promise<void>(resolve => {
      const done = (): void => {
        signal.removeEventListener('abort', done)
        const current = this.waiting.get(taskId)
        current?.delete(done)
        if (current?.size === 0) this.waiting.delete(taskId)
        resolve()
      }
      let waiters = this.waiting.get(taskId)
      if (waiters == null) this.waiting.set(taskId, waiters = new Set())
      waiters.add(done)
      signal.addEventListener('abort', done, { once: true })
    })
  }

  private hasEvent (taskId: string, attempt: number, seq: number): boolean {
    return this.sql('SELECT 1 FROM events WHERE task_id = ? AND attempt = ? AND seq = ?').get(taskId, attempt, seq) != null
  }

  /** The event with this seq, or undefined if it is not stored (yet). */
  event (taskId: string, attempt: number, seq: number): TaskEvent | undefined {
    const recent = this.recent.event(taskId, attempt, seq)
    if (recent !== undefined) return recent ?? undefined
    const row = this.sql('SELECT event FROM events WHERE task_id = ? AND attempt = ? AND seq = ?').get(taskId, attempt, seq) as { event: Uint8Array } | undefined
    return row != null ? TaskEventCodec.decode(row.event) : undefined
  }

  /** The newest event stored for a task, if any. */
  lastEvent (taskId: string, attempt: number): TaskEvent | undefined {
    const recent = this.recent.last(taskId, attempt)
    if (recent != null) return recent
    const row = this.sql('SELECT event FROM events WHERE task_id = ? AND attempt = ? ORDER BY seq DESC LIMIT 1').get(taskId, attempt) as { event: Uint8Array } | undefined
    return row != null ? TaskEventCodec.decode(row.event) : undefined
  }

  /** Events from `fromSeq` on, at most `limit`, in order. */
  events (taskId: string, attempt: number, fromSeq = 1, limit = 1000): TaskEvent[] {
    const recent = this.recent.from(taskId, attempt, fromSeq, limit)
    if (recent != null) return recent
    const rows = this.sql('SELECT event FROM events WHERE task_id = ? AND attempt = ? AND seq >= ? ORDER BY seq LIMIT ?')
      .all(taskId, attempt, fromSeq, limit) as Array<{ event: Uint8Array }>
    return rows.map(row => TaskEventCodec.decode(row.event))
  }

  /**
   * How much output a task recorded (up to `throughSeq`, if given), per stream, what its
   * output events cost to store (`eventCost`, what the log limit counts), and whether it was
   * truncated: for a restarted worker or master.
   */
  outputTotals (taskId: string, attempt: number, throughSeq = Number.MAX_SAFE_INTEGER): OutputTotals {
    const totals = { stdoutBytes: 0, stderrBytes: 0, storedBytes: 0, truncated: false }
    const rows = this.sql('SELECT event FROM events WHERE task_id = ? AND attempt = ? AND seq <= ? ORDER BY seq').iterate(taskId, attempt, throughSeq) as Iterable<{ event: Uint8Array }>
    for (const row of rows) {
      const event = TaskEventCodec.decode(row.event)
      if (event.truncated != null) totals.truncated = true
      if (event.log == null) continue
      totals.storedBytes += eventCost(event)
      for (const piece of outputPieces(event.log)) {
        if (piece.stream === LogStream.STDERR) totals.stderrBytes += piece.data.byteLength
        else totals.stdoutBytes += piece.data.byteLength
      }
    }
    return totals
  }

  /** The attempt a task's row for `role` is at; undefined if there is no such row (cheaper than `task`: no spec to parse, no events to count). */
  currentAttempt (taskId: string, role: TaskRole): number | undefined {
    const row = this.sql('SELECT attempt FROM tasks WHERE task_id = ? AND role = ?').get(taskId, role) as { attempt: number } | undefined
    return row?.attempt
  }

  task (taskId: string, role: TaskRole): TaskRecord | undefined {
    const row = this.sql(`SELECT ${TASK_COLUMNS} FROM tasks t WHERE task_id = ? AND role = ?`).get(taskId, role) as TaskRow | undefined
    return row != null ? toRecord(row) : undefined
  }

  /**
   * Newest first. With `oneRowPerTask`, a task this node both submitted and executed (sent to
   * itself) counts once, as its submitted row, before the limit applies.
   */
  list (options: ListOptions = {}): TaskRecord[] {
    const rows = this.sql(`SELECT ${TASK_COLUMNS} FROM tasks t
        WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR role = ?2)
          AND (?4 = 0 OR role = 'submitted' OR NOT EXISTS (SELECT 1 FROM tasks s WHERE s.task_id = t.task_id AND s.role = 'submitted'))
          AND (?5 IS NULL OR (created_ms, task_id) < (?5, ?6))
        ORDER BY created_ms DESC, task_id DESC LIMIT ?3`)
      .all(options.state ?? null, options.role ?? null, options.limit ?? -1, options.oneRowPerTask === true ? 1 : 0,
        options.after?.createdMs ?? null, options.after?.taskId ?? null) as unknown as TaskRow[]
    return rows.map(toRecord)
  }

  /**
   * Bytes the history takes: the store's pages in use. Pages freed by deleting are reused
   * before the file grows (the file itself keeps its largest size).
   */
  historyBytes (): number {
    const { page_count: pages } = this.sql('PRAGMA page_count').get() as { page_count: number }
    return pages * this.pageSize() - this.reusableBytes() + this.keptBesideTotal
  }

  /** Count `bytes` kept outside the store for a task (its outputs) as part of its history, until the task is deleted. */
  keepBeside (taskId: string, bytes: number): void {
    this.keptBesideTotal += bytes - (this.keptBeside.get(taskId) ?? 0)
    this.keptBeside.set(taskId, bytes)
  }

  /** Called with each task `deleteFinished` removed, after the removal, so what it kept beside the store goes too. */
  onTaskDeleted (listener: (taskId: string) => void): void {
    this.deletedListeners.push(listener)
  }

  /** Fixed once the store exists (only a VACUUM could change it, and none runs). */
  private pageSizeBytes?: number

  private pageSize (): number {
    this.pageSizeBytes ??= (this.sql('PRAGMA page_size').get() as { page_size: number }).page_size
    return this.pageSizeBytes
  }

  /**
   * Delete finished tasks, oldest first, with their events and attempts, in one transaction:
   * at most `limit`; with `endedBeforeMs`, only those that ended before it; with
   * `downToBytes`, only until the history takes no more than that. A task counts as finished
   * when every row of it (both, for a task this node sent to itself) has ended: one that has
   * not is never touched.
   */
  deleteFinished (options: { limit: number, endedBeforeMs?: number, downToBytes?: number }): Deleted {
    const deleted: Deleted = { tasks: 0, events: 0 }
    const gone: string[] = []
    this.transaction(() => {
      const rows = this.sql(`SELECT task_id FROM tasks t
          WHERE state IN ${TERMINAL_SQL} AND (?1 IS NULL OR COALESCE(finished_ms, updated_ms) < ?1)
            AND NOT EXISTS (SELECT 1 FROM tasks u WHERE u.task_id = t.task_id
              AND (u.state NOT IN ${TERMINAL_SQL} OR (?1 IS NOT NULL AND COALESCE(u.finished_ms, u.updated_ms) >= ?1)))
          ORDER BY created_ms, task_id LIMIT ?2`).all(options.endedBeforeMs ?? null, options.limit) as Array<{ task_id: string }>
      for (const taskId of new Set(rows.map(row => row.task_id))) {
        if (options.downToBytes != null && this.historyBytes() <= options.downToBytes) break
        deleted.events += Number(this.sql('DELETE FROM events WHERE task_id = ?').run(taskId).changes)
        this.recent.forget(taskId)
        this.sql('DELETE FROM attempts WHERE task_id = ?').run(taskId)
        this.sql('DELETE FROM tasks WHERE task_id = ?').run(taskId)
        this.keptBesideTotal -= this.keptBeside.get(taskId) ?? 0
        this.keptBeside.delete(taskId)
        gone.push(taskId)
        deleted.tasks++
      }
    })
    for (const taskId of gone) for (const listener of this.deletedListeners) listener(taskId)
    return deleted
  }

  /** Tasks of `role` that have not ended, oldest first (the order they were queued in). */
  unfinished (role: TaskRole): TaskRecord[] {
    const rows = this.sql(`SELECT ${TASK_COLUMNS} FROM tasks t
        WHERE role = ? AND state NOT IN ${TERMINAL_SQL}
        ORDER BY created_ms, rowid`).all(role) as unknown as TaskRow[]
    return rows.map(toRecord)
  }

  /** Task ids that start with `prefix` (any role), at most `limit`. */
  idsWithPrefix (prefix: string, limit = 10): string[] {
    const rows = this.sql('SELECT DISTINCT task_id FROM tasks WHERE substr(task_id, 1, ?) = ? ORDER BY task_id LIMIT ?')
      .all(prefix.length, prefix, limit) as Array<{ task_id: string }>
    return rows.map(row => row.task_id)
  }
}
