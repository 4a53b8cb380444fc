import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
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
