/**
 * Where a task's milliseconds go, from the engine's own record: `docker events` for the
 * containers of one variant (selected by a label), each event with the engine's clock, to set
 * beside the moments this process spawned the command and saw it exit (same machine, same
 * clock): spawn → create (the command's start-up, its API calls, the image check), create →
 * start (attach, start), start → die (the container runs and exits), die → destroy (removal;
 * it may end after the command did), die → exit (the final event reaches the command, which
 * ends). task-latency.ts makes the table.
 */
import { spawn, type ChildProcess } from 'node:child_process'

export interface RunWindow {
  /** Wall-clock ms (performance.timeOrigin + performance.now()) when the command was spawned and when it exited. */
  spawnedAt: number
  exitedAt: number
}

/** The engine's record of one container, wall-clock ms. */
export interface ContainerEvents {
  create?: number
  start?: number
  die?: number
  destroy?: number
}

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

  /** The engine's record of each run's container (the one created within its window); undefined where none was seen whole. */
  containers (runs: RunWindow[]): Array<ContainerEvents | undefined> {
    const containers = [...this.byContainer.values()]
    return runs.map(run => {
      const c = containers.find(entry => entry.create != null && entry.create >= run.spawnedAt && entry.create <= run.exitedAt)
      return c?.create != null && c.start != null && c.die != null ? c : undefined
    })
  }

  stop (): void {
    this.child.kill()
  }
}
