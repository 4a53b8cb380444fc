import type { PeerView } from '../../node/src/mesh/peer-view.ts'
import { ApiError, requireApi, type ClientOptions } from '../client.ts'
import { EXIT, ExitError } from '../exit.ts'
import { printJson, type Printer } from '../render.ts'

/** Add a peer that mDNS cannot see (another subnet, multicast blocked). */
export async function connect (addr: string, options: ClientOptions & { json?: boolean }, print: Printer): Promise<void> {
  const client = await requireApi(options)
  let peer: PeerView
  try {
    peer = await client.request<PeerView>('POST', '/v1/connect', { addr })
  } catch (err) {
    if (err instanceof ApiError && err.code === 'BAD_ADDRESS') throw new ExitError(EXIT.USAGE, err.message)
    if (err instanceof ApiError && err.code === 'NOT_MEMBER') throw new ExitError(EXIT.FAILURE, `could not connect to ${addr}: ${err.message}`)
    if (err instanceof ApiError && err.code === 'CONNECT_FAILED') {
      throw new ExitError(EXIT.FAILURE, `could not connect to ${addr}: ${err.message}\nCheck the address (cloudai id on that machine prints it) and that both machines hold the same cluster key.`)
    }
    throw err
  }
  if (options.json === true) {
    printJson(print, peer)
    return
  }
  print.out(`Connected to ${peer.name} (${peer.peerId}) in ${peer.latencyMs.toFixed(1)} ms`)
}
