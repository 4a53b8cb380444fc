import type { ClientOptions } from '../client.ts'
import { EXIT, ExitError } from '../exit.ts'
import { printJson, type Printer } from '../render.ts'
import { openTasks } from '../task-access.ts'
import { isTerminal } from '../../node/src/task-states.ts'

/** How long `cancel` waits to see the task end: the SIGTERM grace and the container's removal. */
export const CANCEL_WAIT_MS = 30_000

/** Stop a task (on whichever node runs it) and wait until it has ended. */
export async function cancel (idOrPrefix: string, options: ClientOptions & { json?: boolean }, print: Printer): Promise<void> {
  const access = await openTasks(options)
  try {
    const reply = await access.cancel(idOrPrefix)
    let state: string = reply.state
    if (reply.cancelled) {
      // Follow the task until its terminal event: that is when the container is gone and its resources free.
      const source = await access.lines(reply.taskId, { follow: true })
      const timer = setTimeout(() => { void source.close() }, CANCEL_WAIT_MS)
      try {
        for await (const line of source.lines) {
          if ('event' in line && isTerminal(line.event.state)) state = line.event.state
        }
      } finally {
        clearTimeout(timer)
        await source.close()
      }
    }
    if (options.json === true) {
      printJson(print, { taskId: reply.taskId, state, cancelled: reply.cancelled })
    } else if (!reply.cancelled) {
      print.out(`task ${reply.taskId} had already ended (${reply.state}): nothing to cancel`)
    } else if (isTerminal(state)) {
      print.out(`task ${reply.taskId} ${state === 'CANCELLED' ? 'cancelled' : `ended ${state} before the cancel took effect`}`)
    } else {
      throw new ExitError(EXIT.FAILURE, `task ${reply.taskId} was asked to stop, but has not ended after ${CANCEL_WAIT_MS / 1000} s (state ${state}); "cloudai status ${reply.taskId}" shows where it is`)
    }
  } finally {
    access.close()
  }
}
