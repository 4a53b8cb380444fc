// A task's inputs and outputs, checked alike for the wire, the API and the command line. Kept
// apart from the wire codecs (task-messages.ts) so that `cloudai task` checks its options
// without loading them.
import type { TaskFiles as WireTaskFiles } from '../../../protocols/task.ts'
import { checkAmount, refuse } from './spec-checks.ts'

/** Inputs and outputs one task may name: each is a tree, so a handful is what real tasks use. */
export const MAX_TASK_FILE_PATHS = 64
/** A container path for an input or an output. */
export const MAX_CONTAINER_PATH_LENGTH = 1024

/** One input: where it lands in the container, and (on the submitter only, never sent) where it comes from. */
export interface InputMount {
  /** An absolute, normalized container path. */
  target: string
  /** The submitter's file or directory (absolute). */
  source?: string
}

/** A task's files: what goes in before it starts and what comes back after it exits. */
export interface TaskFilesSpec {
  inputs: InputMount[]
  /** Absolute, normalized container paths collected after the container exits. */
  outputs: string[]
  /** The most the outputs may hold together; undefined: the worker's default. */
  outputLimitBytes?: number
}

/**
 * A container path for an input or output: absolute, normalized, not the root, no NUL; the
 * path itself, or the problem with it.
 */
export function containerPathProblem (path: string): string | undefined {
  if (path.length === 0 || path.length > MAX_CONTAINER_PATH_LENGTH) return `a container path must have 1-${MAX_CONTAINER_PATH_LENGTH} characters`
  if (path.includes('\0')) return 'a container path contains a NUL byte'
  if (!path.startsWith('/')) return `container path "${path.slice(0, 60)}" must be absolute (start with /)`
  const parts = path.split('/').slice(1)
  if (parts.some(part => part === '' || part === '.' || part === '..')) return `container path "${path.slice(0, 60)}" must be normalized: no "//", "." or ".." and no trailing "/"`
  return undefined
}

/** Check a task's files from the wire, the API or the command line. */
export function validateFiles (files: WireTaskFiles | TaskFilesSpec | undefined): TaskFilesSpec | undefined {
  if (files == null) return undefined
  if (files.inputs.length === 0 && files.outputs.length === 0) return undefined
  if (files.inputs.length > MAX_TASK_FILE_PATHS || files.outputs.length > MAX_TASK_FILE_PATHS) refuse(`at most ${MAX_TASK_FILE_PATHS} inputs and ${MAX_TASK_FILE_PATHS} outputs`)
  const targets = files.inputs.map(input => input.target)
  for (const path of [...targets, ...files.outputs]) {
    const problem = containerPathProblem(path)
    if (problem != null) refuse(problem)
  }
  // Two inputs at one place, or one inside another, would have one overwrite the other's files.
  for (const [index, target] of targets.entries()) {
    const clash = targets.find((other, at) => at !== index && (other === target || target.startsWith(`${other}/`)))
    if (clash != null) refuse(`inputs "${target}" and "${clash}" overlap: give each its own place`)
  }
  if (new Set(files.outputs).size !== files.outputs.length) refuse('an output path is given twice')
  const limit = files.outputLimitBytes ?? 0
  checkAmount(limit, 'output limit', { whole: true, max: Number.MAX_SAFE_INTEGER })
  return {
    inputs: files.inputs.map(input => ({ target: input.target, ...('source' in input && typeof input.source === 'string' ? { source: input.source } : {}) })),
    outputs: [...files.outputs],
    ...(limit > 0 ? { outputLimitBytes: limit } : {})
  }
}
