import type { IncomingMessage } from 'node:http'
import { readApiFile } from '../node/src/api/api-file.ts'
import type { ErrorCode } from '../node/src/error-codes.ts'
import { CloudaiError } from '../node/src/errors.ts'
import { http, https } from '../node/src/http-module.ts'

/** No daemon answers for this data dir (or at --api). */
export class NoDaemonError extends CloudaiError {
  override readonly code = 'NO_DAEMON'
}
/** The daemon answered with an error: its code, as the daemon's own error had it. */
export class ApiError extends CloudaiError {
  override readonly code: ErrorCode
  readonly status: number
  constructor (status: number, code: string, message: string) {
    super(message)
    this.status = status
    // A newer daemon may send a code this CLI does not know: the table then gives it no special meaning.
    this.code = code as ErrorCode
  }
}

/** A CLI call that waits longer than this for the local daemon gives up. */
const API_TIMEOUT_MS = 30_000

export interface ClientOptions {
  dataDir: string
  /** `--api`, else `$CLOUDAI_API`, else the data dir's api file. */
  api?: string
}

/** A response from the daemon: its status and headers at once, its body read as it comes. */
export interface ApiResponse {
  status: number
  ok: boolean
  header: (name: string) => string | undefined
  body: AsyncIterable<Uint8Array>
}

export class ApiClient {
  readonly url: string
  private readonly token: string

  constructor (url: string, token: string) {
    this.url = url
    this.token = token
  }

  /**
   * One request on a connection of its own (the CLI sends one or two, then exits: nothing to
   * keep alive). node:http rather than fetch: fetch loads undici, which took longer than
   * the rest of a `task` command's start-up together.
   */
  private async send (method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal): Promise<ApiResponse> {
    try {
      const url = new URL(this.url + path)
      const payload = body !== undefined ? Buffer.from(JSON.stringify(body)) : undefined
      const headers: Record<string, string | number> = { authorization: `Bearer ${this.token}` }
      if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': payload.length })
      const transport = url.protocol === 'https:' ? https() : http
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = transport.request(url, { method, headers, agent: false, signal }, resolve)
        req.once('error', reject)
        req.end(payload)
      })
      const status = res.statusCode ?? 0
      return {
        status,
        ok: status >= 200 && status < 300,
        header: name => {
          const value = res.headers[name.toLowerCase()]
          return Array.isArray(value) ? value.join(', ') : value
        },
        body: res
      }
    } catch (err: any) {
      throw new NoDaemonError(`no cloudai daemon answers at ${this.url} (${err?.code ?? err?.message}): start one with "cloudai start"`)
    }
  }

  /** A request whose response is read as a stream (NDJSON); errors before the stream starts are thrown. */
  async stream (method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal): Promise<ApiResponse> {
    const res = await this.send(method, path, body, signal)
    if (!res.ok) await this.fail(res)
    return res
  }

  async request<T> (method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const signal = AbortSignal.timeout(API_TIMEOUT_MS)
    const res = await this.send(method, path, body, signal)
    if (!res.ok) await this.fail(res)
    return await this.json(res) as T
  }

  private async json (res: ApiResponse): Promise<any> {
    const text = await bodyText(res)
    try {
      return JSON.parse(text)
    } catch {
      throw new ApiError(res.status, 'BAD_RESPONSE', `the daemon answered with something that is not JSON (HTTP ${res.status})`)
    }
  }

  private async fail (res: ApiResponse): Promise<never> {
    const parsed = await this.json(res).catch(() => undefined)
    throw new ApiError(res.status, parsed?.error?.code ?? 'ERROR', parsed?.error?.message ?? `HTTP ${res.status}`)
  }
}

/** A whole response body as text (the daemon's JSON answers are small and bounded by its pages). */
async function bodyText (res: ApiResponse): Promise<string> {
  const chunks: Uint8Array[] = []
  try {
    for await (const chunk of res.body) chunks.push(chunk)
  } catch (err: any) {
    throw new NoDaemonError(`the daemon's answer broke off (${err?.code ?? err?.message})`)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function normaliseUrl (api: string): string {
  return /^https?:\/\//.test(api) ? api.replace(/\/$/, '') : `http://${api}`
}

/** Find the local daemon's API. Returns undefined when none is configured for this data dir. */
export async function findApi (options: ClientOptions): Promise<ApiClient | undefined> {
  const file = await readApiFile(options.dataDir).catch(() => undefined)
  const explicit = options.api ?? process.env.CLOUDAI_API
  if (explicit != null && explicit !== '') {
    const token = process.env.CLOUDAI_API_TOKEN ?? file?.token
    if (token == null) throw new NoDaemonError(`no token for the API at ${explicit}: set CLOUDAI_API_TOKEN, or point --data-dir at the daemon's data dir`)
    return new ApiClient(normaliseUrl(explicit), token)
  }
  return file != null ? new ApiClient(file.url, file.token) : undefined
}

/** Like findApi, but a missing daemon is an error that says what to do. */
export async function requireApi (options: ClientOptions): Promise<ApiClient> {
  const client = await findApi(options)
  if (client == null) {
    throw new NoDaemonError(`no cloudai daemon is running for ${options.dataDir}: start one with "cloudai start" (or pass --api / --data-dir)`)
  }
  return client
}
