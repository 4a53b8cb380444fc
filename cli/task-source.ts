import type { CloudaiNode } from '../node/src/node.ts'
import { explainUnknownPeer, resolvePeer, type PeerCandidate } from '../node/src/master/resolve-peer.ts'
import type { SubmitOptions, TaskRequest } from '../node/src/master/master.ts'
import { feedLine, taskFeed, type FeedLine, type FeedOptions } from '../node/src/store/feed.ts'
import type { TaskStore } from '../node/src/store/store.ts'
import { taskRecord } from '../node/src/store/task-views.ts'
import type { ApiClient } from './client.ts'
import { ApiError } from './client.ts'

/** What `task` and `logs` read, from the daemon (NDJSON) or from an embedded node: the same lines. */
export type TaskLine =
  | { accepted: { taskId: string, peerId: string, peerName: string } }
  | { task: { taskId: string, peerId: string, peerName: string } }
  | FeedLine
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
export async function daemonSource (client: ApiClient, target: string, request: TaskRequest, placement: SubmitOptions = {}): Promise<TaskSource> {
  return await ndjsonSource(client, 'POST', '/v1/tasks', { target, ...request, ...placement })
}

/** Read an NDJSON stream of task lines from the daemon. */
export async function ndjsonSource (client: ApiClient, method: 'GET' | 'POST', path: string, body?: unknown): Promise<TaskSource> {
  const controller = new AbortController()
  const res = await client.stream(method, path, body, controller.signal)
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
      if (err?.name !== 'UnknownPeerError') throw err
      if (Date.now() > deadline) throw explainUnknownPeer(err, node.refused())
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
export async function embeddedSource (options: EmbeddedOptions, target: string, request: TaskRequest, placement: SubmitOptions = {}): Promise<TaskSource> {
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
    const submitted = await node.master.submit(target, request, placement)
    const stop = new AbortController()
    return {
      lines: (async function * () {
        yield { accepted: submitted }
        yield * storeLines(node.store, submitted.taskId, { follow: true, signal: stop.signal, unreachableSince: () => node.master.unreachableSince(submitted.taskId) })
      })(),
      // Without a daemon nothing would keep a task on this node alive: stopping cancels it.
      close: async () => {
        stop.abort()
        await node.stop()
      },
      keepsRunning: !local
    }
  } catch (err) {
    await node.stop()
    throw err
  }
}

export { ApiError }

/** A task's feed read from a store in this process (an embedded node, or no node at all), as task lines. */
export async function * storeLines (store: TaskStore, taskId: string, options: Omit<FeedOptions, 'fromSeq'> & { fromSeq?: number }): AsyncGenerator<TaskLine> {
  const { attempt } = taskRecord(store, taskId)
  for await (const item of taskFeed(store, taskId, attempt, options)) yield feedLine(item)
}
