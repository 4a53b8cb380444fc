import { basename, resolve } from 'node:path'
import type { TaskFilesSpec } from '../node/src/protocol/file-spec-checks.ts'

/**
 * `--input SRC[:DST]`: a file or directory here, and where it lands in the container (an
 * absolute path; `/in/<name>` when left out). The split is at the last ":" followed by "/",
 * so a source may itself hold a colon.
 */
export function parseInput (text: string, cwd = process.cwd()): { source: string, target: string } {
  const split = text.lastIndexOf(':/')
  const source = split > 0 ? text.slice(0, split) : text
  if (source === '') throw new Error(`"${text}" names no source: use --input SRC[:DST], e.g. ./data.csv:/in/data.csv`)
  const absolute = resolve(cwd, source)
  const target = split > 0 ? text.slice(split + 1) : `/in/${basename(absolute)}`
  return { source: absolute, target }
}

/** `--output PATH[:LOCAL]`: a container path collected after the task, and where it lands here (default: ./cloudai-results/<task-id>/<name>). */
export function parseOutput (text: string, cwd = process.cwd()): { path: string, local?: string } {
  if (!text.startsWith('/')) throw new Error(`"${text}" is not an absolute container path: use --output /out or --output /out:./results`)
  const split = text.indexOf(':')
  if (split < 0) return { path: text }
  const local = text.slice(split + 1)
  if (local === '') throw new Error(`"${text}" names no local place after ":"`)
  return { path: text.slice(0, split), local: resolve(cwd, local) }
}

/** The task's files from the repeated options; undefined when none was given. */
export function filesRequest (inputs: string[] = [], outputs: string[] = [], outputLimitBytes?: number): { files?: TaskFilesSpec, outputLocals: Array<string | undefined> } {
  const parsedOutputs = outputs.map(text => parseOutput(text))
  if (inputs.length === 0 && outputs.length === 0) return { outputLocals: [] }
  return {
    files: {
      inputs: inputs.map(text => parseInput(text)),
      outputs: parsedOutputs.map(output => output.path),
      ...(outputLimitBytes !== undefined ? { outputLimitBytes } : {})
    },
    outputLocals: parsedOutputs.map(output => output.local)
  }
}
