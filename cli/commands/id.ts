import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { readFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { IDENTITY_FILE } from '../../node/src/mesh/identity.ts'
import type { NodeInfo } from '../../node/src/node.ts'
import { findApi, type ClientOptions } from '../client.ts'
import { EXIT, ExitError } from '../exit.ts'
import { formatResources, printJson, type Printer } from '../render.ts'

/** This node's peer ID, name and addresses: from the daemon, or from the data dir when none runs. */
export async function id (options: ClientOptions & { json?: boolean }, print: Printer): Promise<void> {
  const client = await findApi(options)
  let info: Partial<NodeInfo> & { peerId: string, name: string, addrs: string[], daemon: boolean }
  if (client != null) {
    info = { ...await client.request<NodeInfo>('GET', '/v1/id'), daemon: true }
  } else {
    let bytes: Buffer
    try {
      bytes = await readFile(join(options.dataDir, IDENTITY_FILE))
    } catch {
      throw new ExitError(EXIT.FAILURE, `no identity in ${options.dataDir}: run "cloudai init" first`)
    }
    info = { peerId: peerIdFromPrivateKey(privateKeyFromProtobuf(bytes)).toString(), name: hostname(), addrs: [], daemon: false }
  }
  if (options.json === true) {
    printJson(print, info)
    return
  }
  print.out(`Peer ID:   ${info.peerId}`)
  print.out(`Name:      ${info.name}${info.daemon ? '' : ' (default; no daemon running)'}`)
  if (info.addrs.length === 0) print.out('Addresses: none (no daemon running: "cloudai start")')
  for (const [i, addr] of info.addrs.entries()) print.out(`${i === 0 ? 'Addresses:' : '          '} ${addr}`)
  if (info.capacity != null) print.out(`Resources: ${formatResources(info.capacity)}`)
  if (info.keyFingerprint != null) print.out(`Key:       fingerprint ${info.keyFingerprint}`)
}
