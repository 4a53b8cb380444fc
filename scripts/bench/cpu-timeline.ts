import { readFile } from 'node:fs/promises'
import { cpuMs } from './daemon-usage.ts'

/** How often the processes' CPU counters are read: fine enough for phases of a second or more. */
const SAMPLE_INTERVAL_MS = 200

/** The CPU time (user + system) of this process's waited-for children so far: a CLI run counts once it has exited. */
async function childrenCpuMs (): Promise<number> {
  const stat = await readFile('/proc/self/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[13]) + Number(fields[14])) * 10
}

/**
 * Each named process's CPU over time, sampled while a run goes on, so that its CPU can be
 * split by the run's phases (a phase's share is the difference between the samples nearest
 * its ends). A process's whole time on the CPU, whatever it spent it on: on a machine of two
 * cores, the daemons, the engine and the CLI compete for the same cycles.
 */
export class CpuTimeline {
  private readonly samples: Array<{ at: number, cpu: number[] }> = []
  private timer: NodeJS.Timeout | undefined
  private readonly pids: Array<number | undefined>
  readonly names: string[]

  constructor (processes: Record<string, number | undefined>) {
    this.names = Object.keys(processes)
    this.pids = Object.values(processes)
  }

  async start (): Promise<void> {
    await this.sample()
    this.timer = setInterval(() => { void this.sample() }, SAMPLE_INTERVAL_MS)
  }

  /** The last sample; the CLI's CPU (the children's, counted once it exited) is in 'cli'. */
  async stop (): Promise<void> {
    clearInterval(this.timer)
    await this.sample()
  }

  private async sample (): Promise<void> {
    const at = Date.now()
    const cpu = await Promise.all(this.pids.map(async pid => await cpuMs(pid)))
    this.samples.push({ at, cpu })
  }

  /** Each process's CPU seconds between two times, as text ("master 1.2 s, worker 3.4 s"). */
  between (from: number, to: number): string {
    const nearest = (time: number): { cpu: number[] } => this.samples.reduce((best, sample) => Math.abs(sample.at - time) < Math.abs(best.at - time) ? sample : best)
    const start = nearest(from)
    const end = nearest(to)
    return this.names.map((name, index) => `${name} ${((end.cpu[index] - start.cpu[index]) / 1000).toFixed(1)} s`).join(', ')
  }
}

/** The CLI's CPU: the children's counters before and after a run that waits for it. */
export async function cliCpu<T> (run: () => Promise<T>): Promise<{ result: T, cpuMs: number }> {
  const before = await childrenCpuMs()
  const result = await run()
  return { result, cpuMs: await childrenCpuMs() - before }
}

/** The Docker engine's pid, as scripts/ensure-docker.sh recorded it (undefined when it did not). */
export async function enginePid (): Promise<number | undefined> {
  const state = process.env.CLOUDAI_DOCKER_STATE ?? '/var/lib/cloudai-dev'
  const pid = Number((await readFile(`${state}/dockerd.pid`, 'utf8').catch(() => '')).trim())
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}
