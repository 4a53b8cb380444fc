import assert from 'node:assert/strict'
import { isTerminal, TaskState, type LogStream, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import { outputPieces } from '../../node/src/protocol/task-output.ts'
import type { TaskSession } from '../../node/src/protocol/task-protocol.ts'

/** What the protocol tests check of a task's events, over memory streams (unit) and between nodes (sim). */

/** The bytes a task wrote to `stream`, in order. */
export function output (events: TaskEvent[], stream: LogStream): Buffer {
  return Buffer.concat(events.flatMap(event => event.log != null ? outputPieces(event.log).filter(piece => piece.stream === stream).map(piece => piece.data) : []))
}

/** Seq 1..n without a gap, one task id, states never backwards, exactly one terminal event and it is last. */
export function assertWellFormed (events: TaskEvent[], taskId: string): void {
  assert.ok(events.length > 0, 'no events')
  assert.deepEqual(events.map(event => event.seq), events.map((_, i) => i + 1), 'seq is not 1..n')
  assert.ok(events.every(event => event.taskId === taskId), 'an event names another task')
  assert.equal(events.filter(event => isTerminal(event.state)).length, 1, 'not exactly one terminal event')
  assert.ok(isTerminal(events.at(-1)!.state), 'the last event is not terminal')
  const order = [TaskState.PENDING, TaskState.QUEUED, TaskState.PULLING, TaskState.STARTING, TaskState.RUNNING]
  for (let i = 1; i < events.length - 1; i++) {
    assert.ok(order.indexOf(events[i].state) >= order.indexOf(events[i - 1].state), `state went back at seq ${events[i].seq}`)
  }
}

/** The distinct states in the order they appeared. */
export function states (events: TaskEvent[]): string[] {
  return events.map(event => TaskState[event.state]).filter((state, i, all) => i === 0 || all[i - 1] !== state)
}

/** Every event of a session until its end, or an error after `boundMs`. */
export async function drain (session: TaskSession, boundMs: number): Promise<TaskEvent[]> {
  const events: TaskEvent[] = []
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`the task stream did not end within ${boundMs} ms (${events.length} events)`)) }, boundMs) })
  try {
    await Promise.race([(async () => { for await (const event of session.events) events.push(event) })(), bound])
    return events
  } finally {
    clearTimeout(timer)
  }
}
