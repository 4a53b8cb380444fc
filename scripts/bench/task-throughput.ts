/**
 * Tasks per second from submit to terminal state, and what they leave in the task stores,
 * each beside a baseline measured in the same run (docs/architecture.md, "Tests").
 *
 * Three in-process paths, all with the simulated executor (pull and start 0 ms, the script
 * `exit:0`, so the figure is the node's own cost per task), TASKS tasks each, IN_FLIGHT at
 * a time, each waited for through its store's feed (`taskFeed`, as `cloudai task` follows):
 * - over libp2p: a master node submits by name to a worker node it `connect`ed to (two
 *   createNode nodes on loopback, open, no mDNS);
 * - task self: a third node submits to itself (master and local worker, no network);
 * - the baseline: a bare Worker on its own TaskStore, fed the same specs (no master, no
 *   network): the floor every task pays.
 * Each round runs the three in an order that rotates from round to round; medians are
 * reported. After the rounds the nodes stop, each store's WAL is checkpointed, and the
 * worker's and the master's `cloudai.db` + `-wal` are measured per 1,000 tasks, beside the
 * size of an empty store.
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { DatabaseSync } from 'node:sqlite'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSimulatedExecutor } from '../../node/src/executor/simulated.ts'
import { newTaskId, type TaskRequest } from '../../node/src/master/master.ts'
import { createNode, type CloudaiNode } from '../../node/src/node.ts'
import { DEFAULT_POLICY, type WorkerPolicy } from '../../node/src/worker/policy.ts'

/** The figure is the protocol's, admission's and the store's, not the per-peer rate limit's. */
const UNLIMITED: WorkerPolicy = { ...DEFAULT_POLICY, submissions: { perSecond: 1e9, burst: 1e9 } }
import { encodeSpec, TaskState, validateSpec, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import type { ResourceAmounts } from '../../node/src/resources.ts'
import { taskFeed } from '../../node/src/store/feed.ts'
import { STORE_FILE, TaskStore } from '../../node/src/store/store.ts'
import { Worker } from '../../node/src/worker/worker.ts'
import { simTaskRequest } from '../../test/helpers/sim.ts'
import { isQuick } from './quick.ts'
import type { BenchRow } from './report.ts'
import { median } from './task-latency.ts'
import { storeOf } from '../../test/helpers/internals.ts'

/** Timed tasks per path per round. */
const TASKS = 2_000
/** Tasks submitted and not yet seen ending, at most. */
const IN_FLIGHT = 64
/** Untimed tasks per path before the rounds (JIT, first streams, the simulated first pull). */
const WARM_UP_TASKS = 200
/** `--quick`: one round. */
const ROUNDS = isQuick() ? 1 : 3
/** No single path's batch of tasks may take longer than this. */
const RUN_LIMIT_MS = 120_000
/** How long the master may take to list the worker as reachable after `connect`. */
const CONNECT_LIMIT_MS = 15_000
/** Room for every task in flight: admission never queues, so the figure is not the ledger's. */
const CAPACITY: ResourceAmounts = { cpu: 4096, memoryBytes: 2 ** 40, storageBytes: 2 ** 40, gpus: 0 }
const KiB = 1024

const REQUEST: TaskRequest = simTaskRequest(['exit:0'])

interface BatchResult {
  tasksPerSecond: number
  /** Submit until the terminal event was read from the store, per task. */
  medianLatencyMs: number
}

/**
 * Run `count` tasks, `IN_FLIGHT` at a time: `submit` starts one and returns its id, then its
 * events are read from `store` until the terminal one, which must be SUCCEEDED.
 */
async function batch (count: number, store: TaskStore, submit: () => Promise<string>): Promise<BatchResult> {
  const signal = AbortSignal.timeout(RUN_LIMIT_MS)
  const latencies: number[] = []
  let next = 0
  let failed = false
  const lane = async (): Promise<void> => {
    while (next < count && !failed) {
      next++
      const start = performance.now()
      let taskId: string
      try {
        taskId = await submit()
      } catch (err: any) {
        throw new Error(`submit failed after ${latencies.length} of ${count} tasks ended: ${err?.message ?? err}`, { cause: err })
      }
      let last: TaskEvent | undefined
      for await (const item of taskFeed(store, taskId, 1, { follow: true, signal })) {
        if ('event' in item) last = item.event
      }
      if (signal.aborted) throw new Error(`${count} tasks did not end within ${RUN_LIMIT_MS} ms`)
      if (last?.state !== TaskState.SUCCEEDED) throw new Error(`task ${taskId} ended ${last?.state ?? 'without events'}, not SUCCEEDED: ${last?.error?.message ?? ''}`)
      latencies.push(performance.now() - start)
    }
  }
  const start = performance.now()
  // Every lane stops at the first failure, and all have stopped before it is thrown.
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(IN_FLIGHT, count) }, async () => {
    await lane().catch((err: unknown) => { failed = true; throw err })
  }))
  const failure = lanes.find(lane => lane.status === 'rejected')
  if (failure != null) throw failure.reason
  const ms = performance.now() - start
  return { tasksPerSecond: count / (ms / 1000), medianLatencyMs: median(latencies) }
}

/** A bare Worker on its own store: the baseline path. */
function bareWorker (dataDir: string): { store: TaskStore, submit: () => Promise<string> } {
  const store = TaskStore.open(dataDir)
  const worker = new Worker({ executor: createSimulatedExecutor({ pullMs: 0, startMs: 0 }), capacity: CAPACITY, nodeId: 'bench-bare-worker', store, policy: UNLIMITED })
  return {
    store,
    submit: async () => {
      // As the master makes a spec (master.ts submit): a fresh id, encoded and validated.
      const spec = validateSpec(encodeSpec({ ...REQUEST, id: newTaskId(), attempt: 1 }))
      worker.submit(spec, 'bench-master', 'bench-master')
      return spec.id
    }
  }
}

async function benchNode (root: string, name: string): Promise<CloudaiNode> {
  const dataDir = join(root, name)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  return await createNode({
    policy: UNLIMITED,
    dataDir,
    name,
    open: true,
    mdnsTag: false,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    capacity: CAPACITY,
    executor: createSimulatedExecutor({ pullMs: 0, startMs: 0 })
  })
}

async function waitReachable (master: CloudaiNode, workerName: string): Promise<void> {
  const deadline = Date.now() + CONNECT_LIMIT_MS
  while (!master.peers().some(peer => peer.name === workerName && peer.reachable)) {
    if (Date.now() > deadline) throw new Error(`${master.name} does not list ${workerName} as reachable ${CONNECT_LIMIT_MS} ms after connect`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

async function fileBytes (path: string): Promise<number> {
  return await stat(path).then(s => s.size, () => 0)
}

/** `cloudai.db` and `cloudai.db-wal` as they are on disk now. */
async function liveSize (dataDir: string): Promise<{ dbBytes: number, walBytes: number }> {
  const path = join(dataDir, STORE_FILE)
  return { dbBytes: await fileBytes(path), walBytes: await fileBytes(`${path}-wal`) }
}

interface StoreSize {
  /** While the node ran, after its last task (WAL not checkpointed). */
  live: { dbBytes: number, walBytes: number }
  /** After the node closed it and a TRUNCATE checkpoint: the database file, WAL (empty) included. */
  checkpointedBytes: number
  tasks: number
  events: number
}

/** The size of a closed store once its WAL is checkpointed into the database, and what it holds. */
async function storeSize (dataDir: string, live: StoreSize['live']): Promise<StoreSize> {
  const path = join(dataDir, STORE_FILE)
  const db = new DatabaseSync(path)
  let tasks: number
  let events: number
  try {
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    tasks = (db.prepare('SELECT COUNT(DISTINCT task_id) AS n FROM tasks').get() as { n: number }).n
    events = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n
  } finally {
    db.close()
  }
  return { live, checkpointedBytes: await fileBytes(path) + await fileBytes(`${path}-wal`), tasks, events }
}

function storeRow (role: string, size: StoreSize, empty: number): BenchRow {
  return {
    name: `${role} store (cloudai.db + -wal, checkpointed) per 1,000 tasks`,
    value: (size.checkpointedBytes - empty) / size.tasks * 1000 / KiB,
    unit: 'KiB',
    baseline: 'empty store (checkpointed)',
    baselineValue: empty / KiB,
    note: `${size.tasks} tasks, ${(size.events / size.tasks).toFixed(1)} events each: ${(size.checkpointedBytes / KiB).toFixed(0)} KiB; ` +
      `while running db ${(size.live.dbBytes / KiB).toFixed(0)} KiB + wal ${(size.live.walBytes / KiB).toFixed(0)} KiB`
  }
}

export async function taskThroughputBench (): Promise<BenchRow[]> {
  const root = await mkdtemp(join(tmpdir(), 'cloudai-bench-throughput-'))
  const nodes: CloudaiNode[] = []
  let bare: ReturnType<typeof bareWorker> | undefined
  try {
    const emptyDir = join(root, 'empty')
    await mkdir(emptyDir, { recursive: true })
    TaskStore.open(emptyDir).close()
    const empty = (await storeSize(emptyDir, await liveSize(emptyDir))).checkpointedBytes

    const master = await benchNode(root, 'bench-master')
    nodes.push(master)
    const worker = await benchNode(root, 'bench-worker')
    nodes.push(worker)
    const solo = await benchNode(root, 'bench-solo')
    nodes.push(solo)
    for (const node of nodes) await node.start()
    await master.connect(worker.info().addrs[0])
    await waitReachable(master, worker.name)
    const bareDir = join(root, 'bare')
    await mkdir(bareDir, { recursive: true })
    bare = bareWorker(bareDir)
    const bareWorkerPath = bare

    const paths = {
      remote: async (count: number) => await batch(count, storeOf(master), async () => (await master.tasks.submit(worker.name, REQUEST)).taskId),
      self: async (count: number) => await batch(count, storeOf(solo), async () => (await solo.tasks.submit('self', REQUEST)).taskId),
      bare: async (count: number) => await batch(count, bareWorkerPath.store, bareWorkerPath.submit)
    }
    const results: Record<keyof typeof paths, BatchResult[]> = { remote: [], self: [], bare: [] }
    const names = Object.keys(paths) as Array<keyof typeof paths>
    for (const name of names) await paths[name](WARM_UP_TASKS)
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(round + i) % names.length]
        results[name].push(await paths[name](TASKS))
      }
    }
    const rate = (name: keyof typeof paths): number => median(results[name].map(r => r.tasksPerSecond))
    const latency = (name: keyof typeof paths): string => `${median(results[name].map(r => r.medianLatencyMs)).toFixed(1)} ms`

    const workerDir = join(root, 'bench-worker')
    const masterDir = join(root, 'bench-master')
    const live = { worker: await liveSize(workerDir), master: await liveSize(masterDir) }
    for (const node of nodes.splice(0)) await node.stop()
    bare.store.close()
    const baseline = 'bare Worker + TaskStore (no master, no network)'
    const common = `median of ${ROUNDS} × ${TASKS} tasks, ${IN_FLIGHT} in flight, simulated exit:0 (pull/start 0 ms)`
    return [
      {
        name: 'task throughput: master → worker over libp2p (2 nodes, 1 process)',
        value: rate('remote'),
        unit: 'tasks/s',
        baseline,
        baselineValue: rate('bare'),
        note: `${common}; median submit→terminal ${latency('remote')} (baseline ${latency('bare')})`
      },
      {
        name: 'task throughput: task self (master + local worker)',
        value: rate('self'),
        unit: 'tasks/s',
        baseline,
        baselineValue: rate('bare'),
        note: `${common}; median submit→terminal ${latency('self')}`
      },
      storeRow('worker', await storeSize(workerDir, live.worker), empty),
      storeRow('master', await storeSize(masterDir, live.master), empty)
    ]
  } finally {
    for (const node of nodes) await node.stop()
    bare?.store.close()
    await rm(root, { recursive: true, force: true })
  }
}
