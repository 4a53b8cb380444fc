/**
 * A task's states by name, as they travel on the wire, sit in the store and reach the CLI.
 * Dependency-free, so that the command line can use it without loading the wire codecs.
 * States only move forward: PENDING → QUEUED → PULLING → STARTING → RUNNING → one terminal state.
 */

/** Every state, in the order a task passes through them; the terminal ones last. */
export const TASK_STATE_NAMES = ['PENDING', 'QUEUED', 'PULLING', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED', 'LOST'] as const

export type TaskStateName = typeof TASK_STATE_NAMES[number]

/** The states a task ends in: nothing follows them. The only list of them. */
export const TERMINAL_STATES: ReadonlySet<string> = new Set<TaskStateName>(['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED', 'LOST'])

export function isTerminal (state: string): boolean {
  return TERMINAL_STATES.has(state)
}

/** The states before the end, in order: a task's state never moves back through them. */
export const PROGRESS_STATES: readonly string[] = TASK_STATE_NAMES.filter(state => !TERMINAL_STATES.has(state))
