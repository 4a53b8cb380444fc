/**
 * Status links on /cloudai/node/1.0.0 over in-memory streams (docs/architecture.md,
 * "Discovery and membership"): each side's status in the first exchange, then only changes
 * (and members that joined), pushed both ways on the one stream, until either side ends it; an older node that answers
 * once; and hostile askers (no status of their own, a frame flood, a second link).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as lp from 'it-length-prefixed'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { NodeRequest } from '../../protocols/node.ts'
import { TaskNotFoundError } from '../../node/src/errors.ts'
import { encodeStatus, type PeerStatus } from '../../node/src/protocol/node-messages.ts'
import { NODE_PROTOCOL, openStatusLink, registerNodeProtocol } from '../../node/src/protocol/node-protocol.ts'
import { StatusFeed } from '../../node/src/protocol/status-feed.ts'
import type { NodeHost, StatusLinkHost } from '../../node/src/protocol/task-host.ts'
import { waitFor } from '../helpers/env.ts'
import { MemoryNetwork } from '../helpers/memory-peers.ts'

/** Quick, so a change is seen within a fraction of a second. */
const CHECK_MS = 20
const BOUND_MS = 5_000

function status (name: string, running = 0): PeerStatus {
  return {
    name,
    version: '1.0.0',
    capacity: { cpu: 2, memoryBytes: 2 ** 30, storageBytes: 2 ** 30, gpus: 0 },
    allocated: { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 },
    running,
    queued: 0,
    labels: {},
    executorHealthy: true,
    executorDetail: 'simulated',
    storageEnforced: false,
    members: [{ peerId: peerIdFromString('12D3KooWSVpHJnyA8i3ZCBUJm5AAsDvavqKVdT2ZRqmnWVdxrLtX'), addrs: [] }]
  }
}

/** A node's side of the links: its status (change `now` to change it) and what it heard from peers. */
class LinkSide {
  now: PeerStatus
  readonly feed: StatusFeed
  readonly heard: Array<{ from: string, status: PeerStatus }> = []
  readonly opened: string[] = []
  readonly ended: string[] = []
  readonly ends: Array<() => void> = []

  constructor (name: string) {
    this.now = status(name)
    this.feed = new StatusFeed(() => this.now, CHECK_MS)
  }

  host (): StatusLinkHost {
    return {
      feed: this.feed,
      opened: (remote: PeerId, first: PeerStatus, end: () => void) => {
        this.opened.push(remote.toString())
        this.heard.push({ from: remote.toString(), status: first })
        this.ends.push(end)
        return {
          status: next => { this.heard.push({ from: remote.toString(), status: next }) },
          ended: () => { this.ended.push(remote.toString()) }
        }
      }
    }
  }
}

async function serve (network: MemoryNetwork, side: LinkSide | undefined, bad: Error[] = []) {
  const peer = await network.peer()
  const host: NodeHost = {
    status: async () => side?.now ?? status('old'),
    attach: () => { throw new TaskNotFoundError('none') },
    cancel: () => { throw new TaskNotFoundError('none') },
    onBadRequest: (_remote, err) => { bad.push(err) },
    ...(side != null ? { links: side.host() } : {})
  }
  await registerNodeProtocol(peer, host)
  return peer
}

/** A server and a client on a memory network, the client's link to the server open; what the server pushes lands in `fromServer`. */
async function linkedPair (): Promise<{ serverSide: LinkSide, clientSide: LinkSide, client: Awaited<ReturnType<MemoryNetwork['peer']>>, fromServer: PeerStatus[], link: Awaited<ReturnType<typeof openStatusLink>> }> {
  const network = new MemoryNetwork()
  const serverSide = new LinkSide('server')
  const clientSide = new LinkSide('client')
  const server = await serve(network, serverSide)
  const client = await network.peer()
  const fromServer: PeerStatus[] = []
  const link = await openStatusLink(client, server.peerId, clientSide.feed, s => { fromServer.push(s) })
  return { serverSide, clientSide, client, fromServer, link }
}

describe('status links', () => {
  it('exchange both statuses with hints, then push each change without hints, both ways, until the asker ends it', async () => {
    const { serverSide, clientSide, client, fromServer, link } = await linkedPair()
    assert.equal(link.status.name, 'server')
    assert.equal(link.status.members.length, 1, 'the first answer carries the member hints')
    assert.deepEqual(serverSide.opened, [client.peerId.toString()])
    assert.equal(serverSide.heard[0].status.name, 'client')
    assert.equal(serverSide.heard[0].status.members.length, 1, 'so does the asker\'s own first status')

    // Nothing changes: nothing is sent.
    await new Promise(resolve => setTimeout(resolve, CHECK_MS * 5))
    assert.equal(fromServer.length, 0)
    assert.equal(serverSide.heard.length, 1)

    serverSide.now = status('server', 3)
    assert.ok(await waitFor(() => fromServer.length === 1, BOUND_MS, 5), 'the server pushed its change')
    assert.equal(fromServer[0].running, 3)
    assert.deepEqual(fromServer[0].members, [], 'pushes leave the hints out')
    clientSide.now = status('client', 2)
    assert.ok(await waitFor(() => serverSide.heard.length === 2, BOUND_MS, 5), 'the client pushed its change')
    assert.equal(serverSide.heard[1].status.running, 2)

    link.end()
    await link.ended
    assert.ok(await waitFor(() => serverSide.ended.length === 1, BOUND_MS, 5), 'the server saw the link end')
    serverSide.feed.stop()
    clientSide.feed.stop()
  })

  it('a member that joins is pushed once, alone, over the link; one that leaves is not pushed', async () => {
    const { serverSide, clientSide, fromServer, link } = await linkedPair()
    const first = serverSide.now.members[0]
    const joined = { peerId: peerIdFromString('12D3KooWH3uVF6wv47WnArKHk5p6cvgCJEb74UTmxztmQDc298L3'), addrs: [multiaddr('/ip4/10.0.0.7/tcp/7421')] }
    serverSide.now = { ...serverSide.now, members: [first, joined] }
    assert.ok(await waitFor(() => fromServer.length === 1, BOUND_MS, 5), 'the server pushed the member that joined')
    assert.deepEqual(fromServer[0].members.map(hint => [hint.peerId.toString(), hint.addrs.map(addr => addr.toString())]), [[joined.peerId.toString(), ['/ip4/10.0.0.7/tcp/7421']]])
    assert.equal(fromServer[0].running, 0, 'with the status, unchanged')

    // Leaving, and nothing new: nothing is sent.
    serverSide.now = { ...serverSide.now, members: [joined] }
    await new Promise(resolve => setTimeout(resolve, CHECK_MS * 5))
    assert.equal(fromServer.length, 1)
    // Back after leaving: new since the last check, pushed again.
    serverSide.now = { ...serverSide.now, members: [joined, first] }
    assert.ok(await waitFor(() => fromServer.length === 2, BOUND_MS, 5), 'the member that came back was pushed')
    assert.deepEqual(fromServer[1].members.map(hint => hint.peerId.toString()), [first.peerId.toString()])

    link.end()
    await link.ended
    serverSide.feed.stop()
    clientSide.feed.stop()
  })

  it('an older node answers once and closes: the link ends at once, with its status', async () => {
    const network = new MemoryNetwork()
    const server = await serve(network, undefined)
    const client = await network.peer()
    const side = new LinkSide('client')
    const link = await openStatusLink(client, server.peerId, side.feed, () => {})
    assert.equal(link.status.name, 'old')
    await link.ended
    side.feed.stop()
  })

  it('the server ending the link (a newer one replaced it) ends it on the asker\'s side', async () => {
    const network = new MemoryNetwork()
    const serverSide = new LinkSide('server')
    const server = await serve(network, serverSide)
    const client = await network.peer()
    const side = new LinkSide('client')
    const link = await openStatusLink(client, server.peerId, side.feed, () => {})
    serverSide.ends[0]()
    await link.ended
    assert.ok(await waitFor(() => serverSide.ended.length === 1, BOUND_MS, 5))
    serverSide.feed.stop()
    side.feed.stop()
  })

  it('refuses a link request without the asker\'s own status, and a link that floods status frames', async () => {
    const network = new MemoryNetwork()
    const serverSide = new LinkSide('server')
    const bad: Error[] = []
    const server = await serve(network, serverSide, bad)
    const client = await network.peer()

    const bare = await client.dialProtocol(server.peerId, NODE_PROTOCOL)
    bare.send(lp.encode.single(NodeRequest.encode({ status: { link: true } })))
    assert.ok(await waitFor(() => bad.length === 1, BOUND_MS, 5))
    assert.match(bad[0].message, /own status/)
    assert.equal(serverSide.opened.length, 0, 'no link was opened')

    const flood = await client.dialProtocol(server.peerId, NODE_PROTOCOL)
    const frame = lp.encode.single(NodeRequest.encode({ status: { link: true, sender: encodeStatus(status('flood')) } }))
    for (let i = 0; i < 100 && flood.status === 'open'; i++) flood.send(frame)
    assert.ok(await waitFor(() => bad.length === 2, BOUND_MS, 5), 'the flooding link was ended')
    assert.match(bad[1].message, /status frames/)
    assert.ok(serverSide.heard.length <= 22, `the server decoded ${serverSide.heard.length} of the flood's frames`)
    assert.ok(await waitFor(() => serverSide.ended.length === 1, BOUND_MS, 5))
    serverSide.feed.stop()
  })
})
