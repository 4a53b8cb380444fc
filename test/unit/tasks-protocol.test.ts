import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { Uint8ArrayList } from 'uint8arraylist'
import { PeerUnreachableError } from '../../node/src/errors.ts'
import { ACK_WINDOW_EVENTS } from '../../node/src/protocol/ack-window.ts'
import { LogStream, MasterMessage, TaskEvent, TaskState, encodeSpec, isTerminal, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import { MAX_EVENT_FRAME_BYTES, MAX_MASTER_FRAME_BYTES, type TaskSession } from '../../node/src/protocol/task-protocol.ts'
import { TaskStreams } from '../../node/src/protocol/task-streams.ts'
import { SESSION_CODES, TASKS_PROTOCOL, sessionFrame } from '../../node/src/protocol/tasks-protocol.ts'
import { waitFor } from '../helpers/env.ts'
import { MemoryNetwork, type MemoryPeer } from '../helpers/memory-peers.ts'
import { startProtocolWorker, type ProtocolWorker } from '../helpers/protocol-worker.ts'
import { SIM_IMAGE } from '../helpers/sim.ts'
import { varint } from '../helpers/streams.ts'
import { assertWellFormed, drain, output } from '../helpers/task-checks.ts'

/**
 * /cloudai/tasks/1.0.0 over in-memory streams: a worker (the simulated executor) serving it as
 * a node does, the master's TaskStreams sending several tasks on one stream, and hand-driven
 * peers on either side that send what no honest peer would.
 */

/** The longest any wait may take on a loaded machine. */
const BOUND_MS = 15_000
/** The ack deadline of the worker whose master stops acknowledging: short, so the test does not wait a minute. */
const SHORT_ACK_MS = 1_000
/** The idle deadline of the strict worker. */
const SHORT_IDLE_MS = 1_000
/** Tasks the bounded worker carries per stream. */
const FEW_TASKS = 3
/** Output that fills a task's ack window many times over (the worker sends 64 KiB events at most). */
const LONG_OUTPUT_BYTES = 12 * 1024 * 1024

const network = new MemoryNetwork()
let worker: ProtocolWorker
/** A short ack deadline and few tasks per stream. */
let strict: ProtocolWorker
let master: MemoryPeer
let rogue: MemoryPeer

before(async () => {
  worker = await startProtocolWorker(network)
  strict = await startProtocolWorker(network, { tasksTimeouts: { ackMs: SHORT_ACK_MS, idleMs: SHORT_IDLE_MS }, maxTasksPerStream: FEW_TASKS })
  master = await network.peer()
  rogue = await network.peer()
})

after(async () => {
  await strict?.close()
  await worker?.close()
})

let ids = 0
function spec (command: string[]): TaskSpec {
  return {
    id: `tsk-${Date.now().toString(36)}-${++ids}`,
    image: SIM_IMAGE,
    command,
    env: {},
    resources: { cpu: 0.1, memoryBytes: 64 * 2 ** 20, storageBytes: 2 ** 20, gpus: 0 },
    network: 'none',
    labels: {},
    attempt: 1
  }
}

function frame (message: MasterMessage): Uint8Array {
  return lp.encode.single(MasterMessage.encode(message)).subarray()
}

/** A master driven by hand on one task stream: records every frame the worker sends, acks only when told. */
class RawMaster {
  readonly frames: TaskEvent[] = []
  readonly ended: Promise<'closed' | 'reset'>

  private constructor (readonly stream: Stream) {
    this.ended = this.read()
  }

  static async open (to: ProtocolWorker = worker): Promise<RawMaster> {
    return new RawMaster(await rogue.dialProtocol(to.peer.peerId, TASKS_PROTOCOL, { signal: AbortSignal.timeout(BOUND_MS) }))
  }

  private async read (): Promise<'closed' | 'reset'> {
    try {
      for await (const bytes of lp.decode(this.stream, { maxDataLength: MAX_EVENT_FRAME_BYTES })) this.frames.push(TaskEvent.decode(bytes))
      return 'closed'
    } catch {
      return 'reset'
    }
  }

  send (message: MasterMessage): void {
    this.stream.send(frame(message))
  }

  sendBytes (bytes: Uint8Array): void {
    this.stream.send(bytes)
  }

  submit (task: TaskSpec): void {
    this.send({ submit: { spec: encodeSpec(task) } })
  }

  of (taskId: string): TaskEvent[] {
    return this.frames.filter(event => event.taskId === taskId && event.seq > 0)
  }

  sessionFrames (taskId: string): TaskEvent[] {
    return this.frames.filter(event => event.taskId === taskId && event.seq === 0)
  }

  ended_ (taskId: string): boolean {
    return this.of(taskId).some(event => isTerminal(event.state))
  }
}

/** Whether the worker holds a task by this id. */
function knows (server: ProtocolWorker, taskId: string): boolean {
  try {
    server.worker.taskFor(taskId)
    return true
  } catch {
    return false
  }
}

async function until (check: () => boolean, what: string): Promise<void> {
  assert.ok(await waitFor(check, BOUND_MS, 10), `timed out waiting for ${what}`)
}

/** The stream still carries a new task to its end: a refusal of one message hurt nothing else. */
async function assertStillServes (raw: RawMaster): Promise<void> {
  const task = spec(['out:still here'])
  raw.submit(task)
  await until(() => raw.ended_(task.id), 'a later task on the same stream to end')
  assertWellFormed(raw.of(task.id), task.id)
  assert.equal(raw.of(task.id).at(-1)!.state, TaskState.SUCCEEDED)
}

describe('the worker serving many tasks on one stream', () => {
  test('several tasks sent at once each arrive whole and in order, with their own output', async () => {
    const streams = new TaskStreams(master)
    const tasks = Array.from({ length: 8 }, (_, i) => spec([`out:task ${i}`, 'exit:0']))
    const results = await Promise.all(tasks.map(async task => await drain(await streams.submit(worker.peer.peerId.toString(), task, AbortSignal.timeout(BOUND_MS)), BOUND_MS)))
    tasks.forEach((task, i) => {
      assertWellFormed(results[i], task.id)
      assert.equal(results[i].at(-1)!.state, TaskState.SUCCEEDED)
      assert.equal(output(results[i], LogStream.STDOUT).toString(), `task ${i}\n`)
    })
    assert.equal(master.streamsTo(worker.peer.peerId).length, 1, 'the tasks did not share one stream')
    streams.close()
  })

  test('a task whose master does not acknowledge stops at its window, while the others on the stream run to their end', async () => {
    const raw = await RawMaster.open()
    const noisy = spec([`bytes:${LONG_OUTPUT_BYTES}`])
    raw.submit(noisy)
    await until(() => raw.of(noisy.id).length >= ACK_WINDOW_EVENTS, 'the noisy task to fill its window')
    for (let i = 0; i < 3; i++) await assertStillServes(raw)
    assert.equal(raw.of(noisy.id).length, ACK_WINDOW_EVENTS, 'the worker sent past the window of a task nobody acknowledged')
    // Acknowledging opens the window again: the task goes on from where it stopped, nothing lost.
    const acked = new Set<number>()
    const ackAll = (): void => {
      const last = raw.of(noisy.id).at(-1)!.seq
      if (!acked.has(last)) { acked.add(last); raw.send({ taskId: noisy.id, ack: { seq: last } }) }
    }
    await until(() => { ackAll(); return raw.ended_(noisy.id) }, 'the noisy task to end once acknowledged')
    const events = raw.of(noisy.id)
    assertWellFormed(events, noisy.id)
    assert.equal(output(events, LogStream.STDOUT).length, LONG_OUTPUT_BYTES)
  })

  test('Cancel names its task: only that one ends CANCELLED', async () => {
    const raw = await RawMaster.open()
    const [a, b] = [spec(['sleep:60000']), spec(['sleep:60000'])]
    raw.submit(a)
    raw.submit(b)
    await until(() => raw.of(a.id).some(e => e.state === TaskState.RUNNING) && raw.of(b.id).some(e => e.state === TaskState.RUNNING), 'both to run')
    raw.send({ taskId: a.id, cancel: {} })
    await until(() => raw.ended_(a.id), 'the cancelled task to end')
    assert.equal(raw.of(a.id).at(-1)!.state, TaskState.CANCELLED)
    assert.equal(raw.ended_(b.id), false, 'the other task ended too')
    raw.send({ taskId: b.id, cancel: {} })
    await until(() => raw.ended_(b.id), 'the second task to end')
  })

  test('Detach stops a task\'s events on the stream, is answered, and the task runs on', async () => {
    const raw = await RawMaster.open()
    const task = spec(['sleep:300', 'out:after'])
    raw.submit(task)
    await until(() => raw.of(task.id).some(e => e.state === TaskState.RUNNING), 'the task to run')
    raw.send({ taskId: task.id, detach: true })
    await until(() => raw.sessionFrames(task.id).length === 1, 'the detach to be answered')
    const answer = raw.sessionFrames(task.id)[0]
    assert.equal(answer.error, undefined)
    const seen = raw.of(task.id).length
    await until(() => worker.worker.taskFor(task.id).finished, 'the task to end on the worker')
    await assertStillServes(raw)
    assert.equal(raw.of(task.id).length, seen, 'events of a detached task followed on the stream')
    assert.ok(raw.frames.indexOf(answer) > raw.frames.lastIndexOf(raw.of(task.id).at(-1)!), 'an event followed the answer to the detach')
  })

  test('a master that never acknowledges a full window is cut off from that task after the deadline; the stream and the task go on', async () => {
    const raw = await RawMaster.open(strict)
    const noisy = spec([`bytes:${LONG_OUTPUT_BYTES}`])
    raw.submit(noisy)
    await until(() => raw.sessionFrames(noisy.id).length === 1, 'the worker to end the task\'s session')
    assert.equal(raw.sessionFrames(noisy.id)[0].error?.code, SESSION_CODES.ACK_TIMEOUT)
    assert.equal(raw.of(noisy.id).length, ACK_WINDOW_EVENTS)
    await assertStillServes(raw)
    await until(() => strict.worker.taskFor(noisy.id).finished, 'the task to run to its end')
  })
})

describe('a hostile master on the task stream', () => {
  test('a stream that carries no task and stays silent is reset at the idle deadline; one with a task running is not, until that task ended', async () => {
    const silent = await RawMaster.open(strict)
    const busy = await RawMaster.open(strict)
    const task = spec(['sleep:60000'])
    busy.submit(task)
    const started = performance.now()
    assert.equal(await silent.ended, 'reset')
    const waited = performance.now() - started
    assert.ok(waited >= SHORT_IDLE_MS - 100 && waited < BOUND_MS, `reset after ${Math.round(waited)} ms (deadline ${SHORT_IDLE_MS} ms)`)
    await delay(SHORT_IDLE_MS)
    assert.equal(busy.stream.status, 'open')
    busy.send({ taskId: task.id, cancel: {} })
    await until(() => busy.ended_(task.id), 'the task to end')
    // Its last task ended: now it is idle too.
    assert.equal(await busy.ended, 'reset')
  })


  test('Ack, Cancel and Detach for tasks not on the stream change nothing (another submitter\'s task included)', async () => {
    const victim = await RawMaster.open()
    const task = spec(['sleep:60000'])
    victim.submit(task)
    await until(() => victim.of(task.id).some(e => e.state === TaskState.RUNNING), 'the victim\'s task to run')
    const raw = await RawMaster.open()
    raw.send({ taskId: task.id, cancel: {} })
    raw.send({ taskId: task.id, ack: { seq: 1_000_000 } })
    raw.send({ taskId: 'never-sent', ack: { seq: 5 } })
    raw.send({ taskId: task.id, detach: true })
    await until(() => raw.sessionFrames(task.id).length === 1, 'the detach to be answered')
    assert.equal(raw.sessionFrames(task.id)[0].error, undefined)
    await assertStillServes(raw)
    assert.equal(worker.worker.taskFor(task.id).finished, false, 'another stream cancelled the task')
    assert.ok(!victim.frames.some(e => e.seq === 0), 'the victim\'s session was touched')
    victim.send({ taskId: task.id, cancel: {} })
    await until(() => victim.ended_(task.id), 'the victim to cancel its own task')
    assert.equal(victim.of(task.id).at(-1)!.state, TaskState.CANCELLED)
  })

  test('a spec the worker refuses is REJECTED as that task\'s only event, and the stream goes on', async () => {
    const raw = await RawMaster.open()
    const bad = { ...spec(['exit:0']), image: '' }
    raw.submit(bad)
    await until(() => raw.ended_(bad.id), 'the refusal')
    assert.deepEqual(raw.of(bad.id).map(e => [e.seq, e.state, e.error?.code]), [[1, TaskState.REJECTED, 'INVALID_SPEC']])
    await assertStillServes(raw)
  })

  for (const [name, bytes] of [
    ['a frame that is not a MasterMessage', lp.encode.single(Uint8Array.from([0xff, 0xff, 0xff, 0xff])).subarray()],
    ['a message with two fields set', frame({ taskId: 'x', ack: { seq: 1 }, cancel: {} })],
    ['a message with none set', frame({ taskId: 'x' })],
    ['an Ack without a task id', frame({ ack: { seq: 1 } })],
    ['a Cancel naming an impossible task id', frame({ taskId: '../../etc', cancel: {} })],
    ['a length prefix longer than any frame (endless)', Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['a frame past the size limit', Uint8Array.from([...varint(MAX_MASTER_FRAME_BYTES + 1), 1, 2, 3])],
    ['a truncated frame, then the end', Uint8Array.from([...varint(100), 1, 2, 3])]
  ] as const) {
    test(`${name}: the stream is reset at once, and the worker serves the next one`, async () => {
      const raw = await RawMaster.open()
      const task = spec(['sleep:60000'])
      raw.submit(task)
      await until(() => raw.of(task.id).length > 0, 'the task to start')
      raw.sendBytes(bytes)
      if (name.startsWith('a truncated')) await raw.stream.close()
      assert.equal(await raw.ended, 'reset')
      // The task itself runs on; its master attaches again to follow it.
      assert.equal(worker.worker.taskFor(task.id).finished, false)
      worker.worker.cancel(task.id)
      await assertStillServes(await RawMaster.open())
    })
  }

  test('a second Submit for a task already on the stream resets it', async () => {
    const raw = await RawMaster.open()
    const task = spec(['sleep:60000'])
    raw.submit(task)
    raw.submit(task)
    assert.equal(await raw.ended, 'reset')
    worker.worker.cancel(task.id)
  })

  test('a peer that opens more tasks than the stream carries is refused each one past the bound, until some end', async () => {
    const raw = await RawMaster.open(strict)
    const held = Array.from({ length: FEW_TASKS }, () => spec(['sleep:60000']))
    for (const task of held) raw.submit(task)
    const extra = Array.from({ length: 20 }, () => spec(['exit:0']))
    for (const task of extra) raw.submit(task)
    await until(() => extra.every(task => raw.sessionFrames(task.id).length === 1), 'every task past the bound to be refused')
    assert.ok(extra.every(task => raw.sessionFrames(task.id)[0].error?.code === SESSION_CODES.TOO_MANY_TASKS))
    assert.ok(extra.every(task => raw.of(task.id).length === 0), 'a refused task sent events')
    assert.ok(extra.every(task => !knows(strict, task.id)), 'a refused task was stored')
    raw.send({ taskId: held[0].id, cancel: {} })
    await until(() => raw.ended_(held[0].id), 'one held task to end')
    await assertStillServes(raw)
    for (const task of held.slice(1)) raw.send({ taskId: task.id, cancel: {} })
  })
})

/** A worker driven by hand: answers a Submit with whatever frames the test gives. */
async function rogueWorker (answer: (submitted: TaskSpec['id'], stream: Stream) => void): Promise<MemoryPeer> {
  const peer = await network.peer()
  await peer.handle(TASKS_PROTOCOL, async (stream: Stream) => {
    for await (const bytes of lp.decode(stream, { maxDataLength: MAX_MASTER_FRAME_BYTES })) {
      const message = MasterMessage.decode(bytes)
      if (message.submit?.spec != null) answer(message.submit.spec.id, stream)
    }
  })
  return peer
}

function eventFrames (...events: TaskEvent[]): Uint8Array {
  return new Uint8ArrayList(...events.map(event => lp.encode.single(TaskEvent.encode(event)))).subarray()
}

function event (taskId: string, seq: number, state = TaskState.RUNNING): TaskEvent {
  return { taskId, seq, timeMs: Date.now(), state }
}

describe('a worker of an earlier version', () => {
  test('one that takes no tasks on the task stream fails the send with PEER_UNREACHABLE, saying to upgrade it', async () => {
    const older = await network.peer()
    const streams = new TaskStreams(master)
    await assert.rejects(streams.submit(older.peerId.toString(), spec(['exit:0']), AbortSignal.timeout(BOUND_MS)),
      (err: Error) => err instanceof PeerUnreachableError && err.message.includes(TASKS_PROTOCOL) && /earlier version of cloudai; upgrade it/.test(err.message))
    streams.close()
  })
})

describe('a hostile worker on the task stream', () => {
  /** Two tasks sent to a rogue worker that answers each with `answer`; their readers start after `readAfterMs`. */
  async function twoTasks (answer: (taskId: string, stream: Stream, index: number) => void, readAfterMs = 0): Promise<Array<PromiseSettledResult<TaskEvent[]>>> {
    let index = 0
    const peer = await rogueWorker((taskId, stream) => { answer(taskId, stream, index++) })
    const streams = new TaskStreams(master)
    const sessions = await Promise.all([spec(['exit:0']), spec(['exit:0'])].map(async task => await streams.submit(peer.peerId.toString(), task, AbortSignal.timeout(BOUND_MS))))
    await delay(readAfterMs)
    const results = await Promise.allSettled(sessions.map(async session => await drain(session, BOUND_MS)))
    streams.close()
    return results
  }

  test('an event of a task the master did not send fails every task on the stream', async () => {
    const results = await twoTasks((taskId, stream, i) => { if (i === 1) stream.send(eventFrames(event('someone-else', 1))) })
    assert.ok(results.every(result => result.status === 'rejected' && /did not send/.test(String(result.reason))))
  })

  test('events past a task\'s ack window (its reader took none) fail the stream', async () => {
    const results = await twoTasks((taskId, stream, i) => {
      if (i === 0) stream.send(eventFrames(...Array.from({ length: ACK_WINDOW_EVENTS + 1 }, (_, n) => event(taskId, n + 1))))
    }, 200)
    assert.ok(results.every(result => result.status === 'rejected' && /past the master's acknowledgements/.test(String(result.reason))), String(results.map(r => r.status === 'rejected' ? r.reason : 'ok')))
  })

  test('an event out of order fails the stream; a session frame with an error fails only its task', async () => {
    const outOfOrder = await twoTasks((taskId, stream, i) => { if (i === 0) stream.send(eventFrames(event(taskId, 2))) })
    assert.ok(outOfOrder.every(result => result.status === 'rejected' && /event 2 where 1 was due/.test(String(result.reason))), String(outOfOrder.map(r => r.status === 'rejected' ? r.reason : 'ok')))
    const ended = await twoTasks((taskId, stream, i) => {
      stream.send(eventFrames(i === 0 ? sessionFrame(taskId, { code: 'ACK_TIMEOUT', message: 'gone' }) : event(taskId, 1, TaskState.SUCCEEDED)))
    })
    assert.equal(ended[0].status, 'rejected')
    assert.match(String((ended[0] as PromiseRejectedResult).reason), /ACK_TIMEOUT/)
    assert.equal(ended[1].status, 'fulfilled')
  })

  test('a reader that stops early detaches: its events until the answer are dropped, and the task can be sent again', async () => {
    let sent = 0
    const peer = await rogueWorker((taskId, stream) => {
      sent++
      stream.send(eventFrames(event(taskId, 1), event(taskId, 2)))
      if (sent === 1) setTimeout(() => { stream.send(eventFrames(event(taskId, 3), sessionFrame(taskId))) }, 50)
      else stream.send(eventFrames(event(taskId, 3, TaskState.SUCCEEDED)))
    })
    const streams = new TaskStreams(master)
    const task = spec(['exit:0'])
    const first = await streams.submit(peer.peerId.toString(), task, AbortSignal.timeout(BOUND_MS))
    for await (const seen of first.events) { assert.equal(seen.seq, 1); break }
    await assert.rejects(streams.submit(peer.peerId.toString(), task), /still on the stream/)
    // Once the worker answered the detach, the task may be sent again, and only the new session's events are read.
    const deadline = Date.now() + BOUND_MS
    let again: TaskSession | undefined
    while (again == null) {
      try {
        again = await streams.submit(peer.peerId.toString(), task)
      } catch (err) {
        if (!/still on the stream/.test(String(err)) || Date.now() > deadline) throw err
        await delay(20)
      }
    }
    assert.deepEqual((await drain(again, BOUND_MS)).map(e => [e.seq, e.state]), [[1, TaskState.RUNNING], [2, TaskState.RUNNING], [3, TaskState.SUCCEEDED]])
    streams.close()
  })
})
