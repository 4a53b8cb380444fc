import { spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { waitFor } from './env.ts'

/** A free loopback port (Prometheus takes a fixed one). */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return port
}

export interface PrometheusServer {
  url: string
  /** The instant query's result (the Prometheus HTTP API's `data.result`). */
  query: (expr: string) => Promise<Array<{ metric: Record<string, string>, value: [number, string] }>>
  /** A range query over the last `seconds`, one point per second. */
  range: (expr: string, seconds: number) => Promise<Array<{ metric: Record<string, string>, values: Array<[number, string]> }>>
  targetsUp: () => Promise<boolean>
  stop: () => Promise<void>
}

/**
 * A real Prometheus server (Debian's `prometheus`) on loopback, scraping `target` (host:port)
 * every second with the bearer token, as an operator would configure it.
 */
export async function startPrometheus (dir: string, target: string, token: string): Promise<PrometheusServer> {
  const port = await freePort()
  const config = join(dir, 'prometheus.yml')
  await writeFile(config, [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: cloudai',
    '    authorization:',
    `      credentials: ${token}`,
    '    static_configs:',
    `      - targets: ['${target}']`,
    ''
  ].join('\n'), { mode: 0o600 })
  const child: ChildProcess = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr!.on('data', chunk => { log += chunk })
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  const url = `http://127.0.0.1:${port}`
  const api = async (path: string): Promise<any> => {
    const res = await fetch(url + path, { signal: AbortSignal.timeout(5_000) })
    const body = await res.json() as { status: string, data: any, error?: string }
    if (body.status !== 'success') throw new Error(`prometheus: ${body.error ?? res.status}`)
    return body.data
  }
  const ready = await waitFor(async () => child.exitCode == null && await fetch(`${url}/-/ready`).then(res => res.ok, () => false), 20_000, 100)
  if (!ready) {
    child.kill('SIGKILL')
    throw new Error(`prometheus did not become ready:\n${log}`)
  }
  return {
    url,
    query: async expr => (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    range: async (expr, seconds) => {
      const end = Date.now() / 1000
      return (await api(`/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${end - seconds}&end=${end}&step=1`)).result
    },
    targetsUp: async () => {
      const data = await api('/api/v1/targets')
      return data.activeTargets.length > 0 && data.activeTargets.every((t: any) => t.health === 'up')
    },
    stop: async () => {
      child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 5_000)
      await exited
      clearTimeout(timer)
    }
  }
}
