import type { ClientOptions } from '../client.ts'
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

/** The lines `tail` keeps: from the log event where the last `count` lines begin. */
function lastLines (lines: TaskLine[], count: number): TaskLine[] {
  if (count === 0) return lines.filter(line => !('event' in line) || line.event.log == null)
  let newlines = 0
  // The output's final newline ends its last line, it does not start another (as `tail` counts).
  let atEnd = true
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]
    if (!('event' in line) || line.event.log == null) continue
    const data = Buffer.from(line.event.log.data, 'base64')
    for (let at = data.length - 1; at >= 0; at--) {
      const newline = data[at] === 0x0a
      if (atEnd) {
        atEnd = false
        if (newline) continue
      }
      if (newline && ++newlines === count) {
        const rest = data.subarray(at + 1)
        return [{ event: { ...line.event, log: { ...line.event.log, data: rest.toString('base64') } } }, ...lines.slice(i + 1)]
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
