import type { ClientOptions } from '../client.ts'
import { jsonOutputPieces, type TaskOutputJson } from '../../node/src/protocol/output-json.ts'
import { EXIT, ExitError } from '../exit.ts'
import type { Printer } from '../render.ts'
import { openTasks } from '../task-access.ts'
import { TaskOutput } from '../task-output.ts'
import type { TaskLine } from '../task-source.ts'

export interface LogsOptions extends ClientOptions {
  follow?: boolean
  /** Only the last this many lines of output (stdout and stderr together). */
  tail?: number
  json?: boolean
}

/** The lines `tail` keeps: from the output where the last `count` lines begin (within an event, from that byte of it on). */
function lastLines (lines: TaskLine[], count: number): TaskLine[] {
  if (count === 0) return lines.filter(line => !('event' in line) || line.event.log == null)
  let newlines = 0
  // The output's final newline ends its last line, it does not start another (as `tail` counts).
  let atEnd = true
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]
    if (!('event' in line) || line.event.log == null) continue
    const pieces = jsonOutputPieces(line.event.log)
    for (let p = pieces.length - 1; p >= 0; p--) {
      const data = pieces[p].data
      for (let at = data.length - 1; at >= 0; at--) {
        const newline = data[at] === 0x0a
        if (atEnd) {
          atEnd = false
          if (newline) continue
        }
        if (newline && ++newlines === count) {
          const rest = [{ stream: pieces[p].stream, data: data.subarray(at + 1) }, ...pieces.slice(p + 1)]
          const log: TaskOutputJson = rest.length === 1
            ? { stream: rest[0].stream, data: rest[0].data.toString('base64') }
            : { segments: rest.map(piece => ({ stream: piece.stream, data: piece.data.toString('base64') })) }
          return [{ event: { ...line.event, log } }, ...lines.slice(i + 1)]
        }
      }
    }
  }
  return lines
}

/**
 * A task's output: stdout and stderr byte for byte to ours; with `--follow`, until the task
 * ends, then its exit code is ours (as `task` gives it). The task is named by id or prefix.
 */
export async function logs (idOrPrefix: string, options: LogsOptions, print: Printer): Promise<void> {
  const access = await openTasks(options)
  try {
    if (options.follow === true && !access.live) print.err('cloudai: no daemon runs for this data dir: showing the stored output only')
    const follow = options.follow === true && access.live
    const source = await access.lines(idOrPrefix, { follow: follow && options.tail == null })
    const output = new TaskOutput({ json: options.json === true, quiet: false, outputOnly: true, stdout: process.stdout, stderr: process.stderr })
    let lines: AsyncIterable<TaskLine> = source.lines
    if (options.tail != null) {
      // Read what is stored, keep the end, then follow on from the last event read.
      const stored: TaskLine[] = []
      for await (const line of source.lines) stored.push(line)
      let lastSeq = 0
      for (const line of stored) if ('event' in line) lastSeq = line.event.seq
      const taskId = stored.find((line): line is Extract<TaskLine, { task: unknown }> => 'task' in line)?.task.taskId ?? idOrPrefix
      const rest = follow ? await access.lines(taskId, { fromSeq: lastSeq + 1, follow: true }) : undefined
      lines = (async function * () {
        yield * lastLines(stored, options.tail!)
        if (rest != null) for await (const line of rest.lines) if (!('task' in line)) yield line
      })()
    }
    const stop = (): void => { void source.close() }
    process.once('SIGINT', stop)
    try {
      for await (const line of lines) await output.show(line)
    } finally {
      process.off('SIGINT', stop)
      await source.close()
    }
    if (follow && output.terminal != null) {
      const code = output.exitCode()
      if (code !== EXIT.OK) throw new ExitError(code)
    }
  } finally {
    access.close()
  }
}
