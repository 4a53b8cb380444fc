import type { TaskEventJson } from '../node/src/protocol/task-messages.ts'
import { jsonOutputPieces } from '../node/src/protocol/output-json.ts'
import { taskExitCode } from '../node/src/error-codes.ts'
import { isTerminal } from '../node/src/task-states.ts'
import { formatBytes, formatDuration } from '../node/src/units.ts'
import { colors } from './render.ts'
import type { TaskLine } from './task-source.ts'


export interface TaskOutputOptions {
  json: boolean
  quiet: boolean
  /** `logs`: the output and how the task ended, without the states and progress on the way. */
  outputOnly?: boolean
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
}

/** Streams whose reader went away (EPIPE, as with `cloudai task … | head`): written to no more. */
const closed = new WeakSet<NodeJS.WritableStream>()

/** Write with backpressure; a stream whose reader is gone is skipped instead of crashing the CLI. */
async function write (stream: NodeJS.WritableStream, data: string | Uint8Array): Promise<void> {
  if (closed.has(stream)) return
  await new Promise<void>(resolve => {
    const onError = (): void => { closed.add(stream); done() }
    const done = (): void => { stream.off('error', onError); stream.off('drain', done); resolve() }
    stream.on('error', onError)
    if (stream.write(data)) done()
    else stream.on('drain', done)
  })
}

/**
 * Renders a task's lines: the container's stdout and stderr byte for byte to our stdout and
 * stderr; state changes, pull progress and the result to stderr (unless quiet); with
 * `json`, one event per line on stdout and nothing else.
 */
export class TaskOutput {
  private readonly options: TaskOutputOptions
  private lastState?: string
  private started = Date.now()
  private lastProgress = 0
  private peer = ''
  terminal?: TaskEventJson
  taskId?: string

  constructor (options: TaskOutputOptions) {
    this.options = options
    // An EPIPE may also arrive after a write that returned true: never let it crash the CLI.
    for (const stream of [options.stdout, options.stderr]) stream.on('error', () => { closed.add(stream) })
  }

  private async note (text: string): Promise<void> {
    if (!this.options.quiet && !this.options.json) await write(this.options.stderr, text + '\n')
  }

  async show (line: TaskLine): Promise<void> {
    if ('accepted' in line) {
      this.taskId = line.accepted.taskId
      this.peer = line.accepted.peerName
      this.started = Date.now()
      await this.note(colors.dim(`task ${line.accepted.taskId} accepted by ${line.accepted.peerName} (${line.accepted.peerId})`))
      return
    }
    if ('task' in line) {
      this.taskId = line.task.taskId
      this.peer = line.task.peerName
      return
    }
    if ('unreachable' in line) {
      await this.note(colors.yellow(`⚠ ${this.peer !== '' ? this.peer : 'the worker'} is unreachable since ${line.unreachable.since}; re-attaching when it answers (the task is lost if it stays away past the loss deadline)`))
      return
    }
    if ('reachable' in line) {
      await this.note(colors.cyan('→ re-attached: the worker answers again'))
      return
    }
    if ('attempt' in line) {
      this.peer = line.attempt.peerName
      this.lastState = undefined
      await this.note(colors.yellow(`↻ attempt ${line.attempt.attempt}${line.attempt.peerName !== '' ? ` on ${line.attempt.peerName} (${line.attempt.peerId})` : ': no peer could take it'}`))
      return
    }
    if ('error' in line) {
      // Not an event: without this line a --json or --quiet user sees exit 125 and no reason.
      await write(this.options.stderr, colors.red(`✖ ${line.error.message}`) + '\n')
      return
    }
    const event = line.event
    if (this.options.json) await write(this.options.stdout, JSON.stringify(event) + '\n')
    if (isTerminal(event.state)) this.terminal = event
    if (event.log != null) {
      if (!this.options.json) {
        for (const piece of jsonOutputPieces(event.log)) await write(piece.stream === 'stderr' ? this.options.stderr : this.options.stdout, piece.data)
      }
      return
    }
    if (event.truncated != null) {
      await this.note(colors.yellow(event.truncated.cause === 'engine-log-gap'
        ? `⚠ output after ${formatBytes(event.truncated.limitBytes)} was lost: the worker was down and the engine's log of the container no longer held it; how the task ended is still known`
        : `⚠ the task wrote more than ${formatBytes(event.truncated.limitBytes)}: the rest of its output is not kept (the worker's --log-limit)`))
      return
    }
    if (event.pull != null) {
      await this.progress(event.pull.doneBytes, event.pull.totalBytes)
      return
    }
    if (event.state !== this.lastState) {
      this.lastState = event.state
      await this.stateLine(event)
    }
  }

  private async progress (done: number, total: number): Promise<void> {
    if (this.options.quiet || this.options.json || this.options.outputOnly === true) return
    const text = `  pulling ${formatBytes(done)}${total > 0 ? ` / ${formatBytes(total)}` : ''}`
    const stderr = this.options.stderr as NodeJS.WriteStream
    if (stderr.isTTY === true) {
      await write(stderr, `\r${text}\x1b[K${total > 0 && done >= total ? '\n' : ''}`)
    } else if (Date.now() - this.lastProgress > 2000 || (total > 0 && done >= total)) {
      this.lastProgress = Date.now()
      await write(stderr, text + '\n')
    }
  }

  private async stateLine (event: TaskEventJson): Promise<void> {
    // `logs` may start long after the task did: then the time it took is not ours to tell.
    const took = this.options.outputOnly === true ? '' : formatDuration(Date.now() - this.started)
    const where = this.peer !== '' ? ` on ${this.peer}` : ''
    switch (event.state) {
      case 'SUCCEEDED':
        await this.note(colors.green(`✔ task ${event.taskId} succeeded${where}${took !== '' ? ` in ${took}` : ''} (exit 0)`))
        return
      case 'FAILED':
      case 'CANCELLED':
      case 'REJECTED':
      case 'LOST': {
        const exit = event.exit != null ? ` (exit ${event.exit.code}${event.exit.oomKilled ? ', out of memory' : ''}${event.exit.timedOut ? ', timed out' : ''})` : ''
        const why = event.error != null ? `: ${event.error.message}` : ''
        if (this.options.quiet && !this.options.json) {
          // --quiet drops decorations, never the reason: an exit 127 or 125 alone says nothing.
          if (event.error != null) await write(this.options.stderr, `cloudai: ${event.error.message}\n`)
          return
        }
        await this.note(colors.red(`✖ task ${event.taskId} ${event.state.toLowerCase()}${where}${took !== '' ? ` after ${took}` : ''}${exit}${why}`))
        return
      }
      case 'RUNNING':
        if (this.options.outputOnly === true) return
        await this.note(colors.cyan(`→ running${event.containerId != null ? ` (container ${event.containerId.slice(0, 12)})` : ''}`))
        return
      default:
        if (this.options.outputOnly === true) return
        await this.note(colors.cyan(`→ ${event.state.toLowerCase()}${event.queuedPosition != null ? ` (position ${event.queuedPosition})` : ''}`))
    }
  }

  exitCode (): number {
    return taskExitCode(this.terminal)
  }
}
