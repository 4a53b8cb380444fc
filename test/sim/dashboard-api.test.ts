import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startApiServer, type ApiServer } from '../../node/src/api/server.ts'
import { MAX_LIVE_CLIENTS } from '../../node/src/api/live-feed.ts'
import { parseMetricsAddress, startMetricsServer, type MetricsServer } from '../../node/src/api/metrics-server.ts'
import { NodeMetrics } from '../../node/src/metrics/node-metrics.ts'
import { startOpenNode, type TestNode } from '../helpers/libp2p-pair.ts'

/** Every HTTP call in this file gives up after this long, so nothing can hang the suite. */
const CALL_TIMEOUT_MS = 15_000

let node: TestNode
let api: ApiServer
let metrics: NodeMetrics
let metricsServer: MetricsServer

before(async () => {
  node = await startOpenNode('dashboard-node')
  metrics = new NodeMetrics()
  metrics.attach({ status: () => node.node.status(), peers: () => node.node.peers(), tasks: node.node.tasks })
  api = await startApiServer(node.node, '127.0.0.1:0', { metrics })
  metricsServer = await startMetricsServer(metrics, '127.0.0.1:0')
})

after(async () => {
  await metricsServer?.close()
  await api?.close()
  metrics?.stop()
  await node?.close()
})

const auth = (): Record<string, string> => ({ authorization: `Bearer ${api.token}` })

/** Read a server-sent event stream until `count` events have come; returns their names and data. */
async function readEvents (res: Response, count: number): Promise<Array<{ event: string, data: string }>> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  const events: Array<{ event: string, data: string }> = []
  let buffered = ''
  while (events.length < count) {
    const { done, value } = await reader.read()
    if (done) break
    buffered += value
    let end: number
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end)
      buffered = buffered.slice(end + 2)
      const event = /^event: (.*)$/m.exec(block)?.[1]
      const data = /^data: (.*)$/m.exec(block)?.[1]
      if (event != null && data != null) events.push({ event, data })
    }
  }
  await reader.cancel()
  return events
}

describe('the dashboard\'s live feed', () => {
  test('sends the mesh at once and names each task that changes', async () => {
    const res = await fetch(`${api.url}/v1/dashboard/live`, { headers: auth(), signal: AbortSignal.timeout(CALL_TIMEOUT_MS) })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/event-stream')
    assert.equal(res.headers.get('access-control-allow-origin'), null)
    const reading = readEvents(res, 2)
    const submitted = await node.node.tasks.submit('self', { image: '127.0.0.1:5000/cloudai/sim:1', command: ['out:hi'], env: {}, resources: { cpu: 0.1, memoryBytes: 2 ** 24, storageBytes: 2 ** 20, gpus: 0 }, network: 'none', labels: {} })
    const [mesh, tasks] = await reading
    assert.equal(mesh.event, 'mesh')
    const view = JSON.parse(mesh.data)
    assert.equal(view.self.peerId, node.node.peerId.toString())
    assert.ok(Array.isArray(view.peers))
    assert.equal(tasks.event, 'tasks')
    assert.deepEqual(JSON.parse(tasks.data).ids, [submitted.taskId])
  })

  test(`at most ${MAX_LIVE_CLIENTS} pages follow at once; the next is refused with 503 until one leaves`, async () => {
    const open: AbortController[] = []
    try {
      for (let i = 0; i < MAX_LIVE_CLIENTS; i++) {
        const stop = new AbortController()
        open.push(stop)
        const res = await fetch(`${api.url}/v1/dashboard/live`, { headers: auth(), signal: stop.signal })
        assert.equal(res.status, 200)
      }
      const refused = await fetch(`${api.url}/v1/dashboard/live`, { headers: auth(), signal: AbortSignal.timeout(CALL_TIMEOUT_MS) })
      assert.equal(refused.status, 503)
      assert.equal((await refused.json() as any).error.code, 'TOO_MANY_CLIENTS')
      open.pop()!.abort()
      let status = 0
      for (let tries = 0; tries < 100 && status !== 200; tries++) {
        const res = await fetch(`${api.url}/v1/dashboard/live`, { headers: auth(), signal: AbortSignal.timeout(CALL_TIMEOUT_MS) })
        status = res.status
        await res.body?.cancel()
        if (status !== 200) await new Promise(resolve => setTimeout(resolve, 20))
      }
      assert.equal(status, 200, 'a page that left made room')
    } finally {
      for (const stop of open) stop.abort()
    }
  })
})

describe('the dashboard\'s files', () => {
  test('the page and its modules, under a policy that runs nothing but this origin\'s files', async () => {
    const page = await fetch(`${api.url}/`, { headers: auth() })
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type')!, /^text\/html/)
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self';/)
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff')
    assert.match(await page.text(), /<script type="module" src="\/assets\/app\.js">/)
    for (const [path, type] of [['/assets/app.js', /^text\/javascript/], ['/assets/style.css', /^text\/css/], ['/assets/task-page.js', /^text\/javascript/]] as const) {
      const res = await fetch(api.url + path, { headers: auth() })
      assert.equal(res.status, 200, path)
      assert.match(res.headers.get('content-type')!, type)
      await res.body?.cancel()
    }
  })

  test('any other path under /assets is 404: traversal, encodings, source maps, the page itself, odd names', async () => {
    const hostile = ['/assets/', '/assets/../cloudai.db', '/assets/%2e%2e%2fapi', '/assets/..%2fapi', '/assets/app.js.map', '/assets/index.html',
      '/assets/APP.JS', '/assets/app.js%00.css', '/assets/app.js/', '/assets//app.js', '/assets/x/app.js', `/assets/${'a'.repeat(300)}.js`,
      '/assets/api.ts', '/assets/.hidden.js', '/%2e%2e/api']
    for (const path of hostile) {
      const res = await fetch(api.url + path, { headers: auth() })
      assert.ok(res.status === 404 || res.status === 400, `${path} → ${res.status}`)
      assert.doesNotMatch(await res.text(), /token|BEGIN|SQLite/, path)
    }
  })
})

describe('--metrics-listen', () => {
  test('serves GET /metrics alone, without a token; everything else is 404', async () => {
    const res = await fetch(metricsServer.url, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) })
    assert.equal(res.status, 200)
    assert.match(await res.text(), /^# HELP cloudai_tasks_finished_total|cloudai_queue_length \d/m)
    for (const [method, path] of [['GET', '/'], ['GET', '/v1/id'], ['POST', '/metrics'], ['GET', '/metrics/../v1/tasks'], ['GET', '/login']]) {
      const other = await fetch(new URL(path, metricsServer.url), { method, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) })
      assert.equal(other.status, 404, `${method} ${path}`)
      await other.body?.cancel()
    }
    // The API's /metrics still wants the token.
    assert.equal((await fetch(`${api.url}/metrics`)).status, 401)
  })

  test('addresses: host:port, [v6]:port or a bare port (every address); anything else is refused', () => {
    assert.deepEqual(parseMetricsAddress('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 })
    assert.deepEqual(parseMetricsAddress('9464'), { host: '0.0.0.0', port: 9464 })
    assert.deepEqual(parseMetricsAddress('[::1]:9464'), { host: '::1', port: 9464 })
    for (const bad of ['', ':', 'host:', 'host:99999', 'a:b:c', '::1:80', 'http://x:1', '1.2.3.4:80/metrics', `x:${'1'.repeat(100)}`]) {
      assert.throws(() => parseMetricsAddress(bad), /not an address for metrics/, bad)
    }
  })
})
