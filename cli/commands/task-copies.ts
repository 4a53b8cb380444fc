import { join, resolve } from 'node:path'
import type { SubmittedTask } from '../../node/src/master/master.ts'
import { toError } from '../../node/src/errors.ts'
import { requireApi, type ApiClient } from '../client.ts'
import { EXIT, ExitError } from '../exit.ts'
import { colors, type Printer } from '../render.ts'
import { defaultDestinations } from '../results-download.ts'
import { daemonOutputs, ndjsonSource } from '../task-source.ts'
import { receiveOutputs } from './results.ts'
import { taskExitCode } from '../../node/src/error-codes.ts'
import type { TaskEventJson } from '../../node/src/protocol/task-messages.ts'
import type { TaskOptions } from './task.ts'
import { isTerminal } from '../../node/src/task-states.ts'

/** How one copy ended: the terminal event of its last attempt (attempts go on as one task). */
async function follow (options: TaskOptions, task: SubmittedTask): Promise<TaskEventJson | undefined> {
  const client = await requireApi(options)
  const source = await ndjsonSource(client, 'GET', `/v1/tasks/${task.taskId}/events?follow=1`)
  let terminal: TaskEventJson | undefined
  try {
    for await (const line of source.lines) if ('event' in line && isTerminal(line.event.state)) terminal = line.event
  } finally {
    await source.close()
  }
  return terminal
}

/**
 * `task … --count N`: N copies, each its own task, placed together (one probe round for
 * `auto`). Prints each task id as it is accepted (stdout), then, unless `--detach`, how each
 * ended (stderr); the output of each is in `cloudai logs <id>`. Then each copy's outputs are
 * downloaded into a directory of its own (`copyDestinations`). Exits 0 when all succeeded
 * and their results landed, else with the first failed copy's code (or the download's).
 */
export async function copies (target: string, options: TaskOptions, print: Printer): Promise<void> {
  const client = await requireApi(options)
  // A refusal's exit code (125, or 2 for a bad request) comes from the error table, in run().
  const tasks = await client.request<SubmittedTask[]>('POST', '/v1/tasks/copies', { target, count: options.count, ...options.request, ...options.placement })
  for (const task of tasks) {
    print.out(task.taskId)
    if (options.quiet !== true) print.err(colors.dim(`task ${task.taskId} sent to ${task.peerName !== '' ? task.peerName : '(being placed again)'}`))
  }
  if (options.detach === true) return
  const ends = await Promise.all(tasks.map(async task => await follow(options, task)))
  let code: number = EXIT.OK
  ends.forEach((end, i) => {
    const copyCode = taskExitCode(end)
    if (code === EXIT.OK && copyCode !== EXIT.OK) code = copyCode
    if (options.quiet !== true) print.err(`${copyCode === EXIT.OK ? colors.green('✔') : colors.red('✖')} ${tasks[i].taskId}: ${end?.state ?? 'no end seen'}${end?.exit != null ? ` (exit ${end.exit.code})` : ''}${end?.error != null ? `: ${end.error.message}` : ''}`)
  })
  const downloadFailure = await receiveCopiesOutputs(client, tasks, ends, options, print)
  if (code !== EXIT.OK) throw new ExitError(code)
  if (downloadFailure !== undefined) throw downloadFailure
}

/**
 * Where one copy's output sets land: each copy in a directory of its own, so copies never
 * collide. An `--output PATH:LOCAL` becomes `LOCAL/<task-id>`; without LOCAL, the single
 * task's default, `./cloudai-results/<task-id>/<name>`.
 */
export function copyDestinations (sets: Array<{ path: string }>, taskId: string, outputLocals: Array<string | undefined> = []): string[] {
  return defaultDestinations(sets, resolve(`cloudai-results/${taskId}`)).map((fallback, index) => {
    const local = outputLocals[index]
    return local !== undefined ? join(resolve(local), taskId) : fallback
  })
}

/**
 * The outputs of every copy that kept some, one copy after the other (a copy's download
 * holds a stream and its files; N at once would be N of each). A copy whose download fails
 * does not stop the others: the first failure is returned, to end the command with.
 */
async function receiveCopiesOutputs (client: ApiClient, tasks: SubmittedTask[], ends: Array<TaskEventJson | undefined>, options: TaskOptions, print: Printer): Promise<ExitError | undefined> {
  let failure: ExitError | undefined
  for (const [index, task] of tasks.entries()) {
    const sets = ends[index]?.outputs ?? []
    if (sets.length === 0) continue
    const stop = new AbortController()
    try {
      await receiveOutputs(await daemonOutputs(client, task.taskId, stop.signal), copyDestinations(sets, task.taskId, options.outputLocals), { json: options.json === true, quiet: options.quiet === true }, print)
    } catch (err) {
      const error = err instanceof ExitError ? err : new ExitError(EXIT.FAILURE, `could not download the results of task ${task.taskId}: ${toError(err).message}; try again with "cloudai results ${task.taskId}"`)
      if (options.quiet !== true) print.err(colors.red(`✖ ${error.message}`))
      failure ??= error
    } finally {
      stop.abort()
    }
  }
  return failure
}
