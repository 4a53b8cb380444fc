import assert from 'node:assert/strict'
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { runProcess } from '../helpers/docker.ts'
import { tempDir } from '../helpers/env.ts'

/**
 * The daemon's process-level guard: an error no code handled (a promise
 * nobody awaited that rejects, an exception thrown from a timer) is logged, and the daemon
 * runs on and answers its API. A daemon in a child process, as `cloudai start` runs one;
 * the errors are made there on purpose, since the node itself has none left to make.
 */

const DAEMON_MODULE = pathToFileURL(resolve(import.meta.dirname, '../../node/src/daemon.js')).href
const LOGGER_MODULE = pathToFileURL(resolve(import.meta.dirname, '../../node/src/logger.js')).href
const BOUND_MS = 30_000

let dir: { path: string, remove: () => Promise<void> }

before(async () => { dir = await tempDir() })
after(async () => { await dir?.remove() })

/** A daemon on loopback; then a rejection nobody handles and a throwing timer; then one API request; then a clean stop. */
function script (dataDir: string): string {
  return `
    import { startDaemon } from ${JSON.stringify(DAEMON_MODULE)}
    import { createLogger } from ${JSON.stringify(LOGGER_MODULE)}
    const daemon = await startDaemon({ dataDir: ${JSON.stringify(dataDir)}, open: true, mdnsTag: false, listen: ['/ip4/127.0.0.1/tcp/0'], apiAddress: '127.0.0.1:0', log: createLogger() })
    Promise.reject(new Error('a rejection nobody handles'))
    setTimeout(() => { throw new Error('an exception thrown from a timer') }, 0)
    setTimeout(async () => {
      const answer = await fetch(daemon.api.url + '/v1/id', { headers: { authorization: 'Bearer ' + daemon.api.token } })
      console.log('the API answered ' + answer.status)
      await daemon.stop()
    }, 0)
  `
}

test('an unhandled rejection or exception in the daemon is logged, and the daemon runs on and answers', async () => {
  const child = await runProcess(process.execPath, ['--input-type=module', '-e', script(dir.path)], { timeoutMs: BOUND_MS })
  const stderr = child.stderr.toString()
  assert.equal(child.code, 0, `the daemon's process ended with ${child.code ?? child.signal}:\n${stderr}`)
  assert.match(child.stdout.toString(), /the API answered 200/)
  const logged = stderr.split('\n').filter(line => line.startsWith('{')).map(line => JSON.parse(line)).filter(entry => entry.unhandled != null)
  assert.deepEqual(logged.map(entry => [entry.unhandled, entry.err?.message]), [
    ['unhandledRejection', 'a rejection nobody handles'],
    ['uncaughtException', 'an exception thrown from a timer']
  ])
})
