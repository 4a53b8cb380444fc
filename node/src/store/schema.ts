import type { DatabaseSync } from 'node:sqlite'
import { StoreVersionError } from '../errors.ts'

/**
 * The schema, one entry per version: a store created by an older version is brought
 * forward in order, and one from a newer version is refused rather than misread.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE tasks (
    task_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('submitted', 'executed')),
    attempt INTEGER NOT NULL,
    spec TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    peer_name TEXT NOT NULL,
    state TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    started_ms INTEGER,
    finished_ms INTEGER,
    exit_code INTEGER,
    error_code TEXT,
    error_message TEXT,
    container_id TEXT,
    note TEXT,
    PRIMARY KEY (task_id, role)
  );
  CREATE INDEX tasks_by_created ON tasks (created_ms);
  CREATE TABLE events (
    task_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    event BLOB NOT NULL,
    PRIMARY KEY (task_id, attempt, seq)
  ) WITHOUT ROWID;`,
  // 2: a master's attempts (a task placed again elsewhere), and how it was asked to place it.
  `CREATE TABLE attempts (
    task_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    peer_id TEXT NOT NULL,
    peer_name TEXT NOT NULL,
    state TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    error_code TEXT,
    error_message TEXT,
    PRIMARY KEY (task_id, attempt)
  ) WITHOUT ROWID;
  ALTER TABLE tasks ADD COLUMN placement TEXT;
  INSERT INTO attempts (task_id, attempt, peer_id, peer_name, state, created_ms, finished_ms, error_code, error_message)
    SELECT task_id, attempt, peer_id, peer_name, state, created_ms, finished_ms, error_code, error_message FROM tasks WHERE role = 'submitted';`
]

export function migrate (db: DatabaseSync): void {
  const { user_version: version } = db.prepare('PRAGMA user_version').get() as { user_version: number }
  if (version > MIGRATIONS.length) {
    throw new StoreVersionError(`the task store was written by a newer cloudai (schema ${version}, this one knows ${MIGRATIONS.length}): upgrade cloudai, or use another --data-dir`)
  }
  for (let next = version; next < MIGRATIONS.length; next++) {
    db.exec('BEGIN IMMEDIATE')
    try {
      db.exec(MIGRATIONS[next])
      db.exec(`PRAGMA user_version = ${next + 1}`)
      db.exec('COMMIT')
    } catch (err) {
      db.exec('ROLLBACK')
      throw err
    }
  }
}
