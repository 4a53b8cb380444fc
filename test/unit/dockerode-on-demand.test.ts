/**
 * The daemon (its node, executor and image engine) loads dockerode without ssh2 (its
 * WebAssembly Poly1305 reserves 16 MiB as it loads) and without the BuildKit session's gRPC and
 * protobufjs; docker-modem still gets the real ssh2 Client the moment an ssh:// host needs one,
 * and dockerode the real session the moment a build asks for one.
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

const require = createRequire(import.meta.url)
const cache = require.cache

function loaded (packagePath: string): boolean {
  return Object.keys(cache).some(path => path.includes(`/node_modules/${packagePath}`))
}

test('the daemon loads dockerode without ssh2 or gRPC; each stand-in hands on to the real module when used', async () => {
  assert.equal(loaded('ssh2/lib/'), false, 'ssh2 was loaded before the test began')
  // The daemon's whole module graph: a module that imports dockerode before the hook is registered loads both.
  await import('../../node/src/daemon.ts')
  const { createDockerExecutor } = await import('../../node/src/executor/docker.ts')
  createDockerExecutor()
  assert.ok(loaded('dockerode/lib/docker.js'), 'the daemon did not load dockerode at all')
  assert.equal(loaded('ssh2/lib/'), false, 'loading the daemon and the Docker executor loaded ssh2')
  assert.equal(loaded('@grpc/grpc-js/'), false, 'loading the daemon loaded gRPC (dockerode\'s BuildKit session)')
  assert.equal(loaded('protobufjs/'), false, 'loading the daemon loaded protobufjs')

  // What docker-modem's ssh agent does as it loads: require('ssh2').Client, from its own folder.
  const fromModem = createRequire(require.resolve('docker-modem/lib/ssh.js'))
  const { Client } = fromModem('ssh2') as { Client: new () => object }
  assert.equal(loaded('ssh2/lib/'), false, 'docker-modem\'s require of ssh2 loaded it')
  const client = new Client() as { connect?: unknown }
  assert.equal(loaded('ssh2/lib/'), true, 'making a Client loaded the real ssh2')
  assert.equal(typeof client.connect, 'function', 'the stand-in made a real ssh2 Client')
  assert.equal(client.constructor, require('ssh2').Client)

  // What dockerode's buildImage does with BuildKit: require('./session') and call it.
  const withSession = createRequire(require.resolve('dockerode/lib/docker.js'))('./session') as (docker: unknown, auth: unknown, handler: (err: Error | null) => void) => void
  assert.equal(typeof withSession, 'function', 'dockerode gets a function for its session module')
  assert.equal(loaded('@grpc/grpc-js/'), false, 'dockerode\'s require of its session loaded gRPC')
  const refused = new Error('no engine here')
  const answer = await new Promise<Error | null>(resolve => {
    withSession({ modem: { dial: (_opts: unknown, callback: (err: Error) => void) => { callback(refused) } } }, undefined, resolve)
  })
  assert.equal(answer, refused, 'the real session dialed the engine and handed back its error')
  assert.equal(loaded('@grpc/grpc-js/'), true, 'calling the session loaded the real one')
})
