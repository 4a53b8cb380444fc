import { execFile } from 'node:child_process'
import { statfs } from 'node:fs/promises'
import { availableParallelism, totalmem } from 'node:os'

/** Amounts of the four resources, as on the wire (`Resources` in protocols/node.proto). */
export interface ResourceAmounts {
  cpu: number
  memoryBytes: number
  storageBytes: number
  gpus: number
}

export const NO_RESOURCES: ResourceAmounts = Object.freeze({ cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 })

/** How long `nvidia-smi -L` may take before we count no GPUs. */
const GPU_PROBE_TIMEOUT_MS = 5_000

/** Count GPUs with `nvidia-smi -L` (one `GPU n: …` line each); none when the tool is absent or fails. */
export async function detectGpus (): Promise<number> {
  return new Promise(resolve => {
    execFile('nvidia-smi', ['-L'], { timeout: GPU_PROBE_TIMEOUT_MS }, (err, stdout) => {
      if (err != null) {
        resolve(0)
        return
      }
      resolve(stdout.split('\n').filter(line => /^GPU \d+:/.test(line)).length)
    })
  })
}

/** Free space on the file system that holds `dir`, as an unprivileged user may use it. */
export async function freeDiskBytes (dir: string): Promise<number> {
  const fs = await statfs(dir)
  return fs.bavail * fs.bsize
}

/**
 * What this node offers: detected from the machine, each figure replaceable by a
 * flag (`--cpu`, `--memory`, `--storage`, `--gpus`).
 */
export async function detectResources (dataDir: string, overrides: Partial<ResourceAmounts> = {}): Promise<ResourceAmounts> {
  return {
    cpu: overrides.cpu ?? availableParallelism(),
    memoryBytes: overrides.memoryBytes ?? totalmem(),
    storageBytes: overrides.storageBytes ?? await freeDiskBytes(dataDir),
    gpus: overrides.gpus ?? await detectGpus()
  }
}
