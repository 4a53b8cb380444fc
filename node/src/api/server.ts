import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { isIPv4, type AddressInfo } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import type { CloudaiNode } from '../node.ts'
import { httpStatusOf } from '../error-codes.ts'
import { codeOf, NotMemberError, toError } from '../errors.ts'
import { DEFAULT_API_ADDRESS } from '../defaults.ts'
import { RequestError, STREAMED } from './http-error.ts'
import { cancelTask, explainPlacement, listTasks, pruneTasks, submitCopies, submitTask, taskEvents, taskOutputs, taskStatus } from './tasks-route.ts'
import type { NodeMetrics } from '../metrics/node-metrics.ts'
import { isLoopbackHost } from './host-check.ts'
import { http } from '../http-module.ts'
import { DashboardSessions } from './dashboard-sessions.ts'
import { loadDashboardFiles, type DashboardFile } from './dashboard-files.ts'
import { LiveFeed, meshView } from './live-feed.ts'

/** The API takes small JSON requests; anything larger is refused before it is read whole. */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024
/** A task's command, environment and labels may be larger (they are bounded by the task protocol). */
const MAX_TASK_BODY_BYTES = 1024 * 1024
/** A client that has not sent its whole request in this time is cut off. */
const REQUEST_TIMEOUT_MS = 10_000

/** A route returns the JSON to send, or STREAMED when it wrote the response itself. */
type Route = (node: CloudaiNode, body: unknown, res: ServerResponse, url: URL, dashboard: DashboardContext) => Promise<unknown>

/** What the dashboard's routes need beside the node. */
interface DashboardContext {
  sessions: DashboardSessions
  live: LiveFeed
  /** The API's own URL, the base of login URLs. */
  url: () => string
  metrics?: NodeMetrics
}

const ROUTES: Record<string, Route> = {
  'POST /v1/tasks': async (node, body, res) => { await submitTask(node.tasks, body, res); return STREAMED },
  'GET /v1/tasks': async (node, _body, _res, url) => await listTasks(node.tasks, url.searchParams),
  'POST /v1/tasks/copies': async (node, body) => await submitCopies(node.tasks, body),
  'POST /v1/placement': async (node, body) => await explainPlacement(node.tasks, body),
  'POST /v1/prune': async (node, body) => await pruneTasks(node.tasks, body),
  'GET /v1/id': async node => node.info(),
  'GET /v1/peers': async node => node.peers(),
  'GET /v1/dashboard/mesh': async node => meshView(node),
  'GET /v1/dashboard/live': async (_node, _body, res, _url, dashboard) => { dashboard.live.serve(res); return STREAMED },
  // `cloudai dashboard`: a URL that logs one browser in, once.
  'POST /v1/dashboard/login': async (_node, _body, _res, _url, dashboard) => {
    const { token, expiresAt } = dashboard.sessions.newLoginToken()
    return { url: `${dashboard.url()}/login?token=${token}`, expiresAt: new Date(expiresAt).toISOString() }
  },
  'GET /metrics': async (_node, _body, res, _url, dashboard) => {
    if (dashboard.metrics == null) throw new RequestError('NOT_FOUND', 'this node collects no metrics (only a daemon does)')
    const text = await dashboard.metrics.text()
    res.writeHead(200, { 'content-type': dashboard.metrics.contentType, 'content-length': Buffer.byteLength(text) })
    res.end(text)
    return STREAMED
  },
  'POST /v1/connect': async (node, body) => {
    const { ConnectBody } = await import('./request-schemas.ts')
    const parsed = ConnectBody.safeParse(body)
    if (!parsed.success) throw new RequestError('BAD_REQUEST', 'expected {"addr": "<multiaddr>"}')
    try {
      multiaddr(parsed.data.addr)
    } catch {
      throw new RequestError('BAD_ADDRESS', `"${parsed.data.addr}" is not a multiaddr: use the form /ip4/192.168.1.20/tcp/7421`)
    }
    try {
      return await node.connect(parsed.data.addr)
    } catch (err) {
      if (err instanceof NotMemberError) throw err
      throw new RequestError('CONNECT_FAILED', toError(err).message)
    }
  }
}

/** `/v1/tasks/<id>[/events|/cancel]`: the routes about one task, named by its id or a prefix. */
const TASK_PATH = /^\/v1\/tasks\/([^/]{1,128})(\/events|\/cancel|\/outputs)?$/

function findRoute (method: string | undefined, url: URL): Route | undefined {
  const exact = ROUTES[`${method} ${url.pathname}`]
  if (exact != null) return exact
  const match = TASK_PATH.exec(url.pathname)
  if (match == null) return undefined
  let taskId: string
  try {
    taskId = decodeURIComponent(match[1])
  } catch {
    throw new RequestError('BAD_REQUEST', 'the task id in the path is not valid percent-encoding')
  }
  const action = `${method} ${match[2] ?? ''}`
  if (action === 'GET ') return async node => await taskStatus(node.tasks, taskId)
  if (action === 'GET /events') return async (node, _body, res) => { await taskEvents(node.tasks, taskId, url.searchParams, res); return STREAMED }
  if (action === 'POST /cancel') return async node => await cancelTask(node.tasks, taskId)
  if (action === 'GET /outputs') return async (node, _body, res) => { await taskOutputs(node.tasks, taskId, res); return STREAMED }
  return undefined
}

function parsePath (path: string | undefined): URL {
  try {
    return new URL(`http://api${path ?? '/'}`)
  } catch {
    throw new RequestError('BAD_REQUEST', 'the request path is not a valid URL path')
  }
}

/** Parse `host:port` (or a bare port) and insist on a loopback host. */
export function parseApiAddress (text: string): { host: string, port: number } {
  const match = /^(?:(\[?[^\]]*\]?|[^:]+):)?(\d{1,5})$/.exec(text.trim())
  const host = (match?.[1] ?? '127.0.0.1').replace(/^\[|\]$/g, '')
  const port = Number(match?.[2])
  if (match == null || port > 65535) throw new Error(`"${text}" is not an API address: use host:port, like 127.0.0.1:7420`)
  if (!['localhost', '::1'].includes(host) && !(isIPv4(host) && host.startsWith('127.'))) {
    throw new Error(`the API must listen on loopback (it runs containers for whoever holds the token), not ${host}`)
  }
  return { host, port }
}

/** How a request proved it may use the API: the bearer token (the CLI), or a dashboard session's cookie (a browser). */
type Credential = 'token' | 'session' | undefined

function tokenMatches (header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`)
  const given = Buffer.from(header ?? '')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

async function readJsonBody (req: IncomingMessage): Promise<unknown> {
  const limit = ['/v1/tasks', '/v1/tasks/copies', '/v1/placement'].includes(parsePath(req.url).pathname) ? MAX_TASK_BODY_BYTES : MAX_REQUEST_BODY_BYTES
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) throw new RequestError('TOO_LARGE', `request bodies are limited to ${limit} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += chunk.length
    if (size > limit) throw new RequestError('TOO_LARGE', `request bodies are limited to ${limit} bytes`)
    chunks.push(chunk)
  }
  if (size === 0) return undefined
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new RequestError('BAD_JSON', 'the request body is not valid JSON')
  }
}

function send (res: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}) })
  res.end(text)
}

/** Headers on every dashboard answer: nothing but this origin's own files runs, nothing embeds it, nothing learns where it was. */
const DASHBOARD_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store'
}

const UNAUTHORIZED_MESSAGE = 'missing or wrong bearer token: the token is in the data dir\'s "api" file (a browser: run "cloudai dashboard" for a login URL)'

function sendDashboard (res: ServerResponse, status: number, file: DashboardFile): void {
  res.writeHead(status, { ...DASHBOARD_HEADERS, 'content-type': file.contentType, 'content-length': file.body.length })
  res.end(file.body)
}

function htmlPage (text: string): DashboardFile {
  return { contentType: 'text/html; charset=utf-8', body: Buffer.from(`<!doctype html><meta charset="utf-8"><title>cloudai</title><p>${text}</p>\n`) }
}

/** A browser navigating (it asks for HTML) is answered with a page; scripts and the CLI, with the API's JSON errors. */
function wantsHtml (req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/html')
}

/** A page of the dashboard asked for without a session: a browser is told how to get one. */
const LOGIN_NEEDED = htmlPage('Not logged in. Run <code>cloudai dashboard</code> on this node and open the URL it prints (it works once).')

/** `/`, `/index.html`, `/assets/<file>`: the dashboard's files (the page routes itself by the URL's fragment). */
function dashboardFileName (method: string | undefined, pathname: string): string | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined
  if (pathname === '/' || pathname === '/index.html') return 'index.html'
  const match = /^\/assets\/([^/]{1,80})$/.exec(pathname)
  return match != null && match[1] !== 'index.html' ? match[1] : undefined
}

/**
 * `GET /login?token=…`: exchange a single-use login token for a session cookie, then send the
 * browser on to the dashboard, so the token is in neither the page nor the address it shows.
 */
function login (req: IncomingMessage, res: ServerResponse, url: URL, sessions: DashboardSessions): void {
  const session = sessions.exchange(url.searchParams.get('token') ?? '')
  if (session == null) {
    const message = 'This login URL is not valid: it was used already, it expired, or the daemon restarted. Run "cloudai dashboard" for a new one.'
    if (!wantsHtml(req)) throw new RequestError('UNAUTHORIZED', message)
    sendDashboard(res, 401, htmlPage(message))
    return
  }
  res.writeHead(303, { ...DASHBOARD_HEADERS, location: '/', 'set-cookie': sessions.cookie(session), 'content-length': 0 })
  res.end()
}

export interface ApiServer {
  url: string
  token: string
  close(): Promise<void>
}

export interface ApiServerOptions {
  /** What `GET /metrics` serves (a daemon's); without it, 404. */
  metrics?: NodeMetrics
}

/** Serve the local API (and the dashboard) for `node` on a loopback address, with a fresh bearer token. */
export async function startApiServer (node: CloudaiNode, address: string = DEFAULT_API_ADDRESS, options: ApiServerOptions = {}): Promise<ApiServer> {
  const { host, port } = parseApiAddress(address)
  const token = randomBytes(32).toString('hex')
  const files = await loadDashboardFiles()
  let sessions = new DashboardSessions(port)
  let apiUrl = ''
  const live = new LiveFeed(node, options.metrics != null ? delta => { options.metrics?.dashboardClient(delta) } : undefined)
  const dashboard: DashboardContext = { get sessions () { return sessions }, live, url: () => apiUrl, metrics: options.metrics }
  const server: Server = http.createServer((req, res) => {
    void (async () => {
      try {
        // Before anything else: a page elsewhere that reached us by rebinding a name of its own to 127.0.0.1.
        if (!isLoopbackHost(req.headers.host)) {
          throw new RequestError('BAD_HOST', `the API answers only to a loopback Host (localhost, 127.0.0.1, [::1]), not ${JSON.stringify(req.headers.host ?? '')}`)
        }
        // Appended, not resolved: a path starting with // would otherwise read as a host.
        const url = parsePath(req.url)
        if (req.method === 'GET' && url.pathname === '/login') {
          login(req, res, url, sessions)
          return
        }
        const credential: Credential = tokenMatches(req.headers.authorization, token) ? 'token' : sessions.hasSession(req.headers.cookie) ? 'session' : undefined
        const fileName = dashboardFileName(req.method, url.pathname)
        if (credential == null) {
          if (fileName != null && wantsHtml(req)) {
            sendDashboard(res, 401, LOGIN_NEEDED)
            return
          }
          throw new RequestError('UNAUTHORIZED', UNAUTHORIZED_MESSAGE)
        }
        // A cookie goes with every request the browser makes here, whoever's page asks: a
        // browser's requests that change something must come from the dashboard's own origin.
        if (credential === 'session' && req.method !== 'GET' && req.method !== 'HEAD' && req.headers.origin !== `http://${req.headers.host}`) {
          throw new RequestError('CROSS_ORIGIN', 'this request came from another page\'s origin: use the dashboard itself')
        }
        if (fileName != null) {
          const file = files.get(fileName)
          if (file == null) throw new RequestError('NOT_FOUND', `the dashboard has no file ${fileName} (was "npm run build" run?)`)
          sendDashboard(res, 200, file)
          return
        }
        const route = findRoute(req.method, url)
        if (route == null) throw new RequestError('NOT_FOUND', `no such endpoint: ${req.method} ${req.url}`)
        const result = await route(node, await readJsonBody(req), res, url, dashboard)
        if (result !== STREAMED) send(res, 200, result)
      } catch (err) {
        const code = codeOf(err)
        // A body too large is not read to its end: the answer says the connection closes, and
        // it closes once the answer is out (so that the client reads the 413, not a reset).
        const tooLarge = code === 'TOO_LARGE'
        if (!res.headersSent) send(res, httpStatusOf(code), { error: { code, message: toError(err).message } }, tooLarge)
        else res.destroy()
        if (tooLarge) res.once('finish', () => { req.destroy() })
      }
    })()
  })
  server.requestTimeout = REQUEST_TIMEOUT_MS
  server.headersTimeout = REQUEST_TIMEOUT_MS
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  }).catch((err: any) => {
    if (err?.code === 'EADDRINUSE') {
      throw new Error(`the API address ${host}:${port} is in use (another cloudai daemon?): pass --api 127.0.0.1:<free port>, or --api 127.0.0.1:0 for any`)
    }
    throw err
  })
  const bound = server.address() as AddressInfo
  const urlHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
  apiUrl = `http://${urlHost}:${bound.port}`
  // Port 0 asked for any: the cookie is named after the one the system gave.
  if (port !== bound.port) sessions = new DashboardSessions(bound.port)
  return {
    url: apiUrl,
    token,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}
