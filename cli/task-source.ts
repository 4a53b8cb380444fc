import type { CloudaiNode } from '../node/src/node.ts'
import { resolvePeer, type PeerCandidate } from '../node/src/master/resolve-peer.ts'
import type { TaskRequest } from '../node/src/master/master.ts'
import { eventToJson, type TaskEventJson } from '../node/src/protocol/task-messages.ts'
import type { ApiClient } from './client.ts'
import { ApiError } from './client.ts'

/** What `task` reads, from the daemon (NDJSON) or from an embedded node: the same lines. */
export type TaskLine =
  | { accepted: { taskId: string, peerId: string, peerName: string } }
  | { event: TaskEventJson }
  | { error: { code: string, message: string } }

export interface TaskSource {
  lines: AsyncIterable<TaskLine>
  /** Stop reading (detach). */
  close: () => Promise<void>
  /** Whether the task runs on after close (false: an embedded node ran it, and took it down). */
  keepsRunning: boolean
}

/** How long an embedded node looks for the target peer on the LAN before giving up. */
export const EMBEDDED_DISCOVERY_MS = 10_000

/** Submit through the running daemon: POST /v1/tasks, read NDJSON as it arrives. */
export async function daemonSource (client: ApiClient, target: string, request: TaskRequest): Promise<TaskSource> {
  const controller = new AbortController()
  const res = await client.stream('POST', '/v1/tasks', { target, ...request }, controller.signal)
  return {
    lines: (async function * () {
      let buffered = ''
      const decoder = new TextDecoder()
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffered += decoder.decode(chunk, { stream: true })
          let newline: number
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline)
            buffered = buffered.slice(newline + 1)
            if (line.trim() !== '') yield JSON.parse(line) as TaskLine
          }
        }
      } catch (err: any) {
        if (controller.signal.aborted) return
        yield { error: { code: 'STREAM_FAILED', message: `lost the daemon's stream: ${err?.message ?? err}` } }
      }
    })(),
    close: async () => { controller.abort() },
    keepsRunning: true
  }
}

async function waitForPeer (node: CloudaiNode, target: string): Promise<void> {
  const self: PeerCandidate = { peerId: node.peerId.toString(), name: node.name }
  const deadline = Date.now() + EMBEDDED_DISCOVERY_MS
  while (true) {
    try {
      resolvePeer(target, self, node.peers().filter(peer => peer.reachable))
      return
    } catch (err: any) {
      if (err?.name !== 'UnknownPeerError' || Date.now() > deadline) throw err
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

export interface EmbeddedOptions {
  dataDir: string
  mdnsTag?: string
}

/**
 * No daemon runs: start a node for the duration of the command. `self` needs no network
 * (an open node that listens nowhere); another target needs the cluster key and mDNS.
 */
export async function embeddedSource (options: EmbeddedOptions, target: string, request: TaskRequest): Promise<TaskSource> {
  const local = target === 'self'
  const { createNode } = await import('../node/src/node.ts')
  const node = await createNode({
    dataDir: options.dataDir,
    open: local,
    listen: local ? [] : ['/ip4/0.0.0.0/tcp/0'],
    mdnsTag: local ? false : options.mdnsTag
  })
  await node.start()
  try {
    if (!local) await waitForPeer(node, target)
    const submitted = await node.master.submit(target, request)
    return {
      lines: (async function * () {
        yield { accepted: { taskId: submitted.taskId, peerId: submitted.peerId, peerName: submitted.peerName } }
        try {
          for await (const event of submitted.session.events) yield { event: eventToJson(event) }
        } catch (err: any) {
          yield { error: { code: 'STREAM_FAILED', message: `lost the task's event stream: ${err?.message ?? err}` } }
        }
      })(),
      // Without a daemon nothing would keep a task on this node alive: stopping cancels it.
      close: async () => { await node.stop() },
      keepsRunning: !local
    }
  } catch (err) {
    await node.stop()
    throw err
  }
}

export { ApiError }
