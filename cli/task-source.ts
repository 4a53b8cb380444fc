import type { CloudaiNode } from '../node/src/node.ts'
import type { PeerCandidate } from '../node/src/master/resolve-peer.ts'
import type { SubmitOptions, TaskRequest } from '../node/src/master/master.ts'
import type { TaskLine } from '../node/src/tasks/task-history.ts'
import type { OutputSetJson } from '../node/src/protocol/task-messages.ts'
import type { ApiClient } from './client.ts'
import type { OutputsStream } from './results-download.ts'

export type { TaskLine }

export interface TaskSource {
  lines: AsyncIterable<TaskLine>
  /** Stop reading (detach). */
  close: () => Promise<void>
  /** Whether the task runs on after close (false: an embedded node ran it, and took it down). */
  keepsRunning: boolean
  /** The outputs kept of the finished task, fetched from its worker (before `close`). */
  outputs?: (taskId: string, signal: AbortSignal) => Promise<OutputsStream>
}

/** GET /v1/tasks/<id>/outputs: the summaries from the header, the archive from the body. */
export async function daemonOutputs (client: ApiClient, idOrPrefix: string, signal: AbortSignal): Promise<OutputsStream> {
  const res = await client.stream('GET', `/v1/tasks/${encodeURIComponent(idOrPrefix)}/outputs`, undefined, signal)
  const sets = JSON.parse(Buffer.from(res.header('x-cloudai-outputs') ?? '', 'base64').toString('utf8') || '[]') as OutputSetJson[]
  return { taskId: res.header('x-cloudai-task') ?? idOrPrefix, sets, archive: res.body }
}

/** The outputs through a node in this process. */
async function nodeOutputs (node: CloudaiNode, idOrPrefix: string, signal: AbortSignal): Promise<OutputsStream> {
  const { taskId, sets, archive } = await node.tasks.outputs(idOrPrefix, signal)
  return { taskId, sets: sets.map(set => ({ ...set, ...(set.note !== '' ? { note: set.note } : {}) })), archive }
}

/** How long an embedded node looks for the target peer on the LAN before giving up. */
export const EMBEDDED_DISCOVERY_MS = 10_000

/** Submit through the running daemon: POST /v1/tasks, read NDJSON as it arrives. */
export async function daemonSource (client: ApiClient, target: string, request: TaskRequest, placement: SubmitOptions = {}): Promise<TaskSource> {
  return await ndjsonSource(client, 'POST', '/v1/tasks', { target, ...request, ...placement })
}

export { nodeOutputs }

/** Read an NDJSON stream of task lines from the daemon. */
export async function ndjsonSource (client: ApiClient, method: 'GET' | 'POST', path: string, body?: unknown): Promise<TaskSource> {
  const controller = new AbortController()
  const res = await client.stream(method, path, body, controller.signal)
  return {
    lines: (async function * () {
      let buffered = ''
      const decoder = new TextDecoder()
      try {
        for await (const chunk of res.body) {
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
    keepsRunning: true,
    outputs: async (taskId, signal) => await daemonOutputs(client, taskId, signal)
  }
}

async function waitForPeer (node: CloudaiNode, target: string): Promise<void> {
  // Loaded here: peer names bring libp2p's peer ids, which a command through the daemon never needs.
  const { explainUnknownPeer, resolvePeer, UnknownPeerError } = await import('../node/src/master/resolve-peer.ts')
  const self: PeerCandidate = { peerId: node.peerId.toString(), name: node.name }
  const deadline = Date.now() + EMBEDDED_DISCOVERY_MS
  while (true) {
    try {
      // Only members this node reached itself take tasks by name (not those known via another).
      resolvePeer(target, self, node.peers().filter(peer => peer.reachable && peer.via == null))
      return
    } catch (err) {
      if (!(err instanceof UnknownPeerError)) throw err
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
    const submitted = await node.tasks.submit(target, request, placement)
    const stop = new AbortController()
    const { lines } = node.tasks.follow(submitted.taskId, { follow: true, signal: stop.signal })
    return {
      lines: (async function * () {
        yield { accepted: submitted }
        yield * lines
      })(),
      // Without a daemon nothing would keep a task on this node alive: stopping cancels it.
      close: async () => {
        stop.abort()
        await node.stop()
      },
      keepsRunning: !local,
      outputs: async (taskId, signal) => await nodeOutputs(node, taskId, signal)
    }
  } catch (err) {
    await node.stop()
    throw err
  }
}
