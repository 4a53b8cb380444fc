import type { PeerId } from '@libp2p/interface'
import type { Executor } from '../../node/src/executor/executor.ts'
import { createSimulatedExecutor } from '../../node/src/executor/simulated.ts'
import type { NodeHost } from '../../node/src/protocol/task-host.ts'
import { registerNodeProtocol } from '../../node/src/protocol/node-protocol.ts'
import { registerTasksProtocol, type TasksProtocolTimeouts } from '../../node/src/protocol/tasks-protocol.ts'
import type { ResourceAmounts } from '../../node/src/resources.ts'
import { TaskStore } from '../../node/src/store/store.ts'
import type { WorkerPolicy } from '../../node/src/worker/policy.ts'
import { Worker } from '../../node/src/worker/worker.ts'
import { tempDir } from './env.ts'
import type { MemoryNetwork, MemoryPeer } from './memory-peers.ts'

const DEFAULT_CAPACITY: ResourceAmounts = { cpu: 4, memoryBytes: 8 * 2 ** 30, storageBytes: 100 * 2 ** 30, gpus: 0 }

export interface ProtocolWorkerOptions {
  name?: string
  capacity?: ResourceAmounts
  labels?: Record<string, string>
  executor?: Executor
  policy?: WorkerPolicy
  /** The deadlines of /cloudai/tasks/1.0.0 (production's unless given). */
  tasksTimeouts?: Partial<TasksProtocolTimeouts>
  /** Tasks one master's task stream may carry (production's unless given). */
  maxTasksPerStream?: number
  /** The node protocol's request deadline (production's unless given). */
  requestTimeoutMs?: number
  /** Called with every task stream the worker ended with an error (what a node logs as a warning). */
  onBadStream?: (remote: PeerId, err: Error) => void
}

/** A worker serving both protocols on a memory peer, and what a test looks at. */
export interface ProtocolWorker {
  peer: MemoryPeer
  worker: Worker
  store: TaskStore
  close: () => Promise<void>
}

/**
 * A worker (the simulated executor, a store in a temp dir) that serves /cloudai/tasks/1.0.0
 * and /cloudai/node/1.0.0 on a memory peer, as a node does (node.ts) but without membership
 * or libp2p: what the protocol tests talk to. Its Status names it and carries its load.
 */
export async function startProtocolWorker (network: MemoryNetwork, options: ProtocolWorkerOptions = {}): Promise<ProtocolWorker> {
  const dir = await tempDir('cloudai-protocol-worker-')
  const store = TaskStore.open(dir.path)
  const peer = await network.peer()
  const capacity = options.capacity ?? DEFAULT_CAPACITY
  const executor = options.executor ?? createSimulatedExecutor()
  const worker = new Worker({ executor, capacity, nodeId: peer.peerId.toString(), store, policy: options.policy })
  const host: NodeHost = {
    status: async () => ({
      name: options.name ?? 'worker',
      version: '0.0.0-test',
      capacity,
      allocated: worker.allocated(),
      running: worker.active().length,
      queued: worker.queued(),
      labels: options.labels ?? {},
      executorHealthy: true,
      executorDetail: 'simulated executor',
      storageEnforced: false,
      members: []
    }),
    attach: (remote, taskId) => worker.taskFor(taskId, remote.toString()),
    cancel: (remote, taskId) => worker.cancel(taskId, remote.toString())
  }
  await registerNodeProtocol(peer, host, { requestTimeoutMs: options.requestTimeoutMs })
  await registerTasksProtocol(peer, { host: worker, timeouts: options.tasksTimeouts, onBadStream: options.onBadStream, maxTasks: options.maxTasksPerStream })
  return {
    peer,
    worker,
    store,
    close: async () => {
      await worker.cancelAll()
      store.close()
      await dir.remove()
    }
  }
}
