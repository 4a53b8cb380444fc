import type { ExecutionObserver, ExecutorTask } from '../../node/src/executor/executor.ts'
import type { ResourceAmounts } from '../../node/src/resources.ts'
import { mdnsTag, tempDir } from './env.ts'
import { createSimulatedExecutor, type SimulatedExecutor } from '../../node/src/executor/simulated.ts'
import { copyFile, mkdir } from 'node:fs/promises'
import { setTimeout as delay } from 'node:timers/promises'
import { join } from 'node:path'
import type { TaskRequest } from '../../node/src/master/master.ts'
import { createSwarmKey } from '../../node/src/mesh/swarm-key.ts'
import { createNode, type CloudaiNode, type NodeOptions } from '../../node/src/node.ts'
import { isTerminal, TaskState, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import { taskFeed } from '../../node/src/store/feed.ts'
import { storeOf, workerOf } from './internals.ts'

/** Many local nodes: a quick dial rate far above libp2p's default of 5 per second per host. */
export const SIM_INBOUND_CONNECTION_THRESHOLD = 10_000

/** Write a fresh cluster key into `root/<name>.key` and return its path. */
export async function makeClusterKey (root: string, name = 'cluster'): Promise<string> {
  const path = join(root, `${name}.key`)
  await createSwarmKey(path)
  return path
}

/**
 * Create (not start) a node on loopback with its own data dir under `root`, holding
 * a copy of `keyPath`. They run the simulated executor: containers in memory.
 */
export async function simNode (root: string, name: string, keyPath: string, extra: Partial<NodeOptions> = {}): Promise<CloudaiNode> {
  const dataDir = join(root, name)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await copyFile(keyPath, join(dataDir, 'swarm.key'))
  return createNode({
    dataDir,
    name,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    inboundConnectionThreshold: SIM_INBOUND_CONNECTION_THRESHOLD,
    executor: createSimulatedExecutor(),
    ...extra
  })
}

/** Whether every node lists every other node as a reachable member. */
export function fullyConnected (nodes: CloudaiNode[]): boolean {
  return nodes.every(node => {
    const seen = new Set(node.peers().filter(peer => peer.reachable).map(peer => peer.peerId))
    return nodes.every(other => other === node || seen.has(other.peerId.toString()))
  })
}

/** An image name for the simulated executor, which knows every image. */
export const SIM_IMAGE = '127.0.0.1:5000/cloudai/sim:1'

/** A small task for the simulated executor; `command` is its script (`out:…`, `sleep:…`, `exit:…`). */
export function simTaskRequest (command: string[], extra: Partial<TaskRequest> = {}): TaskRequest {
  return {
    image: SIM_IMAGE,
    command,
    env: {},
    resources: { cpu: 0.5, memoryBytes: 64 * 2 ** 20, storageBytes: 2 ** 20, gpus: 0 },
    network: 'none',
    labels: {},
    ...extra
  }
}

/**
 * Every event of a task `node` submitted (or runs), read from its store as they are
 * recorded, until the terminal one; throws if that takes longer than `boundMs`.
 */
export async function taskEvents (node: CloudaiNode, taskId: string, boundMs: number): Promise<TaskEvent[]> {
  const record = node.tasks.record(taskId, 'submitted') ?? node.tasks.record(taskId, 'executed')
  if (record == null) throw new Error(`${node.name} has no task ${taskId}`)
  const signal = AbortSignal.timeout(boundMs)
  const events: TaskEvent[] = []
  for await (const item of taskFeed(storeOf(node), taskId, record.attempt, { follow: true, signal })) {
    if ('event' in item) events.push(item.event)
  }
  if (!isTerminal(events.at(-1)?.state ?? TaskState.PENDING)) throw new Error(`task ${taskId} did not end within ${boundMs} ms (${events.length} events)`)
  return events
}

/**
 * A simulated executor that can die with its process: after `kill()` its containers stop and
 * nothing they did is reported any more (no output, no exit), so the worker writes nothing
 * further to its store, as when the process is killed.
 */
export function killableExecutor (): { executor: SimulatedExecutor, kill: () => void } {
  const inner = createSimulatedExecutor()
  const death = new AbortController()
  const never = async (): Promise<never> => await new Promise<never>(() => {})
  const alive = <A extends unknown[]>(fn: ((...args: A) => unknown) | undefined) => (...args: A): void => {
    if (!death.signal.aborted) void fn?.(...args)
  }
  return {
    kill: () => { death.abort() },
    executor: {
      ...inner,
      run: async (task, observer, signal) => {
        if (death.signal.aborted) return await never()
        const guarded: ExecutionObserver = {
          onPullProgress: alive(observer.onPullProgress?.bind(observer)),
          onPulled: alive(observer.onPulled?.bind(observer)),
          onStarted: alive(observer.onStarted?.bind(observer)),
          onLog: async (stream, chunk) => { if (!death.signal.aborted) await observer.onLog(stream, chunk) }
        }
        const result = await inner.run(task, guarded, AbortSignal.any([signal, death.signal]))
        if (death.signal.aborted) return await never()
        return result
      }
    }
  }
}

/**
 * Kill a node as a crash would: its containers and its network go at once, no task is
 * cancelled and no goodbye is sent (unlike `node.stop()`). Its membership timers and its
 * tasks' output batches are stopped too, as the process's would be; the store stays open
 * until the caller closes it.
 */
export async function crash (node: CloudaiNode, kill: () => void): Promise<void> {
  kill()
  // Private members: a crashed process runs no timers, and the Node offers no way to stop only them.
  const membership = (node as unknown as { membership?: { stop?: () => void } }).membership
  membership?.stop?.()
  // Output written just before the crash waits in a batch for a few ms: it would be recorded
  // after the caller closed the store (the process that held it is gone).
  for (const task of workerOf(node).active()) task.detach()
  await node.libp2p.stop()
}

/** Stopping every node of a test: cancelAll waits at most 20 s, and nothing here should run that long. */
const STOP_BOUND_MS = 25_000

/** A directory, a cluster key and an mDNS tag for the nodes of one test. */
export interface Cluster {
  root: string
  key: string
  tag: string
  remove: () => Promise<void>
}

export async function cluster (): Promise<Cluster> {
  const dir = await tempDir()
  return { root: dir.path, key: await makeClusterKey(dir.path), tag: mdnsTag(), remove: dir.remove }
}

/** Stop every node that is still alive, bounded: a test never hangs in its teardown. */
export async function stopAll (nodes: CloudaiNode[]): Promise<void> {
  const stopping = Promise.allSettled(nodes.map(async node => node.stop()))
  const bound = delay(STOP_BOUND_MS, 'timeout' as const, { ref: false })
  if (await Promise.race([stopping.then(() => 'stopped' as const), bound]) === 'timeout') {
    throw new Error(`the nodes did not stop within ${STOP_BOUND_MS} ms`)
  }
}

/** Whether `used` fits in `capacity` (CPU with a rounding margin). */
export function within (used: ResourceAmounts, capacity: ResourceAmounts): boolean {
  return used.cpu <= capacity.cpu + 1e-9 && used.memoryBytes <= capacity.memoryBytes &&
    used.storageBytes <= capacity.storageBytes && used.gpus <= capacity.gpus
}

/** What a set of tasks asks for together. */
export function sum (tasks: Iterable<ExecutorTask>): ResourceAmounts {
  const total = { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 }
  for (const t of tasks) {
    total.cpu += t.resources.cpu
    total.memoryBytes += t.resources.memoryBytes
    total.storageBytes += t.resources.storageBytes
    total.gpus += t.resources.gpus
  }
  return total
}

/**
 * A simulated executor that watches a worker's admissions: at every run, the worker's ledger
 * and the containers running at that moment must fit in its capacity (and, with `queueBound`,
 * its queue must stay below that).
 */
export interface WatchedExecutor {
  executor: SimulatedExecutor
  /** Set once the node exists: the executor is made before it. */
  bind: (node: CloudaiNode) => void
  runs: string[]
  violations: string[]
  maxAllocatedCpu: number
  /** Forget the runs seen so far (a test that reuses the node watches only its own). */
  reset: () => void
}

export function watchedExecutor (capacity: ResourceAmounts, options: { queueBound?: number } = {}): WatchedExecutor {
  const inner = createSimulatedExecutor()
  const inside = new Map<string, ExecutorTask>()
  let node: CloudaiNode | undefined
  const watched: WatchedExecutor = {
    bind: bound => { node = bound },
    runs: [],
    violations: [],
    maxAllocatedCpu: 0,
    reset: () => {
      watched.runs = []
      watched.violations = []
      watched.maxAllocatedCpu = 0
    },
    executor: {
      ...inner,
      run: async (task, observer, signal) => {
        watched.runs.push(task.taskId)
        inside.set(task.taskId, task)
        if (node == null) {
          watched.violations.push(`${task.taskId}: ran before the test knew its node`)
        } else {
          const allocated = workerOf(node).allocated()
          watched.maxAllocatedCpu = Math.max(watched.maxAllocatedCpu, allocated.cpu)
          if (!within(allocated, capacity)) watched.violations.push(`${task.taskId}: ${node.name}'s ledger holds ${JSON.stringify(allocated)}`)
          if (options.queueBound != null && workerOf(node).queued() >= options.queueBound) watched.violations.push(`${task.taskId}: ${node.name}'s queue is full`)
        }
        const running = sum(inside.values())
        if (!within(running, capacity)) watched.violations.push(`${task.taskId}: ${inside.size} containers need ${JSON.stringify(running)}`)
        try {
          return await inner.run(task, observer, signal)
        } finally {
          inside.delete(task.taskId)
        }
      }
    }
  }
  return watched
}
