import type { SubmittedTask } from '../../node/src/master/master.ts'
import { requireApi } from '../client.ts'
import { EXIT, ExitError } from '../exit.ts'
import { colors, type Printer } from '../render.ts'
import { ndjsonSource } from '../task-source.ts'
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
 * ended (stderr); the output of each is in `cloudai logs <id>`. Exits 0 when all succeeded,
 * else with the first failed copy's code.
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
  if (code !== EXIT.OK) throw new ExitError(code)
}
