import { resolve } from 'node:path'
import { exitCodeOf } from '../../node/src/error-codes.ts'
import { codeOf, toError } from '../../node/src/errors.ts'
import { formatBytes } from '../../node/src/units.ts'
import { findApi, type ClientOptions } from '../client.ts'
import { EXIT, ExitError } from '../exit.ts'
import { colors, type Printer } from '../render.ts'
import { defaultDestinations, downloadOutputs, type LandedOutput, type OutputsStream } from '../results-download.ts'
import { daemonOutputs, nodeOutputs } from '../task-source.ts'

/** Progress lines for a non-terminal stderr (or --json) at most this often. */
const PROGRESS_INTERVAL_MS = 1000

export interface ReceiveOptions {
  json: boolean
  quiet: boolean
}

/**
 * Download a task's outputs to `destinations` and tell the user: progress while it comes,
 * then where each output is and how big (or, with --json, `{"download": …}` lines and one
 * `{"outputs": […]}`). Throws ExitError when the download fails; returns the landed sets.
 */
export async function receiveOutputs (stream: OutputsStream, destinations: string[], options: ReceiveOptions, print: Printer): Promise<LandedOutput[]> {
  const stderr = process.stderr
  let last = Date.now()
  const progress = (bytes: number, total: number, files: number): void => {
    const now = Date.now()
    if (now - last < (stderr.isTTY && !options.json ? 100 : PROGRESS_INTERVAL_MS)) return
    last = now
    if (options.json) print.out(JSON.stringify({ download: { taskId: stream.taskId, doneBytes: bytes, totalBytes: total, doneFiles: files } }))
    else if (!options.quiet) {
      const text = `  ↓ results ${formatBytes(bytes)} / ${formatBytes(total)} (${files} files)`
      if (stderr.isTTY) stderr.write(`\r${text}\x1b[K`)
      else print.err(text)
    }
  }
  let landed: LandedOutput[]
  try {
    landed = await downloadOutputs(stream, destinations, progress)
  } catch (err) {
    const code = exitCodeOf(codeOf(err))
    throw new ExitError(code === EXIT.OK ? EXIT.FAILURE : code, `could not download the results of task ${stream.taskId}: ${toError(err).message}${/exists already|appeared/.test(toError(err).message) ? '' : `; try again with "cloudai results ${stream.taskId}"`}`)
  }
  if (!options.json && !options.quiet && stderr.isTTY) stderr.write('\r\x1b[K')
  if (options.json) {
    print.out(JSON.stringify({ outputs: landed }))
  } else if (!options.quiet) {
    for (const set of landed) {
      const size = `${set.files} file${set.files === 1 ? '' : 's'}, ${formatBytes(set.bytes)}`
      if (set.local !== undefined) print.err(colors.green(`✔ ${set.path} → ${set.local} (${size}, sha256 ${set.sha256.slice(0, 16)}…)`))
      if (!set.complete) print.err(colors.yellow(`⚠ ${set.path} is incomplete${set.local !== undefined ? ` (${size} kept)` : ''}: ${set.note ?? 'part of it was not kept'}`))
    }
  }
  return landed
}

export interface ResultsOptions extends ClientOptions {
  json?: boolean
}

/** `cloudai results <task> [DEST]`: fetch a finished task's outputs again, from the worker that kept them. */
export async function results (idOrPrefix: string, dest: string | undefined, options: ResultsOptions, print: Printer): Promise<void> {
  const client = await findApi(options)
  const stop = new AbortController()
  let stream: OutputsStream
  let close = async (): Promise<void> => {}
  try {
    if (client != null) {
      stream = await daemonOutputs(client, idOrPrefix, stop.signal)
    } else {
      // No daemon: this node's own store answers for the tasks it ran itself (`self`).
      const { createNode } = await import('../../node/src/node.ts')
      const node = await createNode({ dataDir: options.dataDir, open: true, listen: [], mdnsTag: false })
      await node.start()
      close = async () => { await node.stop() }
      stream = await nodeOutputs(node, idOrPrefix, stop.signal)
    }
  } catch (err) {
    await close()
    if (err instanceof ExitError) throw err
    const code = exitCodeOf(codeOf(err))
    throw new ExitError(code === EXIT.OK ? EXIT.FAILURE : code, toError(err).message)
  }
  try {
    const dir = resolve(dest ?? `cloudai-results/${stream.taskId}`)
    const landed = await receiveOutputs(stream, defaultDestinations(stream.sets, dir), { json: options.json === true, quiet: false }, print)
    if (landed.some(set => !set.complete)) throw new ExitError(EXIT.FAILURE, `some outputs of task ${stream.taskId} are incomplete (see above): what was kept is there, marked as such`)
  } finally {
    stop.abort()
    await close()
  }
}
