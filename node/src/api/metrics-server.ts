import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { NodeMetrics } from '../metrics/node-metrics.ts'
import { http } from '../http-module.ts'

/** Parse `host:port` (or a bare port, on every address) for `--metrics-listen`. */
export function parseMetricsAddress (text: string): { host: string, port: number } {
  const match = /^(?:(\[[^\]]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(text.trim())
  const port = Number(match?.[2])
  if (match == null || port > 65535) throw new Error(`"${text}" is not an address for metrics: use host:port, like 127.0.0.1:9464 or 0.0.0.0:9464`)
  return { host: (match[1] ?? '0.0.0.0').replace(/^\[|\]$/g, ''), port }
}

export interface MetricsServer {
  url: string
  close(): Promise<void>
}

/**
 * `--metrics-listen`: `GET /metrics` and nothing else, without a token, on an address the
 * user chose (a Prometheus elsewhere scrapes it). What it shows carries no task ids, names,
 * commands or output: counts, amounts and durations, labelled by role, state and reason.
 */
export async function startMetricsServer (metrics: NodeMetrics, address: string): Promise<MetricsServer> {
  const { host, port } = parseMetricsAddress(address)
  const server: Server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n')
      return
    }
    metrics.text().then(text => {
      res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) }).end(text)
    }, () => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('the metrics could not be collected\n')
    })
  })
  server.requestTimeout = 10_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const bound = server.address() as AddressInfo
  return {
    url: `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}/metrics`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}
