import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { request } from 'node:http'
import { after, before, test } from 'node:test'
import { MAX_REQUEST_BODY_BYTES, parseApiAddress, startApiServer, type ApiServer } from '../../node/src/api/server.ts'
import { startOpenNode, type TestNode } from '../helpers/libp2p-pair.ts'

/** Every HTTP call in this file gives up after this long, so nothing can hang the suite. */
const CALL_TIMEOUT_MS = 15_000

let node: TestNode
let peer: TestNode
let api: ApiServer

before(async () => {
  node = await startOpenNode('api-node')
  peer = await startOpenNode('api-peer')
  api = await startApiServer(node.node, '127.0.0.1:0')
})

after(async () => {
  await api?.close()
  await peer?.close()
  await node?.close()
})

interface Reply { status: number, body: any }

async function call (method: string, path: string, options: { token?: string | null, body?: string, headers?: Record<string, string> } = {}): Promise<Reply> {
  const token = options.token === undefined ? api.token : options.token
  const res = await fetch(api.url + path, {
    method,
    headers: {
      ...(token != null ? { authorization: `Bearer ${token}` } : {}),
      ...(options.body != null ? { 'content-type': 'application/json' } : {}),
      ...options.headers
    },
    body: options.body,
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS)
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
}

function assertError (reply: Reply, status: number): void {
  assert.equal(reply.status, status, `expected HTTP ${status}, got ${reply.status}: ${JSON.stringify(reply.body)}`)
  assert.equal(typeof reply.body?.error?.code, 'string', 'the error has no code')
  assert.ok(reply.body.error.code.length > 0)
  assert.equal(typeof reply.body.error.message, 'string', 'the error has no message')
}

/** A loopback port where nothing listens (bound, then released). */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return port
}

test('the API listens on loopback and says where', () => {
  assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.match(api.token, /^[0-9a-f]{64}$/)
})

test('requests without the token or with a wrong one get 401', async () => {
  assertError(await call('GET', '/v1/id', { token: null }), 401)
  assertError(await call('GET', '/v1/id', { token: 'wrong' }), 401)
  assertError(await call('GET', '/v1/id', { token: api.token.slice(0, -1) + (api.token.endsWith('0') ? '1' : '0') }), 401)
  assertError(await call('GET', '/v1/peers', { token: null }), 401)
  assertError(await call('POST', '/v1/connect', { token: null, body: JSON.stringify({ addr: peer.addr.toString() }) }), 401)
  // Not a bearer token at all: the raw token, or another scheme.
  assertError(await call('GET', '/v1/id', { token: null, headers: { authorization: api.token } }), 401)
  assertError(await call('GET', '/v1/id', { token: null, headers: { authorization: `Basic ${api.token}` } }), 401)
})

test('an unknown path is 401 without the token (nothing is revealed) and 404 with it', async () => {
  assertError(await call('GET', '/v1/nope', { token: null }), 401)
  assertError(await call('GET', '/v1/nope'), 404)
  assertError(await call('DELETE', '/v1/id'), 404)
})

test('GET /v1/id describes this node', async () => {
  const reply = await call('GET', '/v1/id')
  assert.equal(reply.status, 200)
  assert.equal(reply.body.peerId, node.node.peerId.toString())
  assert.equal(reply.body.name, 'api-node')
  assert.ok(Array.isArray(reply.body.addrs) && reply.body.addrs.length > 0)
  assert.ok(reply.body.addrs.every((addr: unknown) => typeof addr === 'string' && addr.startsWith('/ip4/127.0.0.1/tcp/')), JSON.stringify(reply.body.addrs))
  assert.equal(typeof reply.body.capacity?.cpu, 'number')
  assert.equal(typeof reply.body.capacity?.memoryBytes, 'number')
  assert.equal(reply.body.open, true)
})

test('a query string does not change the route', async () => {
  const reply = await call('GET', '/v1/id?verbose=1')
  assert.equal(reply.status, 200)
  assert.equal(reply.body.peerId, node.node.peerId.toString())
})

test('POST /v1/connect adds a peer, and GET /v1/peers lists it', async () => {
  const empty = await call('GET', '/v1/peers')
  assert.equal(empty.status, 200)
  assert.ok(Array.isArray(empty.body))

  const connected = await call('POST', '/v1/connect', { body: JSON.stringify({ addr: peer.addr.toString() }) })
  assert.equal(connected.status, 200, JSON.stringify(connected.body))
  assert.equal(connected.body.peerId, peer.node.peerId.toString())
  assert.equal(connected.body.name, 'api-peer')

  const listed = await call('GET', '/v1/peers')
  assert.equal(listed.status, 200)
  const row = listed.body.find((p: any) => p.peerId === peer.node.peerId.toString())
  assert.ok(row != null, `the peer is not listed: ${JSON.stringify(listed.body)}`)
  assert.equal(row.name, 'api-peer')
  assert.ok(Array.isArray(row.addrs))
  for (const field of ['capacity', 'allocated']) {
    for (const key of ['cpu', 'memoryBytes', 'storageBytes', 'gpus']) assert.equal(typeof row[field]?.[key], 'number', `${field}.${key}`)
  }
  assert.equal(typeof row.running, 'number')
  assert.equal(typeof row.queued, 'number')
})

test('invalid JSON gets 400', async () => {
  assertError(await call('POST', '/v1/connect', { body: '{"addr": ' }), 400)
  assertError(await call('POST', '/v1/connect', { body: 'not json' }), 400)
})

test('a body of the wrong shape on POST /v1/connect gets 400', async () => {
  for (const body of ['{}', '{"addr": 5}', '{"addr": ""}', '[]', '"x"', 'null', `{"addr": "${peer.addr.toString()}", "extra": 1}`, JSON.stringify({ addr: 'x'.repeat(1025) })]) {
    assertError(await call('POST', '/v1/connect', { body }), 400)
  }
  // No body at all.
  assertError(await call('POST', '/v1/connect'), 400)
})

test('an address that is not a multiaddr gets 400, not a server-side failure', async () => {
  assertError(await call('POST', '/v1/connect', { body: JSON.stringify({ addr: 'not-a-multiaddr' }) }), 400)
})

test('a body over 64 KiB gets 413', async () => {
  const big = JSON.stringify({ addr: 'x'.repeat(MAX_REQUEST_BODY_BYTES) })
  assertError(await call('POST', '/v1/connect', { body: big }), 413)
  // The server still answers afterwards.
  assert.equal((await call('GET', '/v1/id')).status, 200)
})

test('a chunked body over 64 KiB (no content-length) gets 413', async () => {
  const url = new URL(api.url)
  const reply = await new Promise<Reply>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path: '/v1/connect', headers: { authorization: `Bearer ${api.token}`, 'transfer-encoding': 'chunked' }, timeout: CALL_TIMEOUT_MS }, res => {
      const chunks: Buffer[] = []
      res.on('data', chunk => chunks.push(chunk))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }) })
      res.on('error', reject)
    })
    req.on('timeout', () => { req.destroy(new Error('timed out')) })
    req.on('error', reject)
    const chunk = Buffer.alloc(16 * 1024, 'x')
    for (let i = 0; i < 6; i++) req.write(chunk)
    req.end()
  })
  assertError(reply, 413)
  assert.equal((await call('GET', '/v1/id')).status, 200)
})

test('connecting to an address where nothing listens gives 502 with an error code', async () => {
  const port = await closedPort()
  const reply = await call('POST', '/v1/connect', { body: JSON.stringify({ addr: `/ip4/127.0.0.1/tcp/${port}` }) })
  assertError(reply, 502)
  assert.equal(reply.body.error.code, 'CONNECT_FAILED')
})

test('parseApiAddress accepts loopback and refuses everything else', () => {
  assert.deepEqual(parseApiAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 })
  assert.deepEqual(parseApiAddress('127.0.0.1:7420'), { host: '127.0.0.1', port: 7420 })
  assert.deepEqual(parseApiAddress('localhost:7420'), { host: 'localhost', port: 7420 })
  assert.deepEqual(parseApiAddress('[::1]:7420'), { host: '::1', port: 7420 })
  assert.deepEqual(parseApiAddress('7420'), { host: '127.0.0.1', port: 7420 })
  for (const bad of ['0.0.0.0:7420', '10.1.2.3:7420', '192.168.1.5:0', '[::]:7420', '::7420', 'example.com:7420', '127.0.0.1.evil.com:7420', '127.0.0.1:70000', '127.0.0.1:', 'nonsense', '']) {
    assert.throws(() => parseApiAddress(bad), Error, `accepted ${JSON.stringify(bad)}`)
  }
})

test('startApiServer refuses a non-loopback address before listening', async () => {
  await assert.rejects(startApiServer(node.node, '0.0.0.0:0'))
  await assert.rejects(startApiServer(node.node, '10.1.2.3:0'))
})

test('a second API server on a port in use fails instead of sharing it', async () => {
  const port = Number(new URL(api.url).port)
  await assert.rejects(startApiServer(node.node, `127.0.0.1:${port}`), Error)
  assert.equal((await call('GET', '/v1/id')).status, 200)
})
