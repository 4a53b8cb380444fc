import { readFile } from 'node:fs/promises'

/** CLOUDAI_BENCH_PROFILE=<dir>: each daemon writes a CPU profile there (node --cpu-prof) when it stops; CLOUDAI_BENCH_NODE_OPTIONS: more node options for the daemons (a V8 flag to try). */
export function profiling (name: string): Record<string, string> {
  const dir = process.env.CLOUDAI_BENCH_PROFILE
  const extra = process.env.CLOUDAI_BENCH_NODE_OPTIONS ?? ''
  const options = [dir == null ? '' : `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-name=${name}.cpuprofile`, extra].filter(option => option !== '').join(' ')
  return options === '' ? {} : { NODE_OPTIONS: options }
}

/** The CPU time (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
export async function cpuMs (pid: number | undefined): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** The memory the process holds now (VmRSS), in MiB; NaN once it is gone. */
export async function rssMiB (pid: number | undefined): Promise<number> {
  return await statusMiB(pid, 'VmRSS')
}

/** The most memory the process has held (VmHWM), in MiB; NaN once it is gone. */
export async function peakRss (pid: number | undefined): Promise<number> {
  return await statusMiB(pid, 'VmHWM')
}

async function statusMiB (pid: number | undefined, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024
}
