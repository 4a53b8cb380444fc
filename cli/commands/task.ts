import type { SubmitOptions, TaskRequest } from '../../node/src/master/master.ts'
import { imageReferenceProblem } from '../../node/src/protocol/task-messages.ts'
import { formatBytes, formatDuration } from '../../node/src/units.ts'
import { ApiError, findApi, type ClientOptions } from '../client.ts'
import { EXIT, ExitError } from '../exit.ts'
import { box, type Printer } from '../render.ts'
import { TaskOutput } from '../task-output.ts'
import { daemonSource, embeddedSource, type TaskSource } from '../task-source.ts'

export interface TaskOptions extends ClientOptions {
  request: TaskRequest
  placement: SubmitOptions
  /** Copies to run (`--count`): each its own task, placed together. */
  count?: number
  /** Print where `auto` would place the task, and why, without sending it. */
  explain?: boolean
  detach?: boolean
  json?: boolean
  quiet?: boolean
  mdnsTag?: string
}

function preview (target: string, request: TaskRequest): string {
  return box('SENDING TASK TO WORKER', [
    ['Target', target],
    ['Image', request.image],
    ['Command', request.command.length > 0 ? request.command.join(' ') : '(image default)'],
    ['CPU', `${request.resources.cpu} cores`],
    ['Memory', formatBytes(request.resources.memoryBytes)],
    ['Storage', formatBytes(request.resources.storageBytes)],
    ['GPUs', String(request.resources.gpus)],
    ['Network', request.network],
    ...(request.timeoutMs != null ? [['Timeout', formatDuration(request.timeoutMs)] as [string, string]] : [])
  ])
}

export const REFUSALS: Record<string, number> = { NO_PLACEMENT: EXIT.NOT_RUN, UNKNOWN_PEER: EXIT.NOT_RUN, AMBIGUOUS_PEER: EXIT.USAGE, INVALID_SPEC: EXIT.USAGE, BAD_REQUEST: EXIT.USAGE, PEER_UNREACHABLE: EXIT.NOT_RUN }

async function open (target: string, options: TaskOptions): Promise<TaskSource> {
  const client = await findApi(options)
  try {
    if (client != null) return await daemonSource(client, target, options.request, options.placement)
    if (target === 'auto') {
      throw new ExitError(EXIT.USAGE, '"auto" needs a running daemon ("cloudai start"): it places the task with what the daemon knows of the mesh')
    }
    if (options.detach === true && target === 'self') {
      throw new ExitError(EXIT.USAGE, '--detach on "self" needs a running daemon ("cloudai start"): without one, the task would end with this command')
    }
    return await embeddedSource({ dataDir: options.dataDir, mdnsTag: options.mdnsTag }, target, options.request, options.placement)
  } catch (err: any) {
    if (err instanceof ApiError && REFUSALS[err.code] != null) throw new ExitError(REFUSALS[err.code], err.message)
    if (err?.name === 'UnknownPeerError') throw new ExitError(EXIT.NOT_RUN, err.message)
    if (err?.name === 'AmbiguousPeerError') throw new ExitError(EXIT.USAGE, err.message)
    if (err?.name === 'ProtocolError') throw new ExitError(EXIT.USAGE, err.message)
    if (err?.name === 'SwarmKeyError') throw new ExitError(EXIT.NOT_RUN, `no daemon runs, and an embedded node cannot join the mesh: ${err.message}`)
    if (err instanceof ExitError) throw err
    throw new ExitError(EXIT.NOT_RUN, `could not send the task to ${target}: ${err?.message ?? err}`)
  }
}

/**
 * Send a task to a peer and stream it: the container's output to stdout/stderr byte for
 * byte, the rest to stderr; exits with the container's code. Ctrl-C detaches.
 */
export async function task (target: string, options: TaskOptions, print: Printer): Promise<void> {
  const problem = imageReferenceProblem(options.request.image)
  if (problem != null) throw new ExitError(EXIT.USAGE, problem)
  if (options.explain === true) {
    const { explain } = await import('./task-explain.ts')
    await explain(target, options, print)
    return
  }
  if ((options.count ?? 1) > 1) {
    const { copies } = await import('./task-copies.ts')
    await copies(target, options, print)
    return
  }
  if (options.quiet !== true && options.json !== true) print.err(preview(target, options.request))
  const source = await open(target, options)
  const output = new TaskOutput({ json: options.json === true, quiet: options.quiet === true, stdout: process.stdout, stderr: process.stderr })
  let interrupted = false
  const onInterrupt = (): void => {
    interrupted = true
    void source.close()
  }
  process.once('SIGINT', onInterrupt)
  try {
    for await (const line of source.lines) {
      await output.show(line)
      if ('accepted' in line && options.detach === true) {
        print.out(line.accepted.taskId)
        return
      }
      if (interrupted) break
    }
  } finally {
    process.off('SIGINT', onInterrupt)
    await source.close()
  }
  if (interrupted && output.terminal == null) {
    throw new ExitError(130, source.keepsRunning
      ? `detached: task ${output.taskId ?? ''} keeps running on its worker; follow it with "cloudai logs -f ${output.taskId ?? ''}", stop it with "cloudai cancel ${output.taskId ?? ''}"`
      : `cancelled task ${output.taskId ?? ''}: no daemon runs to keep it (start one with "cloudai start" to run tasks that outlive this command)`)
  }
  const code = output.exitCode()
  if (code !== EXIT.OK) throw new ExitError(code)
}
