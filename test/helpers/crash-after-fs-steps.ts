import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'

/**
 * Preloaded into a CLI process (`--import`) by tests that crash a command part-way: counts
 * the calls that change a directory's entries (rename, link, unlink, rm, copyFile through
 * node:fs/promises) and kills the process with SIGKILL right after the one numbered
 * $CLOUDAI_TEST_CRASH_AFTER, as a power cut or the OOM killer would: nothing after it runs.
 */
const crashAfter = Number(process.env.CLOUDAI_TEST_CRASH_AFTER)
if (!Number.isSafeInteger(crashAfter) || crashAfter < 1) throw new Error('CLOUDAI_TEST_CRASH_AFTER must be a step number from 1')

const promises = fs.promises as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
let steps = 0
for (const name of ['rename', 'link', 'unlink', 'rm', 'copyFile']) {
  const real = promises[name]
  promises[name] = async (...args: unknown[]) => {
    const result = await real(...args)
    if (++steps === crashAfter) process.kill(process.pid, 'SIGKILL')
    return result
  }
}
// The modules that import these by name (`import { rename } from 'node:fs/promises'`) see the counted ones.
syncBuiltinESMExports()
