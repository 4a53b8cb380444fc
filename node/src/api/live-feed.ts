import type { ServerResponse } from 'node:http'
import type { CloudaiNode } from '../node.ts'
import type { PeerView } from '../mesh/peer-view.ts'
import type { PeerStatus } from '../protocol/node-messages.ts'
import { RequestError } from './http-error.ts'

/** Live dashboard pages at once: each holds a connection and two timers. */
export const MAX_LIVE_CLIENTS = 16
/** Task changes are gathered this long and sent as one message: a task's output flood costs a page one message per interval, not one per chunk. */
const CHANGE_BATCH_MS = 100
/** How often the mesh (members, load, health) is sent again: as often as membership refreshes it, at most. */
const MESH_EVERY_MS = 2_000
/** A comment line this often keeps idle proxies and tunnels from closing the stream. */
const HEARTBEAT_MS = 15_000
/** Task ids named in one message; past this, the message says "reload the list" instead. */
const MAX_IDS_PER_MESSAGE = 256

/** What the mesh page shows: this node as its peers see it, and every member it knows. */
export interface MeshView {
  self: Omit<PeerStatus, 'members'> & { peerId: string, addrs: string[] }
  peers: PeerView[]
}

export function meshView (node: CloudaiNode): MeshView {
  const { members: _hints, ...status } = node.status()
  return { self: { peerId: node.peerId.toString(), addrs: node.info().addrs, ...status }, peers: node.peers() }
}

/**
 * `GET /v1/dashboard/live`: server-sent events for the dashboard. `tasks` names the tasks
 * that changed (`{"ids": […]}`, or `{"all": true}` after many), `mesh` is the mesh view.
 * A client that reads slowly misses nothing that matters: changes wait (bounded) until its
 * socket drains, and the mesh is simply sent again later.
 */
export class LiveFeed {
  private clients = 0
  private readonly node: CloudaiNode
  private readonly onClients?: (delta: 1 | -1) => void

  constructor (node: CloudaiNode, onClients?: (delta: 1 | -1) => void) {
    this.node = node
    this.onClients = onClients
  }

  serve (res: ServerResponse): void {
    if (this.clients >= MAX_LIVE_CLIENTS) throw new RequestError('TOO_MANY_CLIENTS', `at most ${MAX_LIVE_CLIENTS} dashboard pages follow this node at once: close one`)
    this.clients++
    this.onClients?.(1)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
    let changed = new Set<string>()
    let overflow = false
    let draining = false
    const write = (text: string): boolean => {
      if (draining || res.destroyed) return false
      if (!res.write(text)) {
        draining = true
        res.once('drain', () => { draining = false })
      }
      return true
    }
    const sendMesh = (): void => { write(`event: mesh\ndata: ${JSON.stringify(meshView(this.node))}\n\n`) }
    const flush = (): void => {
      if (changed.size === 0 && !overflow) return
      const body = overflow ? { all: true } : { ids: [...changed] }
      if (write(`event: tasks\ndata: ${JSON.stringify(body)}\n\n`)) {
        changed = new Set()
        overflow = false
      }
    }
    const unwatch = this.node.tasks.watchChanges(taskId => {
      if (overflow) return
      changed.add(taskId)
      if (changed.size > MAX_IDS_PER_MESSAGE) { overflow = true; changed = new Set() }
    })
    const timers = [
      setInterval(flush, CHANGE_BATCH_MS),
      setInterval(sendMesh, MESH_EVERY_MS),
      setInterval(() => { write(': keep-alive\n\n') }, HEARTBEAT_MS)
    ]
    write('retry: 2000\n\n')
    sendMesh()
    res.once('close', () => {
      unwatch()
      for (const timer of timers) clearInterval(timer)
      this.clients--
      this.onClients?.(-1)
    })
  }
}
