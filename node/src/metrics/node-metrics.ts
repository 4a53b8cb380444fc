import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { conventionalGauges } from './exposition.ts'
import type { AuditEntry } from '../audit.ts'
import { isTerminal, LogStream, TransferDirection } from '../protocol/task-messages.ts'
import { outputPieces } from '../protocol/task-output.ts'
import type { PeerStatus } from '../protocol/node-messages.ts'
import type { PeerView } from '../mesh/peer-view.ts'
import type { RecordedEvent } from '../store/store.ts'
import type { TaskHistory } from '../tasks/task-history.ts'

/** What the metrics read from a running node at each scrape. */
export interface MetricsSource {
  status: () => PeerStatus
  peers: () => PeerView[]
  tasks: TaskHistory
}

/**
 * Task durations from seconds to a day: short test tasks and long training runs both land in
 * a bucket that tells them apart.
 */
const DURATION_BUCKETS_S = [0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600]

/** A peer's health as one label value: a small fixed set, never a peer's own text. */
function healthOf (peer: PeerView): 'reachable' | 'unreachable' | 'engine_down' {
  if (!peer.reachable) return 'unreachable'
  return peer.executorHealthy ? 'reachable' : 'engine_down'
}

/** Transfers followed at once for the file-bytes counter: far more than a worker runs tasks. */
const MAX_TRANSFERS_FOLLOWED = 4096

const RESOURCES = [['cpu', 'cpu'], ['memory_bytes', 'memoryBytes'], ['storage_bytes', 'storageBytes'], ['gpus', 'gpus']] as const

/**
 * The daemon's Prometheus metrics, on registries of their own (never prom-client's global
 * one): ours, and libp2p's beside them (`libp2p`, given to the mesh). Label values come from
 * small fixed sets (roles, states, error codes, resource names): never a task id or a peer's
 * name, so a busy node's series stay few.
 */
export class NodeMetrics {
  readonly registry = new Registry()
  readonly libp2p = new Registry()
  private readonly finished: Counter<'role' | 'state'>
  private readonly transitions: Counter<'role' | 'state'>
  private readonly duration: Histogram<'role' | 'state'>
  private readonly outputBytes: Counter<'role' | 'stream'>
  private readonly imageBytes: Counter
  private readonly fileBytes: Counter<'direction'>
  /** Per running task and direction, the bytes its transfer events had reported (they are cumulative). */
  private readonly fileBytesSeen = new Map<string, number>()
  private readonly refusals: Counter<'action' | 'reason'>
  private readonly dashboardClients: Gauge
  private source?: MetricsSource
  private unwatch?: () => void

  constructor () {
    const registers = [this.registry]
    const source = (): MetricsSource | undefined => this.source
    // The process, in the standard names (prom-client's own set includes gauges named like counters, which promtool refuses).
    new Gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes', registers, collect () { this.set(process.memoryUsage.rss()) } })
    new Gauge({ name: 'nodejs_heap_used_bytes', help: 'V8 heap in use, in bytes', registers, collect () { this.set(process.memoryUsage().heapUsed) } })
    new Counter({ name: 'process_cpu_seconds_total', help: 'User and system CPU time spent, in seconds', registers, collect () { const used = process.cpuUsage(); this.reset(); this.inc((used.user + used.system) / 1e6) } })
    new Gauge({ name: 'process_start_time_seconds', help: 'When the process started, in seconds since the Unix epoch', registers }).set(Math.round(Date.now() / 1000 - process.uptime()))
    this.finished = new Counter({ name: 'cloudai_tasks_finished_total', help: 'Tasks that reached a terminal state, by role (submitted: this node sent it; executed: it ran here) and state', labelNames: ['role', 'state'], registers })
    this.transitions = new Counter({ name: 'cloudai_task_state_changes_total', help: 'State changes of tasks, by role and the state entered', labelNames: ['role', 'state'], registers })
    this.duration = new Histogram({ name: 'cloudai_task_duration_seconds', help: 'From a task\'s start (RUNNING) to its end, by role and terminal state', labelNames: ['role', 'state'], buckets: DURATION_BUCKETS_S, registers })
    this.outputBytes = new Counter({ name: 'cloudai_task_output_bytes_total', help: 'Bytes of task output (stdout, stderr) recorded, by role', labelNames: ['role', 'stream'], registers })
    this.imageBytes = new Counter({ name: 'cloudai_image_bytes_received_total', help: 'Bytes of images this worker received from peers (the layers its engine lacked)', registers })
    this.fileBytes = new Counter({ name: 'cloudai_task_file_bytes_total', help: 'Bytes of task files this worker moved: inputs put into containers, outputs collected from them', labelNames: ['direction'], registers })
    this.refusals = new Counter({ name: 'cloudai_refusals_total', help: 'Connections and streams this node refused, by what was asked and why', labelNames: ['action', 'reason'], registers })
    this.dashboardClients = new Gauge({ name: 'cloudai_dashboard_live_clients', help: 'Dashboard pages following the live feed now', registers })
    new Gauge({
      name: 'cloudai_tasks',
      help: 'Tasks in the history, by role and state',
      labelNames: ['role', 'state'],
      registers,
      collect () {
        this.reset()
        for (const row of source()?.tasks.countByRoleAndState() ?? []) this.set({ role: row.role, state: row.state }, row.count)
      }
    })
    const statusGauge = (name: string, help: string, read: (status: PeerStatus) => number): void => {
      new Gauge({ name, help, registers, collect () { const status = source()?.status(); if (status != null) this.set(read(status)) } })
    }
    statusGauge('cloudai_queue_length', 'Tasks waiting in this worker\'s queue', status => status.queued)
    statusGauge('cloudai_running_tasks', 'Tasks running on this worker', status => status.running)
    statusGauge('cloudai_executor_healthy', '1 when this node\'s container engine answers', status => status.executorHealthy ? 1 : 0)
    for (const [unit, field] of RESOURCES) {
      statusGauge(`cloudai_capacity_${unit}`, `What this worker offers (${unit})`, status => status.capacity[field])
      statusGauge(`cloudai_allocated_${unit}`, `What this worker's tasks hold (${unit})`, status => status.allocated[field])
    }
    new Gauge({
      name: 'cloudai_peers',
      help: 'Members of the mesh this node knows, by health',
      labelNames: ['health'],
      registers,
      collect () {
        const counts = { reachable: 0, unreachable: 0, engine_down: 0 }
        for (const peer of source()?.peers() ?? []) counts[healthOf(peer)]++
        for (const [health, count] of Object.entries(counts)) this.set({ health }, count)
      }
    })
  }

  /** Read `source` at each scrape, and count what its store records from now on. */
  attach (source: MetricsSource): void {
    this.unwatch?.()
    this.source = source
    this.unwatch = source.tasks.watchEvents(recorded => { this.onEvent(source.tasks, recorded) })
  }

  stop (): void {
    this.unwatch?.()
    this.unwatch = undefined
  }

  private onEvent (tasks: TaskHistory, { role, event, inserted, moved }: RecordedEvent): void {
    if (event.transfer != null && inserted && role === 'executed') this.countFileBytes(event.taskId, event.transfer.direction, event.transfer.doneBytes)
    if (event.log != null) {
      if (!inserted) return
      for (const piece of outputPieces(event.log)) this.outputBytes.inc({ role, stream: piece.stream === LogStream.STDERR ? 'stderr' : 'stdout' }, piece.data.length)
      return
    }
    if (!moved) return
    this.transitions.inc({ role, state: event.state })
    if (!isTerminal(event.state)) return
    for (const direction of [TransferDirection.INPUTS, TransferDirection.OUTPUTS]) this.fileBytesSeen.delete(`${direction}/${event.taskId}`)
    this.finished.inc({ role, state: event.state })
    const startedMs = tasks.record(event.taskId, role)?.startedMs
    if (startedMs != null) this.duration.observe({ role, state: event.state }, Math.max(0, event.timeMs - startedMs) / 1000)
  }

  /** Transfer events report a task's bytes so far: count what is new since its last one. */
  private countFileBytes (taskId: string, direction: TransferDirection, doneBytes: number): void {
    const key = `${direction}/${taskId}`
    const before = this.fileBytesSeen.get(key) ?? 0
    if (doneBytes > before) this.fileBytes.inc({ direction: direction === TransferDirection.OUTPUTS ? 'outputs' : 'inputs' }, doneBytes - before)
    this.fileBytesSeen.delete(key)
    this.fileBytesSeen.set(key, Math.max(before, doneBytes))
    // Entries leave at the task's end; a bound for tasks that never end here (a crash, a reset).
    if (this.fileBytesSeen.size > MAX_TRANSFERS_FOLLOWED) this.fileBytesSeen.delete(this.fileBytesSeen.keys().next().value!)
  }

  /** Bytes of an image received from a peer. */
  onImageBytes (bytes: number): void {
    this.imageBytes.inc(bytes)
  }

  /** A refusal the node audited. */
  onRefusal (entry: AuditEntry): void {
    this.refusals.inc({ action: entry.action, reason: entry.code })
  }

  /** Live dashboard clients: one more (+1) or one fewer (-1). */
  dashboardClient (delta: 1 | -1): void {
    this.dashboardClients.inc(delta)
  }

  /** Both registries as one Prometheus text exposition. */
  async text (): Promise<string> {
    const [ours, theirs] = await Promise.all([this.registry.metrics(), this.libp2p.metrics()])
    return `${ours.trimEnd()}\n${conventionalGauges(theirs).trimEnd()}\n`
  }

  get contentType (): string {
    return this.registry.contentType
  }
}
