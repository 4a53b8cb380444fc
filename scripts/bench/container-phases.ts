/**
 * Where a task's milliseconds go, from the engine's own record: `docker events` for the
 * containers of one variant (selected by a label), each event with the engine's clock, set
 * beside the moments this process spawned the command and saw it exit (same machine, same
 * clock). The phases: spawn → create (the command's start-up, its API calls, the image
 * check), create → start (attach, start), start → die (the container runs and exits), die →
 * exit (the final event reaches the command, which ends), die → destroy (removal; it may end
 * after the command did).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { median } from './task-latency.ts'

export interface RunWindow {
  /** Wall-clock ms (performance.timeOrigin + performance.now()) when the command was spawned and when it exited. */
  spawnedAt: number
  exitedAt: number
}

interface ContainerEvents {
  create?: number
  start?: number
  die?: number
  destroy?: number
}

export const PHASES = ['spawn→create', 'create→start', 'start→die', 'die→exit', 'die→destroy'] as const
export type Phase = typeof PHASES[number]

/** Wall-clock ms with sub-millisecond precision, comparable with the engine's event times. */
export function wallNow (): number {
  return performance.timeOrigin + performance.now()
}

/** Records the container events that carry `label` (key=value) until stopped. */
export class ContainerEventLog {
  private readonly child: ChildProcess
  private readonly byContainer = new Map<string, ContainerEvents>()
  private buffered = ''
  private readonly ready: Promise<void>

  constructor (label: string) {
    this.child = spawn('docker', ['events', '--filter', 'type=container', '--filter', `label=${label}`, '--format', '{{json .}}'], { stdio: ['ignore', 'pipe', 'ignore'] })
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.buffered += chunk.toString()
      let newline: number
      while ((newline = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, newline)
        this.buffered = this.buffered.slice(newline + 1)
        this.add(line)
      }
    })
    // `docker events` prints nothing until something happens: give it a moment to subscribe.
    this.ready = new Promise(resolve => setTimeout(resolve, 500))
  }

  async started (): Promise<void> { await this.ready }

  private add (line: string): void {
    let event: any
    try { event = JSON.parse(line) } catch { return }
    const action = String(event.Action ?? event.status ?? '')
    if (!['create', 'start', 'die', 'destroy'].includes(action)) return
    const id = String(event.Actor?.ID ?? event.id ?? '')
    const entry = this.byContainer.get(id) ?? {}
    entry[action as keyof ContainerEvents] = Number(event.timeNano) / 1e6
    this.byContainer.set(id, entry)
  }

  /** Each run's phases (the container created within its window), for the runs whose container was seen whole. */
  phases (runs: RunWindow[]): Array<Record<Phase, number>> {
    const containers = [...this.byContainer.values()]
    const out: Array<Record<Phase, number>> = []
    for (const run of runs) {
      const c = containers.find(entry => entry.create != null && entry.create >= run.spawnedAt && entry.create <= run.exitedAt)
      if (c?.create == null || c.start == null || c.die == null) continue
      out.push({
        'spawn→create': c.create - run.spawnedAt,
        'create→start': c.start - c.create,
        'start→die': c.die - c.start,
        'die→exit': run.exitedAt - c.die,
        'die→destroy': c.destroy != null ? c.destroy - c.die : Number.NaN
      })
    }
    return out
  }

  stop (): void {
    this.child.kill()
  }
}

/** "phase a ms, …" medians, for a benchmark's note. */
export function phaseSummary (phases: Array<Record<Phase, number>>): string {
  if (phases.length === 0) return 'no container events seen'
  return PHASES.map(phase => {
    const values = phases.map(p => p[phase]).filter(Number.isFinite)
    return `${phase} ${values.length > 0 ? median(values).toFixed(0) : '?'}`
  }).join(', ') + ` ms (medians of ${phases.length})`
}
