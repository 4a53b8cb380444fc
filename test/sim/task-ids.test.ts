import * as lp from 'it-length-prefixed'
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { SESSION_CODES, TASKS_PROTOCOL } from '../../node/src/protocol/tasks-protocol.ts'
import { encodeSpec, LogStream, MasterMessage, TaskEvent, TaskState, validateSpec } from '../../node/src/protocol/task-messages.ts'
import { startBareMesh, startOpenNode, type TestMesh, type TestNode } from '../helpers/libp2p-pair.ts'
import { simTaskRequest, taskEvents } from '../helpers/sim.ts'
import { storeOf, workerOf } from '../helpers/internals.ts'
import { waitFor } from '../helpers/env.ts'

/**
 * Task ids are per submitter: a worker keeps one task per id, and the
 * events of a task this node submitted share the id's rows in the store. A member that
 * sends a Submit under an id this node already uses, for a task of its own or of another
 * submitter, must be refused, or it reads that task's events and writes its own among them.
 */

/** Any wait in this file: the simulated tasks take milliseconds; slack for a loaded machine. */
const BOUND_MS = 15_000

let alpha: TestNode
let beta: TestNode
/** A member that speaks the task protocol by hand. */
let mallory: TestMesh

before(async () => {
  alpha = await startOpenNode('alpha')
  beta = await startOpenNode('beta')
  await alpha.node.connect(beta.addr.toString())
  mallory = await startBareMesh()
})

after(async () => {
  await mallory?.close()
  await alpha?.close()
  await beta?.close()
})

function stdout (events: TaskEvent[]): string {
  return Buffer.concat(events.flatMap(event => event.log?.stream === LogStream.STDOUT ? [event.log.data] : [])).toString()
}

/**
 * Mallory sends alpha a Submit under `taskId` on a task stream and reads what alpha answers of
 * that task until it ends the task's session (or the bound): its events, and the session's end.
 */
async function submitAs (taskId: string, command: string[]): Promise<{ events: TaskEvent[], refusal?: string }> {
  const spec = validateSpec(encodeSpec({ ...simTaskRequest(command), id: taskId, attempt: 1 }))
  const stream = await mallory.libp2p.dialProtocol(alpha.addr, TASKS_PROTOCOL, { signal: AbortSignal.timeout(BOUND_MS) })
  stream.send(lp.encode.single(MasterMessage.encode({ submit: { spec: encodeSpec(spec) } })).subarray())
  const events: TaskEvent[] = []
  const bound = setTimeout(() => { stream.abort(new Error('test bound')) }, BOUND_MS)
  try {
    for await (const frame of lp.decode(stream)) {
      const event = TaskEvent.decode(frame)
      if (event.seq === 0) return { events, refusal: event.error?.code }
      events.push(event)
    }
  } finally {
    clearTimeout(bound)
    stream.abort(new Error('done'))
  }
  return { events }
}

test('a Submit under the id of a task this node sent, to a peer or to itself, is refused: the member reads nothing of it and its output stays the task\'s own', async () => {
  const toPeer = await alpha.node.tasks.submit('beta', simTaskRequest(['out:alpha\'s own output', 'sleep:300', 'out:more of it', 'exit:0']))
  // A task sent to itself has both roles on this node, legitimately.
  const toSelf = await alpha.node.tasks.submit('self', simTaskRequest(['out:self output', 'sleep:300', 'exit:0']))
  for (const { taskId } of [toPeer, toSelf]) {
    assert.ok(await waitFor(() => storeOf(alpha.node).outputTotals(taskId, 1).stdoutBytes > 0, BOUND_MS, 10), `alpha never recorded output of ${taskId}`)
  }

  for (const { taskId } of [toPeer, toSelf]) {
    const answer = await submitAs(taskId, ['out:shadow', 'exit:0'])
    assert.deepEqual(answer.events.map(event => `${event.seq} ${event.state} ${event.log != null ? Buffer.from(event.log.data).toString() : ''}`), [],
      'alpha answered the member with events of its own task')
    assert.equal(answer.refusal, SESSION_CODES.REFUSED)
  }
  assert.equal(workerOf(alpha.node).get(toPeer.taskId), undefined, 'alpha\'s worker took the member\'s task')
  assert.equal(workerOf(alpha.node).get(toSelf.taskId)?.submitter, alpha.node.peerId.toString())

  const [peerEvents, selfEvents] = await Promise.all([toPeer, toSelf].map(async ({ taskId }) => await taskEvents(alpha.node, taskId, BOUND_MS)))
  assert.equal(peerEvents.at(-1)?.state, TaskState.SUCCEEDED)
  assert.equal(stdout(peerEvents), 'alpha\'s own output\nmore of it\n')
  assert.equal(selfEvents.at(-1)?.state, TaskState.SUCCEEDED)
  assert.equal(stdout(selfEvents), 'self output\n')
})
