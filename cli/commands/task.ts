import { resolve } from 'node:path'
import type { SubmitOptions, TaskRequest } from '../../node/src/master/master.ts'
import { validateFiles } from '../../node/src/protocol/file-spec-checks.ts'
import { imageReferenceProblem, validateResources, validateTimeout } from '../../node/src/protocol/spec-checks.ts'
import { formatBytes, formatDuration } from '../../node/src/units.ts'
import { exitCodeOf } from '../../node/src/error-codes.ts'
import { codeOf, InvalidTaskError, SwarmKeyError, toError } from '../../node/src/errors.ts'
import { findApi, type ClientOptions } from '../client.ts'
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
  /** Where each `--output` lands here (by index); undefined: ./cloudai-results/<task-id>/<name>. */
  outputLocals?: Array<string | undefined>
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
    ...(request.files?.inputs ?? []).map(input => ['Input', `${input.source ?? '?'} → ${input.target}`] as [string, string]),
    ...(request.files?.outputs ?? []).map(path => ['Output', path] as [string, string]),
    ...(request.timeoutMs != null ? [['Timeout', formatDuration(request.timeoutMs)] as [string, string]] : [])
  ])
}

/**
 * The request as the validator will take it, its amounts raised to the floors, so the box
 * shows what the task gets; exit 2 with the reason, before anything is sent, if it refuses.
 */
function checkedRequest (request: TaskRequest): TaskRequest {
  try {
    const files = validateFiles(request.files)
    return { ...request, resources: validateResources(request.resources), timeoutMs: validateTimeout(request.timeoutMs ?? 0), ...(files != null ? { files } : { files: undefined }) }
  } catch (err) {
    if (err instanceof InvalidTaskError) throw new ExitError(EXIT.USAGE, err.message)
    throw err
  }
}

/**
 * A task that could not be sent never ran (125), unless the request itself was wrong (2):
 * the error table says which. Errors the table does not single out are told as "could not send".
 */
export function notSentExit (err: unknown, target: string): ExitError {
  if (err instanceof ExitError) return err
  if (err instanceof SwarmKeyError) return new ExitError(EXIT.NOT_RUN, `no daemon runs, and an embedded node cannot join the mesh: ${err.message}`)
  const code = exitCodeOf(codeOf(err))
  if (code === EXIT.USAGE || code === EXIT.NOT_RUN) return new ExitError(code, toError(err).message)
  return new ExitError(EXIT.NOT_RUN, `could not send the task to ${target}: ${toError(err).message}`)
}

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
  } catch (err) {
    throw notSentExit(err, target)
  }
}

/**
 * Send a task to a peer and stream it: the container's output to stdout/stderr byte for
 * byte, the rest to stderr; exits with the container's code. Ctrl-C detaches.
 */
export async function task (target: string, asked: TaskOptions, print: Printer): Promise<void> {
  const problem = imageReferenceProblem(asked.request.image)
  if (problem != null) throw new ExitError(EXIT.USAGE, problem)
  const options = { ...asked, request: checkedRequest(asked.request) }
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
    if (!interrupted && output.terminal?.outputs != null && output.terminal.outputs.length > 0 && source.outputs != null && output.taskId != null) {
      const taskId = output.taskId
      const { receiveOutputs } = await import('./results.ts')
      const { defaultDestinations } = await import('../results-download.ts')
      const fallback = defaultDestinations(output.terminal.outputs, resolve(`cloudai-results/${taskId}`))
      const destinations = fallback.map((path, index) => {
        const local = options.outputLocals?.[index]
        return local !== undefined ? resolve(local) : path
      })
      const download = new AbortController()
      const stopDownload = (): void => { download.abort() }
      process.once('SIGINT', stopDownload)
      try {
        await receiveOutputs(await source.outputs(taskId, download.signal), destinations, { json: options.json === true, quiet: options.quiet === true }, print)
      } catch (err) {
        if (err instanceof ExitError) throw err
        throw new ExitError(EXIT.FAILURE, `could not download the results of task ${taskId}: ${toError(err).message}; try again with "cloudai results ${taskId}"`)
      } finally {
        process.off('SIGINT', stopDownload)
      }
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
