import type { PeerView } from '../../node/src/mesh/peer-view.ts'
import { formatBytes, formatDuration } from '../../node/src/units.ts'
import { requireApi, type ClientOptions } from '../client.ts'
import { colors, freeOfTotal, printJson, shortId, table, type Printer } from '../render.ts'

function bytes (n: number): string {
  return formatBytes(n).replace(' ', '')
}

/** Whether a peer can take tasks now: it answers, and its container engine works. */
function health (peer: PeerView): string {
  if (!peer.reachable) return colors.red(`unreachable since ${peer.unreachableSince ?? '?'}`)
  return peer.executorHealthy ? colors.green('ok') : colors.yellow(`engine down: ${peer.executorDetail}`)
}

/** A peer this node has not reached itself yet has no latency of its own: the column says who told of it. */
function latency (peer: PeerView, list: PeerView[]): string {
  if (!peer.reachable) return ''
  if (peer.via == null) return `${peer.latencyMs.toFixed(1)} ms`
  const via = peer.via
  return colors.dim(`via ${list.find(other => other.peerId === via)?.name ?? shortId(via)}`)
}

/** Known peers with their health, resources and load. */
export async function peers (options: ClientOptions & { json?: boolean }, print: Printer): Promise<void> {
  const client = await requireApi(options)
  const list = await client.request<PeerView[]>('GET', '/v1/peers')
  if (options.json === true) {
    printJson(print, list)
    return
  }
  if (list.length === 0) {
    print.out('No peers yet. Peers on the same LAN with the same cluster key appear within seconds;\nfor one mDNS cannot see, run "cloudai connect <multiaddr>".')
    return
  }
  const now = Date.now()
  print.out(table(
    ['Name', 'ID', 'Address', 'Health', 'Last seen', 'CPU free/total', 'Memory free/total', 'Storage free/total', 'GPU free/total', 'Running', 'Queued', 'Latency'],
    list.map(peer => [
      peer.nameRefused != null ? colors.yellow(`${peer.name} (name refused)`) : peer.name,
      shortId(peer.peerId),
      peer.addrs[0] ?? '',
      health(peer),
      `${formatDuration(Math.max(0, now - Date.parse(peer.lastSeen)))} ago`,
      freeOfTotal(peer.capacity.cpu - peer.allocated.cpu, peer.capacity.cpu),
      freeOfTotal(peer.capacity.memoryBytes - peer.allocated.memoryBytes, peer.capacity.memoryBytes, bytes),
      freeOfTotal(peer.capacity.storageBytes - peer.allocated.storageBytes, peer.capacity.storageBytes, bytes),
      freeOfTotal(peer.capacity.gpus - peer.allocated.gpus, peer.capacity.gpus),
      String(peer.running),
      String(peer.queued),
      latency(peer, list)
    ])
  ))
  const refused = list.filter(peer => peer.nameRefused != null)
  if (refused.length > 0) {
    print.out(`Names refused: these peers are reached by ID only (cloudai task <ID or a unique part of it> …):\n${
      refused.map(peer => `  ${peer.name}  ${peer.peerId}: ${peer.nameRefused ?? ''}`).join('\n')}`)
  }
}
