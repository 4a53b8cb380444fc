/**
 * The daemon (its node, executor and image engine) loads without ssh2 (its WebAssembly Poly1305 reserves 16 MiB as it
 * loads), and docker-modem still gets the real ssh2 Client the moment an ssh:// host needs one.
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

const cache = createRequire(import.meta.url).cache

function ssh2Loaded (): boolean {
  return Object.keys(cache).some(path => path.includes('/node_modules/ssh2/lib/'))
}

test('the daemon loads dockerode without ssh2; the stand-in Client is a real ssh2 Client', async () => {
  assert.equal(ssh2Loaded(), false, 'ssh2 was loaded before the test began')
  // The daemon's whole module graph: a module that imports dockerode before the hook is registered loads ssh2.
  await import('../../node/src/daemon.ts')
  const { createDockerExecutor } = await import('../../node/src/executor/docker.ts')
  createDockerExecutor()
  assert.equal(ssh2Loaded(), false, 'loading the daemon and the Docker executor loaded ssh2')
  // What docker-modem's ssh agent does as it loads: require('ssh2').Client, from its own folder.
  const fromModem = createRequire(createRequire(import.meta.url).resolve('docker-modem/lib/ssh.js'))
  const { Client } = fromModem('ssh2') as { Client: new () => object }
  assert.equal(ssh2Loaded(), false, 'docker-modem\'s require of ssh2 loaded it')
  const client = new Client() as { connect?: unknown, end?: () => void }
  assert.equal(ssh2Loaded(), true, 'making a Client loaded the real ssh2')
  assert.equal(typeof client.connect, 'function', 'the stand-in made a real ssh2 Client')
  assert.equal(client.constructor, createRequire(import.meta.url)('ssh2').Client)
})
