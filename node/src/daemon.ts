import type { Logger } from 'pino'
import { readApiFile, removeApiFile, writeApiFile } from './api/api-file.ts'
import { startApiServer, type ApiServer } from './api/server.ts'
import { CloudaiError } from './errors.ts'
import { createNode, type CloudaiNode, type NodeOptions } from './node.ts'
import { guardProcess } from './process-guard.ts'
import { keepHistoryPruned } from './tasks/history-retention.ts'
import { NodeMetrics } from './metrics/node-metrics.ts'
import { startMetricsServer, type MetricsServer } from './api/metrics-server.ts'

/** A daemon already serves this data dir: two would fight over its identity and store. */
export class DaemonRunningError extends CloudaiError {
  override readonly code = 'DAEMON_RUNNING'
}

/** How long we wait for an existing daemon to answer before treating its API file as stale. */
const LIVENESS_TIMEOUT_MS = 2_000

export interface Daemon {
  node: CloudaiNode
  api: ApiServer
  /** Where `--metrics-listen` serves `/metrics` without a token, if asked. */
  metricsServer?: MetricsServer
  stop(): Promise<void>
}

async function daemonAnswers (url: string, token: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v1/id`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(LIVENESS_TIMEOUT_MS) })
    return res.ok
  } catch {
    return false
  }
}

/**
 * Run a node with its local API: refuse if a live daemon owns the data dir, then
 * start the node, serve the API, and publish the API file once listening.
 */
export async function startDaemon (options: NodeOptions & { apiAddress?: string, metricsAddress?: string, log: Logger }): Promise<Daemon> {
  const existing = await readApiFile(options.dataDir).catch(() => undefined)
  if (existing != null && await daemonAnswers(existing.url, existing.token)) {
    throw new DaemonRunningError(`a cloudai daemon (pid ${existing.pid}) already runs with the data dir ${options.dataDir}: stop it first, or use another --data-dir`)
  }
  const metrics = new NodeMetrics()
  const node = await createNode({
    ...options,
    libp2pMetrics: metrics.libp2p,
    onRefusal: entry => { metrics.onRefusal(entry); options.onRefusal?.(entry) },
    onImageBytes: bytes => { metrics.onImageBytes(bytes) }
  })
  metrics.attach({ status: () => node.status(), peers: () => node.peers(), tasks: node.tasks })
  // From the node's first work (re-adopting containers) to its last: no stray error ends the daemon.
  const unguard = guardProcess(options.log)
  try {
    await node.start()
  } catch (err) {
    unguard()
    throw err
  }
  let api: ApiServer
  let metricsServer: MetricsServer | undefined
  try {
    api = await startApiServer(node, options.apiAddress, { metrics })
    if (options.metricsAddress != null) metricsServer = await startMetricsServer(metrics, options.metricsAddress)
    await writeApiFile(options.dataDir, { url: api.url, token: api.token, pid: process.pid })
  } catch (err) {
    await metricsServer?.close()
    await node.stop()
    unguard()
    throw err
  }
  // At start and then periodically: the history never outgrows what the rules keep for long.
  const retention = keepHistoryPruned(async signal => await node.tasks.prune({}, signal), options.log)
  return {
    node,
    api,
    ...(metricsServer != null ? { metricsServer } : {}),
    stop: async () => {
      await removeApiFile(options.dataDir, api.token)
      await api.close()
      await metricsServer?.close()
      metrics.stop()
      await retention.stop()
      await node.stop()
      unguard()
    }
  }
}
