import { DeadlineError } from '../errors.ts'
import type { EventLog } from '../protocol/task-host.ts'
import { TaskState, type TaskEvent, type TaskSpec } from '../protocol/task-messages.ts'

/**
 * A Submit the policy or the rate limit refused: its one REJECTED event, held only by the
 * stream that answers it. Neither stored nor kept by the worker, so refused work costs
 * nothing once the answer is sent (the audit log has the line).
 */
export class RefusedTask implements EventLog {
  readonly submitter: string
  readonly state = TaskState.REJECTED
  readonly lastSeq = 1
  readonly finished = true
  private readonly event: TaskEvent

  constructor (spec: TaskSpec, submitter: string, error: { code: string, message: string }) {
    this.submitter = submitter
    this.event = { taskId: spec.id, seq: 1, timeMs: Date.now(), state: TaskState.REJECTED, error }
  }

  eventAt (seq: number): TaskEvent | undefined {
    return seq === 1 ? this.event : undefined
  }

  /** Nothing follows the refusal: whoever waits is woken only by `signal` or its deadline. */
  async changed (signal: AbortSignal, deadlineMs?: number): Promise<void> {
    const deadline = deadlineMs != null ? AbortSignal.any([signal, AbortSignal.timeout(deadlineMs)]) : signal
    if (deadline.aborted) throw new DeadlineError('the task stream was closed')
    await new Promise<never>((_resolve, reject) => {
      deadline.addEventListener('abort', () => { reject(new DeadlineError('the task stream was closed')) }, { once: true })
    })
  }

  wake (): void {}

  cancel (): void {}
}
