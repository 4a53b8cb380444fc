import { CloudaiError } from '../errors.ts'
import { formatBytes } from '../units.ts'
import { printable } from './archive-paths.ts'

/** The default `--output-limit`: a task's outputs together, as its worker keeps them. */
export const DEFAULT_OUTPUT_LIMIT_BYTES = 1024 ** 3
/** The most a task may ask for with `--output-limit`, unless the worker's policy says otherwise. */
export const MAX_OUTPUT_LIMIT_BYTES = 64 * 1024 ** 3
/** The default cap on one task's inputs (policy `maxInput`). */
export const DEFAULT_INPUT_LIMIT_BYTES = 16 * 1024 ** 3

/** A task's outputs grew past its `--output-limit`: what fit is kept, marked incomplete. */
export class OutputLimitError extends CloudaiError {
  override readonly code = 'OUTPUT_LIMIT'

  static crossing (declaredBytes: number, limitBytes: number, path: string, output: string): OutputLimitError {
    return new OutputLimitError(`the outputs exceed --output-limit ${formatBytes(limitBytes)}: "${printable(path)}" in ${printable(output)} would bring them to ${formatBytes(declaredBytes)}; what fit is kept, the rest is not (raise the limit with --output-limit)`)
  }
}
