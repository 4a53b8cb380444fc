/**
 * Automatic placement (`task auto`, docs/architecture.md, "Roles"), each figure beside a baseline
 * measured or computed in the same run (docs/architecture.md, "Tests"). In-process nodes on loopback (open,
 * no mDNS, `connect`ed to a hub; peer exchange does the rest), the simulated executor.
 *
 * 1. Placement latency: a 5-node mesh, one master and 4 workers (the master's own capacity
 *    is too small for the task, so `auto` always places it on a remote worker, as direct
 *    assignment does). 200 tasks per mode (50 with --quick), one at a time (each waited for to its
 *    end, so every worker is idle when the next comes), the two modes alternating and the
 *    direct one going round the 4 workers by name. The figure is the time from the call of
 *    `master.submit` to the worker's first event for the task (QUEUED/PULLING/…), taken on
 *    the worker itself (`onTaskState`, same process and clock). Medians.
 * 2. Makespan: MAKESPAN_TASKS simulated tasks of mixed length (20% `sleep:400`, 80%
 *    `sleep:20..100`) and mixed CPU (0.5/1/2), seeded, on 20 nodes of 4 CPU each, submitted
 *    through `auto` (spread) by 3 of them (taking turns, SUBMITS_IN_FLIGHT submit calls at a
 *    time per master, not waiting for the tasks). Makespan: from the first submit to the
 *    last terminal event (seen on the worker; the masters' stores must then hold every end,
 *    all SUCCEEDED, and how much later they did is in the note). The baseline is an
 *    omniscient placement computed offline for the same workload: a greedy list schedule on
 *    the same 20 × 4 CPU with exact CPU capacities, every task known and released at t = 0,
 *    each lasting its sleep plus the simulated executor's start cost, priority "longest
 *    first" (by duration, and by CPU × duration: the better of the two), each started on
 *    the best-fitting node as soon as one has room (backfilling allowed); it pays nothing
 *    for submission, messages or stores. A second row sends the same tasks in the same
 *    order by name to the nodes that schedule chose: placement perfect and free, the rest
 *    as for auto; it shows how much of the gap is the cost of running 2,000 tasks through
 *    20 nodes that share one event loop here, and auto / it what placement itself adds.
 *    3 rounds of each (1 with --quick), alternating, on the same mesh; medians are reported.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSimulatedExecutor, DEFAULT_START_MS } from '../../node/src/executor/simulated.ts'
import type { TaskRequest } from '../../node/src/master/master.ts'
import { createNode, type CloudaiNode, type NodeOptions } from '../../node/src/node.ts'
import { isTerminal, TaskState, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import type { ResourceAmounts } from '../../node/src/resources.ts'
import { taskFeed } from '../../node/src/store/feed.ts'
import { SIM_INBOUND_CONNECTION_THRESHOLD, simTaskRequest } from '../../test/helpers/sim.ts'
import type { BenchRow } from './report.ts'
import { median } from './task-latency.ts'
import { isQuick } from './quick.ts'
import { storeOf } from '../../test/helpers/internals.ts'

const GiB = 2 ** 30
/** How long a mesh may take until every master lists every other node as reachable. */
const CONVERGE_LIMIT_MS = 30_000
/** How often one node tries to connect to another while the mesh is set up. */
const CONNECT_ATTEMPTS = 3

/** Latency: timed tasks per mode, and untimed ones per mode before them. */
const LATENCY_NODES = 5
/** Read when the benchmark runs: run.ts sets --quick after the modules are loaded. */
const latencyTasks = (): number => isQuick() ? 30 : 200
const latencyWarmUp = (): number => isQuick() ? 5 : 20
/** One latency task, from submit to its terminal event at the master. */
const LATENCY_TASK_LIMIT_MS = 10_000
/** The master's capacity: below what the task needs, so `auto` never picks the master itself. */
const MASTER_CPU = 0.25
const LATENCY_REQUEST: TaskRequest = simTaskRequest(['exit:0'], { resources: { cpu: 0.5, memoryBytes: 64 * 2 ** 20, storageBytes: 2 ** 20, gpus: 0 } })

/** Makespan: the mesh, the workload and its bounds. */
const MAKESPAN_NODES = 20
const MAKESPAN_MASTERS = 3
const NODE_CPU = 4
const MAKESPAN_TASKS = 2_000
const LONG_SHARE = 0.2
const LONG_MS = 400
const SHORT_MIN_MS = 20
const SHORT_MAX_MS = 100
const CPU_CHOICES = [0.5, 1, 2]
const SEED = 20240605
const makespanRounds = (): number => isQuick() ? 1 : 3
/** Submit calls in flight per master (each returns once its worker has the task). */
const SUBMITS_IN_FLIGHT = 16
/** Every makespan round of both modes together (6 rounds of 10 to 30 s each on a shared 2-core machine), from the first submit of the first to the last end of the last. */
const MAKESPAN_LIMIT_MS = 240_000
/** The start cost the simulated executor pays per task (the image is "pulled" in 0 ms). */
const START_MS = DEFAULT_START_MS

function nodeCapacity (cpu: number): ResourceAmounts {
  return { cpu, memoryBytes: 64 * GiB, storageBytes: 1024 * GiB, gpus: 0 }
}

async function benchNode (root: string, name: string, cpu: number, extra: Partial<NodeOptions> = {}): Promise<CloudaiNode> {
  const dataDir = join(root, name)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  return await createNode({
    dataDir,
    name,
    open: true,
    mdnsTag: false,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    inboundConnectionThreshold: SIM_INBOUND_CONNECTION_THRESHOLD,
    capacity: nodeCapacity(cpu),
    executor: createSimulatedExecutor({ pullMs: 0, startMs: START_MS }),
    ...extra
  })
}

/** Start the nodes, connect each to the first and each master to all, and wait until every master lists every other node as reachable. */
async function meshUp (nodes: CloudaiNode[], masters: CloudaiNode[]): Promise<void> {
  await Promise.all(nodes.map(async node => { await node.start() }))
  const hub = nodes[0].info().addrs[0]
  // On a machine others share, a Status answer can miss its 5 s while twenty nodes shake hands at once: ask again.
  const connect = async (from: CloudaiNode, addr: string): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await from.connect(addr)
        return
      } catch (err) {
        if (attempt >= CONNECT_ATTEMPTS) throw err
      }
    }
  }
  await Promise.all(nodes.slice(1).map(async node => { await connect(node, hub) }))
  for (const master of masters) {
    await Promise.all(nodes.filter(node => node !== master && node !== nodes[0]).map(async node => { await connect(master, node.info().addrs[0]) }))
  }
  const deadline = Date.now() + CONVERGE_LIMIT_MS
  for (;;) {
    const missing = masters.flatMap(master => {
      const seen = new Set(master.peers().filter(peer => peer.reachable && peer.executorHealthy).map(peer => peer.name))
      return nodes.filter(node => node !== master && !seen.has(node.name)).map(node => `${master.name} → ${node.name}`)
    })
    if (missing.length === 0) return
    if (Date.now() > deadline) throw new Error(`the mesh did not converge within ${CONVERGE_LIMIT_MS} ms; not listed as reachable: ${missing.slice(0, 10).join(', ')}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** Read a task's events from `master`'s store until the terminal one, and return that; calls `onFirst` at the first. */
async function followToEnd (master: CloudaiNode, taskId: string, signal: AbortSignal, onFirst?: () => void): Promise<TaskEvent> {
  let last: TaskEvent | undefined
  for await (const item of taskFeed(storeOf(master), taskId, 1, { follow: true, signal })) {
    if (!('event' in item)) continue
    if (last == null) onFirst?.()
    last = item.event
  }
  if (last == null || !isTerminal(last.state)) throw new Error(`task ${taskId} did not end in time (${last == null ? 'no events' : `last ${last.state}`})`)
  return last
}

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

interface LatencySample {
  /** Submit called → the worker's first event for the task. */
  worker: number
  /** Submit called → submit returned. */
  returned: number
  /** Submit called → the master's store held the first event. */
  master: number
  /** CPU time of the whole process (all nodes) from submit to the task's end at the master. */
  cpu: number
}

async function latencyBench (root: string): Promise<BenchRow> {
  const firstAtWorker = new Map<string, number>()
  const onTaskState: NodeOptions['onTaskState'] = (task, state) => {
    if (!isTerminal(state) && state !== TaskState.PENDING && !firstAtWorker.has(task.spec.id)) firstAtWorker.set(task.spec.id, performance.now())
  }
  const nodes: CloudaiNode[] = []
  try {
    const master = await benchNode(root, 'lat-master', MASTER_CPU)
    nodes.push(master)
    for (let i = 1; i < LATENCY_NODES; i++) nodes.push(await benchNode(root, `lat-worker-${i}`, NODE_CPU, { onTaskState }))
    const workers = nodes.slice(1)
    await meshUp(nodes, [master])

    let turn = 0
    const one = async (mode: 'auto' | 'direct'): Promise<LatencySample> => {
      const target = mode === 'auto' ? 'auto' : workers[turn++ % workers.length].name
      const signal = AbortSignal.timeout(LATENCY_TASK_LIMIT_MS)
      const cpuBefore = process.cpuUsage()
      const start = performance.now()
      const submitted = await master.tasks.submit(target, LATENCY_REQUEST)
      const returned = performance.now() - start
      let seenAtMaster = Number.NaN
      const last = await followToEnd(master, submitted.taskId, signal, () => { seenAtMaster = performance.now() - start })
      if (last.state !== TaskState.SUCCEEDED) throw new Error(`${mode} task ${submitted.taskId} on ${submitted.peerName} ended ${last.state}: ${last.error?.message ?? ''}`)
      if (submitted.peerId === master.peerId.toString()) throw new Error(`${mode} task ${submitted.taskId} was placed on the master, whose capacity is too small for it`)
      const atWorker = firstAtWorker.get(submitted.taskId)
      if (atWorker == null) throw new Error(`${mode} task ${submitted.taskId} ended with no event seen on ${submitted.peerName}`)
      firstAtWorker.delete(submitted.taskId)
      const cpu = process.cpuUsage(cpuBefore)
      return { worker: atWorker - start, returned, master: seenAtMaster, cpu: (cpu.user + cpu.system) / 1000 }
    }
    for (let i = 0; i < latencyWarmUp(); i++) { await one('auto'); await one('direct') }
    const samples: Record<'auto' | 'direct', LatencySample[]> = { auto: [], direct: [] }
    for (let i = 0; i < latencyTasks(); i++) {
      // Alternate which goes first, so both share the machine's noise alike.
      const order: Array<'auto' | 'direct'> = i % 2 === 0 ? ['auto', 'direct'] : ['direct', 'auto']
      for (const mode of order) samples[mode].push(await one(mode))
    }
    const med = (mode: 'auto' | 'direct', key: keyof LatencySample): string => median(samples[mode].map(s => s[key])).toFixed(2)
    const p90 = (mode: 'auto' | 'direct'): string => percentile(samples[mode].map(s => s.worker), 0.9).toFixed(2)
    return {
      name: `placement latency: task auto, submit → first event at the worker (${LATENCY_NODES} nodes)`,
      value: median(samples.auto.map(s => s.worker)),
      unit: 'ms',
      baseline: 'direct assignment by name (same mesh, same run)',
      baselineValue: median(samples.direct.map(s => s.worker)),
      note: `median of ${latencyTasks()} sequential exit:0 tasks each, alternating; p90 auto ${p90('auto')} / direct ${p90('direct')} ms; ` +
        `submit returned ${med('auto', 'returned')} / ${med('direct', 'returned')} ms; first event in the master's store ${med('auto', 'master')} / ${med('direct', 'master')} ms; ` +
        `process CPU per task, submit to end, all nodes ${med('auto', 'cpu')} / ${med('direct', 'cpu')} ms`
    }
  } finally {
    for (const node of nodes) await node.stop()
  }
}

/** A small seeded generator (mulberry32), so every run and the offline schedule see the same workload. */
function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface WorkItem {
  cpu: number
  sleepMs: number
}

function workload (): WorkItem[] {
  const random = seeded(SEED)
  return Array.from({ length: MAKESPAN_TASKS }, () => {
    const sleepMs = random() < LONG_SHARE ? LONG_MS : SHORT_MIN_MS + Math.floor(random() * (SHORT_MAX_MS - SHORT_MIN_MS + 1))
    const cpu = CPU_CHOICES[Math.floor(random() * CPU_CHOICES.length)]
    return { cpu, sleepMs }
  })
}

interface Schedule {
  makespanMs: number
  /** Per task: the node it runs on and when it starts. */
  slots: Array<{ node: number, startMs: number }>
}

/**
 * A greedy list schedule of `jobs` on `nodes` nodes of `capacity` CPU, all released at 0:
 * at each moment, walk the tasks not yet started in `order` and start each on the node that
 * fits it most tightly, if one has room now. CPU is counted in half-CPU units, so the sums
 * are exact.
 */
function listSchedule (jobs: Array<{ cpu: number, durationMs: number }>, order: number[], nodes: number, capacity: number): Schedule {
  const units = (cpu: number): number => Math.round(cpu * 2)
  const free = Array.from({ length: nodes }, () => units(capacity))
  const running: Array<{ end: number, node: number, units: number }> = []
  const slots: Schedule['slots'] = jobs.map(() => ({ node: -1, startMs: 0 }))
  let pending = [...order]
  let now = 0
  let makespanMs = 0
  for (let guard = 0; pending.length > 0; guard++) {
    if (guard > 10 * jobs.length + 10) throw new Error('the offline schedule did not converge')
    const rest: number[] = []
    let maxFree = Math.max(...free)
    for (const index of pending) {
      const need = units(jobs[index].cpu)
      if (need > maxFree) { rest.push(index); continue }
      let best = -1
      for (let node = 0; node < nodes; node++) if (free[node] >= need && (best < 0 || free[node] < free[best])) best = node
      free[best] -= need
      const end = now + jobs[index].durationMs
      running.push({ end, node: best, units: need })
      slots[index] = { node: best, startMs: now }
      makespanMs = Math.max(makespanMs, end)
      maxFree = Math.max(...free)
    }
    pending = rest
    if (pending.length === 0) break
    if (running.length === 0) throw new Error('a task fits on no node')
    // Advance to the next end, and free everything that ends then.
    now = Math.min(...running.map(r => r.end))
    for (let i = running.length - 1; i >= 0; i--) {
      if (running[i].end <= now) {
        free[running[i].node] += running[i].units
        running.splice(i, 1)
      }
    }
  }
  return { makespanMs, slots }
}

interface Omniscient extends Schedule {
  lowerBoundMs: number
  rule: string
}

function omniscient (items: WorkItem[]): Omniscient {
  const jobs = items.map(item => ({ cpu: item.cpu, durationMs: item.sleepMs + START_MS }))
  const indices = jobs.map((_, i) => i)
  const rules: Record<string, number[]> = {
    'longest first': [...indices].sort((a, b) => jobs[b].durationMs - jobs[a].durationMs || jobs[b].cpu - jobs[a].cpu),
    'largest CPU × time first': [...indices].sort((a, b) => jobs[b].durationMs * jobs[b].cpu - jobs[a].durationMs * jobs[a].cpu || jobs[b].durationMs - jobs[a].durationMs)
  }
  let best: Omniscient | undefined
  const work = jobs.reduce((sum, job) => sum + job.cpu * job.durationMs, 0)
  const lowerBoundMs = Math.max(work / (MAKESPAN_NODES * NODE_CPU), ...jobs.map(job => job.durationMs))
  for (const [rule, order] of Object.entries(rules)) {
    const schedule = listSchedule(jobs, order, MAKESPAN_NODES, NODE_CPU)
    if (best == null || schedule.makespanMs < best.makespanMs) best = { ...schedule, lowerBoundMs, rule }
  }
  return best!
}

/** Where each task goes: `auto` for all, or by name to the node the offline schedule chose. */
type Targets = { auto: true } | { names: string[] }

interface Round {
  makespanMs: number
  submitMs: number
  /** After the last end at a worker, until the masters' stores held every task's end. */
  masterLagMs: number
  /** The process's CPU time (user + system) over the round's wall time: 1 is one core kept busy. */
  cpuShare: number
  /** From the first submit until the masters' stores held every end. */
  wallMs: number
  /** Tasks each node ran (by name). */
  perNode: Map<string, number>
  /** Attempts beyond the first (a worker refused and auto tried the next candidate). */
  extraAttempts: number
  /** The most CPU any worker held at once, as its own events show. */
  maxHeldCpu: number
}

/**
 * What the workers do, from their own state changes (`onTaskState`, in this process): the
 * CPU each holds (from a task's first PULLING, when admission reserved it, to its end), the
 * most any held at once, and how many tasks ended and when the last did. Watching there,
 * rather than following 2,000 feeds, keeps the benchmark's own cost out of the figure.
 */
class WorkerWatch {
  private readonly held = new Map<string, number>()
  private readonly admitted = new Set<string>()
  private most = 0
  ended = 0
  lastEndAt = 0
  private wake?: () => void

  hook (nodeName: string): NodeOptions['onTaskState'] {
    return (task, state) => {
      const id = task.spec.id
      if (state === TaskState.PULLING && !this.admitted.has(id)) {
        this.admitted.add(id)
        const now = (this.held.get(nodeName) ?? 0) + task.spec.resources.cpu
        this.held.set(nodeName, now)
        this.most = Math.max(this.most, now)
      } else if (isTerminal(state)) {
        if (this.admitted.delete(id)) this.held.set(nodeName, (this.held.get(nodeName) ?? 0) - task.spec.resources.cpu)
        this.ended++
        this.lastEndAt = performance.now()
        this.wake?.()
      }
    }
  }

  reset (): void {
    this.most = 0
    this.ended = 0
    this.lastEndAt = 0
  }

  max (): number { return this.most }

  /** Resolves once `count` tasks have ended since the reset; rejects when `signal` aborts first. */
  async endedAll (count: number, signal: AbortSignal): Promise<void> {
    while (this.ended < count) {
      if (signal.aborted) throw new Error(`${this.ended} of ${count} tasks ended`)
      await new Promise<void>(resolve => {
        const done = (): void => { this.wake = undefined; signal.removeEventListener('abort', done); resolve() }
        this.wake = done
        signal.addEventListener('abort', done, { once: true })
      })
    }
  }
}

/**
 * Submit the tasks in `order` (the masters take turns, SUBMITS_IN_FLIGHT calls in flight
 * each, not waiting for the tasks), wait until every one has ended at its worker and its
 * master has recorded that, and time it from the first submit to the last end.
 */
async function makespanRound (nodes: CloudaiNode[], masters: CloudaiNode[], items: WorkItem[], order: number[], targets: Targets, watch: WorkerWatch, signal: AbortSignal): Promise<Round> {
  const requests = items.map(item => simTaskRequest([`sleep:${item.sleepMs}`, 'exit:0'], { resources: { cpu: item.cpu, memoryBytes: 64 * 2 ** 20, storageBytes: 2 ** 20, gpus: 0 } }))
  const tooLong = (what: string): Error => new Error(`the makespan rounds took longer than ${MAKESPAN_LIMIT_MS} ms (${what})`)
  watch.reset()
  const perNode = new Map(nodes.map(node => [node.name, 0]))
  const submitted: Array<{ master: CloudaiNode, taskId: string }> = []
  let failed = false
  const cpuBefore = process.cpuUsage()
  const start = performance.now()
  await Promise.all(masters.map(async (master, m) => {
    const mine = order.filter((_, k) => k % masters.length === m)
    let next = 0
    await Promise.all(Array.from({ length: SUBMITS_IN_FLIGHT }, async () => {
      while (next < mine.length && !failed) {
        if (signal.aborted) throw tooLong(`while submitting, ${submitted.length} of ${order.length} sent`)
        const index = mine[next++]
        try {
          const target = 'auto' in targets ? 'auto' : targets.names[index]
          const task = await master.tasks.submit(target, requests[index], { policy: 'spread' })
          perNode.set(task.peerName, (perNode.get(task.peerName) ?? 0) + 1)
          submitted.push({ master, taskId: task.taskId })
        } catch (err) {
          failed = true
          throw err
        }
      }
    }))
  }))
  const submitMs = performance.now() - start
  await watch.endedAll(order.length, signal).catch((err: Error) => { throw tooLong(err.message) })
  const lastEndAt = watch.lastEndAt
  // Each master's store holds every end (its followers record what the workers streamed).
  for (let open = Infinity; open > 0;) {
    open = masters.reduce((sum, master) => sum + storeOf(master).unfinished('submitted').length, 0)
    if (open === 0) break
    if (signal.aborted) throw tooLong(`${open} tasks ended at their workers but not yet in their masters' stores`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  const masterLagMs = performance.now() - lastEndAt
  const wallMs = performance.now() - start
  const cpu = process.cpuUsage(cpuBefore)
  let extraAttempts = 0
  for (const { master, taskId } of submitted) {
    const record = master.tasks.record(taskId, 'submitted')
    if (record?.state !== TaskState.SUCCEEDED) throw new Error(`task ${taskId} ended ${record?.state ?? 'unknown'}, not SUCCEEDED: ${record?.errorMessage ?? ''}`)
    extraAttempts += record.attempt - 1
  }
  return { makespanMs: lastEndAt - start, submitMs, masterLagMs, cpuShare: (cpu.user + cpu.system) / 1000 / wallMs, wallMs, perNode, extraAttempts, maxHeldCpu: watch.max() }
}

async function makespanBench (root: string): Promise<BenchRow[]> {
  const items = workload()
  const offline = omniscient(items)
  const watch = new WorkerWatch()
  const nodes: CloudaiNode[] = []
  try {
    for (let i = 0; i < MAKESPAN_NODES; i++) {
      const name = `ms-node-${String(i).padStart(2, '0')}`
      nodes.push(await benchNode(root, name, NODE_CPU, { onTaskState: watch.hook(name) }))
    }
    // Masters away from the hub (node 0), so the hub is not also a submitter.
    const masters = nodes.slice(1, 1 + MAKESPAN_MASTERS)
    await meshUp(nodes, masters)

    // Both get the tasks in the workload's (random) order; the oracle sends each to the node the offline schedule put it on.
    const inOrder = items.map((_, i) => i)
    const oracle: Targets = { names: offline.slots.map(slot => nodes[slot.node].name) }
    const signal = AbortSignal.timeout(MAKESPAN_LIMIT_MS)
    const rounds: Record<'auto' | 'oracle', Round[]> = { auto: [], oracle: [] }
    for (let round = 0; round < makespanRounds(); round++) {
      // Alternate which goes first, so both share the machine's noise alike.
      const modes: Array<'auto' | 'oracle'> = round % 2 === 0 ? ['auto', 'oracle'] : ['oracle', 'auto']
      for (const mode of modes) {
        rounds[mode].push(mode === 'auto'
          ? await makespanRound(nodes, masters, items, inOrder, { auto: true }, watch, signal)
          : await makespanRound(nodes, masters, items, inOrder, oracle, watch, signal))
      }
    }

    const maxHeld = Math.max(...[...rounds.auto, ...rounds.oracle].map(r => r.maxHeldCpu))
    if (maxHeld > NODE_CPU + 1e-9) throw new Error(`a worker held ${maxHeld} CPU at once, over its ${NODE_CPU}`)
    const work = items.reduce((sum, item) => sum + item.cpu * (item.sleepMs + START_MS), 0)
    const long = items.filter(item => item.sleepMs === LONG_MS).length
    const summary = (mode: 'auto' | 'oracle'): { makespan: number, text: string } => {
      const makespan = median(rounds[mode].map(r => r.makespanMs))
      const counts = rounds[mode].flatMap(r => [...r.perNode.values()])
      const mean = MAKESPAN_TASKS / MAKESPAN_NODES
      return {
        makespan,
        text: `median of ${makespanRounds()} rounds (${rounds[mode].map(r => (r.makespanMs / 1000).toFixed(2)).join(', ')} s); ` +
          `submitting took ${rounds[mode].map(r => (r.submitMs / 1000).toFixed(2)).join(', ')} s (${MAKESPAN_MASTERS} masters × ${SUBMITS_IN_FLIGHT} calls in flight); ` +
          `the masters' stores had every end ${median(rounds[mode].map(r => r.masterLagMs)).toFixed(0)} ms after the last one (median); ` +
          `process CPU time ${rounds[mode].map(r => `${(r.cpuShare * r.wallMs / 1000).toFixed(1)} s (${(r.cpuShare * 100).toFixed(0)}% of a core)`).join(', ')}; ` +
          `cluster CPU utilization ${(work / (MAKESPAN_NODES * NODE_CPU * makespan) * 100).toFixed(0)}%; ` +
          `tasks per node ${Math.min(...counts)}..${Math.max(...counts)} (busiest ${(Math.max(...counts) / mean).toFixed(2)} × mean)`
      }
    }
    const auto = summary('auto')
    const placed = summary('oracle')
    const baseline = `omniscient offline list schedule (${offline.rule})`
    const workloadText = `${MAKESPAN_TASKS} tasks, seed ${SEED}: ${long} × sleep:${LONG_MS}, ${items.length - long} × sleep:${SHORT_MIN_MS}..${SHORT_MAX_MS}, CPU 0.5/1/2 (+${START_MS} ms start each)`
    return [
      {
        name: `makespan: ${MAKESPAN_TASKS.toLocaleString('en')} mixed tasks via task auto (spread), ${MAKESPAN_NODES} nodes × ${NODE_CPU} CPU in 1 process, ${MAKESPAN_MASTERS} masters`,
        value: auto.makespan / 1000,
        unit: 's',
        baseline,
        baselineValue: offline.makespanMs / 1000,
        note: `${auto.text}; ${workloadText}; the baseline knows every duration, releases all at t=0 and places each (longest first, best fit, backfill, exact CPU) ` +
          `with no submit, message or store cost; lower bound (CPU·time / ${MAKESPAN_NODES * NODE_CPU} CPU) ${(offline.lowerBoundMs / 1000).toFixed(2)} s; ` +
          `auto re-placed after a refusal ${rounds.auto.map(r => r.extraAttempts).join('/')}; most CPU a node held ${maxHeld}`
      },
      {
        name: 'makespan: the same tasks, same order, each sent by name to the node the omniscient schedule chose',
        value: placed.makespan / 1000,
        unit: 's',
        baseline,
        baselineValue: offline.makespanMs / 1000,
        note: `${placed.text}; the omniscient choice of node at no cost (not its timing: each worker runs its share first come, first served), ` +
          `so the gap to the baseline is the cost of running the tasks here (submits, streams, stores of ${MAKESPAN_NODES} nodes on one event loop), ` +
          `and auto / this = ${(auto.makespan / placed.makespan).toFixed(2)}x is what automatic placement adds`
      }
    ]
  } finally {
    for (const node of nodes) await node.stop()
  }
}

export async function placementBench (): Promise<BenchRow[]> {
  const root = await mkdtemp(join(tmpdir(), 'cloudai-bench-placement-'))
  try {
    const latency = await latencyBench(join(root, 'latency'))
    const makespan = await makespanBench(join(root, 'makespan'))
    return [latency, ...makespan]
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}
