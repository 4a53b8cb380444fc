import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import type { TaskEvent, TaskSpec, TaskState } from '../../node/src/protocol/task-messages.ts'
import { TaskStore } from '../../node/src/store/store.ts'

/** A task store in a fresh directory, closed and removed when the test file ends. */
export function tempStore (): TaskStore {
  const dir = mkdtempSync(join(tmpdir(), 'cloudai-store-'))
  const store = TaskStore.open(dir)
  after(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return store
}

/** A small valid spec for store tests (the simulated executor's image). */
export function storedSpec (id: string, extra: Partial<TaskSpec> = {}): TaskSpec {
  return {
    id,
    image: '127.0.0.1:5000/cloudai/sim:1',
    command: ['out:hello'],
    env: {},
    resources: { cpu: 0.5, memoryBytes: 64 * 2 ** 20, storageBytes: 2 ** 20, gpus: 0 },
    network: 'none',
    labels: {},
    attempt: 1,
    ...extra
  }
}

/** An event as a worker would record it, with a time derived from its seq. */
export function storedEvent (taskId: string, seq: number, state: TaskState, detail: Partial<TaskEvent> = {}): TaskEvent {
  return { taskId, seq, timeMs: 1_700_000_000_000 + seq, state, ...detail }
}
