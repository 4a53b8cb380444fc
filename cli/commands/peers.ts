import type { PeerView } from '../../node/src/node.ts'
import { formatBytes } from '../../node/src/units.ts'
import { requireApi, type ClientOptions } from '../client.ts'
import { colors, freeOfTotal, printJson, shortId, table, type Printer } from '../render.ts'

function bytes (n: number): string {
  return formatBytes(n).replace(' ', '')
}

/** Known peers with their resources and load. */
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
  print.out(table(
    ['Name', 'ID', 'Address', 'CPU free/total', 'Memory free/total', 'Storage free/total', 'GPU free/total', 'Running', 'Queued', 'Latency'],
    list.map(peer => [
      peer.reachable ? peer.name : `${peer.name} ${colors.red('(unreachable)')}`,
      shortId(peer.peerId),
      peer.addrs[0] ?? '',
      freeOfTotal(peer.capacity.cpu - peer.allocated.cpu, peer.capacity.cpu),
      freeOfTotal(peer.capacity.memoryBytes - peer.allocated.memoryBytes, peer.capacity.memoryBytes, bytes),
      freeOfTotal(peer.capacity.storageBytes - peer.allocated.storageBytes, peer.capacity.storageBytes, bytes),
      freeOfTotal(peer.capacity.gpus - peer.allocated.gpus, peer.capacity.gpus),
      String(peer.running),
      String(peer.queued),
      peer.reachable ? `${peer.latencyMs.toFixed(1)} ms` : `since ${peer.unreachableSince ?? '?'}`
    ])
  ))
}
