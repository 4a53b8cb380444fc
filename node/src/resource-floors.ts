import type { ResourceAmounts } from './resources.ts'

/**
 * The smallest amounts a task holds and is held to (docs/architecture.md, "Limits"). The
 * validator, the worker's ledger and the container's options all go through
 * `raisedToFloors`, so what a task is charged is what the engine enforces.
 */

/** The kernel's smallest CFS quota is 1 ms per Docker's 100 ms period; Docker refuses less, and NanoCpus 0 means no limit at all. */
export const MIN_TASK_CPU = 0.01
/** Docker refuses memory limits below 6 MiB. */
export const MIN_TASK_MEMORY_BYTES = 6 * 1024 * 1024
/** The engine takes any positive size; with less than a MiB a task cannot write a small file, and every task holds some disk in the ledger. */
export const MIN_TASK_STORAGE_BYTES = 1024 * 1024

/**
 * CPU is counted in whole nano-CPUs (Docker's `NanoCpus` unit), so reserving and releasing
 * 0.1 core many times never drifts: 0.1 + 0.2 is not 0.3 in floating point.
 */
export const NANO_PER_CPU = 1e9

/** A task's amounts as they are held and enforced: each below its floor (zero included) raised to it. */
export function raisedToFloors (asked: ResourceAmounts): ResourceAmounts {
  return {
    cpu: Math.max(asked.cpu, MIN_TASK_CPU),
    memoryBytes: Math.max(asked.memoryBytes, MIN_TASK_MEMORY_BYTES),
    storageBytes: Math.max(asked.storageBytes, MIN_TASK_STORAGE_BYTES),
    gpus: asked.gpus
  }
}

/** Cores in Docker's whole nano-CPUs. */
export function toNanoCpus (cores: number): number {
  return Math.round(cores * NANO_PER_CPU)
}
