import type { Readable } from 'node:stream'
import { ArchiveRefusedError, toError } from '../errors.ts'
import type { ContainerFiles, InputProblem } from '../executor/executor.ts'
import { engineInputs } from '../files/engine-inputs.ts'
import { DEFAULT_INPUT_LIMIT_BYTES, DEFAULT_OUTPUT_LIMIT_BYTES } from '../files/output-limit.ts'
import type { OutputSet, OutputStore } from '../files/output-store.ts'
import { TaskState, TransferDirection } from '../protocol/task-messages.ts'
import type { WorkerTask } from './worker-task.ts'

/** Progress of a transfer is recorded at most this often: a few events a second, whatever the size. */
const TRANSFER_EVENT_INTERVAL_MS = 500

/** What a worker needs to give tasks their files and keep what they leave. */
export interface WorkerFiles {
  store: OutputStore
  /** A task's inputs, as a tar from its submitter (this node's own master for `self`). */
  fetchInputs: (task: { taskId: string, attempt: number, submitter: string }) => Promise<AsyncIterable<Uint8Array> | Readable>
  /** The most one task's inputs may hold (policy `maxInput`). */
  maxInputBytes?: number
  /** The most one task's outputs may hold, whatever its `--output-limit` asks (policy `maxOutput`). */
  maxOutputBytes?: number
}

/** Records transfer progress on the task, a few times a second and once at the end. */
function progressOf (task: WorkerTask, direction: TransferDirection, state: TaskState): { update: (bytes: number, files: number) => void, finish: () => void } {
  // Small transfers end before the first interval: only their final count is recorded.
  let last = Date.now()
  let latest = { bytes: 0, files: 0 }
  const record = (): void => { task.append({ state, transfer: { direction, doneBytes: latest.bytes, doneFiles: latest.files } }) }
  return {
    update: (bytes, files) => {
      latest = { bytes, files }
      const now = Date.now()
      if (now - last < TRANSFER_EVENT_INTERVAL_MS) return
      last = now
      record()
    },
    finish: record
  }
}

/**
 * Stream the task's inputs from its submitter into its created container: the archive is
 * checked and re-written on its way (engine-inputs.ts), and nothing is staged. A problem
 * ends the task before it starts.
 */
export async function putInputs (task: WorkerTask, files: WorkerFiles, container: ContainerFiles): Promise<InputProblem | undefined> {
  const targets = task.spec.files?.inputs.map(input => input.target) ?? []
  if (targets.length === 0) return undefined
  let source: AsyncIterable<Uint8Array> | Readable
  try {
    source = await files.fetchInputs({ taskId: task.spec.id, attempt: task.spec.attempt, submitter: task.submitter })
  } catch (err) {
    return { code: 'INPUT_FAILED', message: `could not fetch the inputs from the submitter: ${toError(err).message}` }
  }
  const progress = progressOf(task, TransferDirection.INPUTS, TaskState.STARTING)
  const { archive, done } = engineInputs(source, { targets, maxBytes: files.maxInputBytes ?? DEFAULT_INPUT_LIMIT_BYTES, onProgress: progress.update })
  const read = done.then(() => undefined, (err: unknown) => toError(err))
  try {
    await container.put(archive)
  } catch (err) {
    archive.destroy()
    const refused = await read
    if (refused instanceof ArchiveRefusedError) return { code: 'ARCHIVE_REFUSED', message: refused.message }
    return { code: 'INPUT_FAILED', message: `the engine did not take the inputs: ${refused?.message ?? toError(err).message}` }
  }
  const refused = await read
  if (refused !== undefined) return { code: refused instanceof ArchiveRefusedError ? 'ARCHIVE_REFUSED' : 'INPUT_FAILED', message: refused.message }
  progress.finish()
  return undefined
}

/** The output limit a task gets here: what it asked for (or the default), within the worker's cap. */
export function outputLimitOf (task: WorkerTask, files: WorkerFiles): number {
  const asked = task.spec.files?.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES
  return Math.min(asked, files.maxOutputBytes ?? Number.MAX_SAFE_INTEGER)
}

/** Collect the exited container's outputs into the worker's store; never throws (what failed is each set's note). */
export async function collectOutputs (task: WorkerTask, files: WorkerFiles, container: ContainerFiles): Promise<OutputSet[]> {
  const paths = task.spec.files?.outputs ?? []
  const progress = progressOf(task, TransferDirection.OUTPUTS, TaskState.RUNNING)
  try {
    const sets = await files.store.collect(task.spec.id, task.spec.attempt, { paths, limitBytes: outputLimitOf(task, files), get: container.get, onProgress: progress.update })
    progress.finish()
    return sets
  } catch (err) {
    // The store itself failed (a full disk): nothing is kept, and each set says why.
    const note = `could not keep the outputs: ${toError(err).message}`
    return paths.map(path => ({ path, bytes: 0, files: 0, sha256: '', complete: false, note }))
  }
}
