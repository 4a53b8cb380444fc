import type { PeerId, Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { TaskSpec as WireTaskSpec } from '../../protocols/task.ts'
import { createSimulatedExecutor, type SimulatedExecutor } from '../../node/src/executor/simulated.ts'
import { MAX_EVENT_FRAME_BYTES, MAX_MASTER_FRAME_BYTES } from '../../node/src/protocol/task-protocol.ts'
import { IDLE_TIMEOUT_MS, SESSION_CODES, TASKS_PROTOCOL } from '../../node/src/protocol/tasks-protocol.ts'
import { TaskStreams } from '../../node/src/protocol/task-streams.ts'
import { LogStream, MasterMessage, TaskEvent, TaskState, isTerminal, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import { ACK_WINDOW_EVENTS } from '../../node/src/protocol/ack-window.ts'
import { DEFAULT_LOG_LIMIT_BYTES } from '../../node/src/worker/worker-task.ts'
import { waitFor } from '../helpers/env.ts'
import { SIM_IMAGE } from '../helpers/sim.ts'
import { readUntilEnd, type StreamOutcome, varint } from '../helpers/streams.ts'
import { MemoryNetwork, type MemoryPeer } from '../helpers/memory-peers.ts'
import { startProtocolWorker, type ProtocolWorker } from '../helpers/protocol-worker.ts'
import { assertWellFormed, drain, output, states } from '../helpers/task-checks.ts'

/**
 * A task's life on /cloudai/tasks/1.0.0 over in-memory streams: a worker (the simulated
 * executor) serving it as a node does, a master that sends with TaskStreams, and a rogue peer
 * that speaks the protocol by hand, one task per stream (many tasks on one stream, and hostile
 * peers on it: tasks-protocol.test.ts). What the master role makes of it is tested between
 * nodes in test/sim/master-tasks.test.ts.
 */

/** A case the worker must refuse on its own (not by waiting for its deadline) ends well inside this. */
const PROMPT_MS = IDLE_TIMEOUT_MS / 2
/** The longest any wait may take: the protocol deadline plus generous slack for a loaded machine. */
const BOUND_MS = IDLE_TIMEOUT_MS + 5_000
/** How long "a while" is when checking that something does not happen. */
const QUIET_MS = 1_000
/** The idle deadline of the worker that a silent stream waits out: short, so the test does not wait 10 s. */
const SHORT_IDLE_MS = 1_000
const CAPACITY = { cpu: 4, memoryBytes: 8 * 2 ** 30, storageBytes: 100 * 2 ** 30, gpus: 0 }
/** What the simulated executor's `bytes:<n>` writes, repeated. */
const PATTERN = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789\n')

/** The simulated executor, counting every run it is asked for (a second Submit must start nothing). */
interface CountingExecutor extends SimulatedExecutor {
  runs: () => number
}

function countingExecutor (): CountingExecutor {
  const inner = createSimulatedExecutor()
  let runs = 0
  return {
    ...inner,
    run: async (task, observer, signal) => {
      runs++
      return inner.run(task, observer, signal)
    },
    runs: () => runs
  }
}

const network = new MemoryNetwork()
let executor: CountingExecutor
/** Serves the task protocol with production's deadlines. */
let worker: ProtocolWorker
/** The same with a short Submit deadline, for the stream that never sends one. */
let hasty: ProtocolWorker
/** Submits with the protocol's own dialer, as a node's master role does. */
let master: MemoryPeer
/** A peer that speaks the task protocol by hand. */
let rogue: MemoryPeer

before(async () => {
  executor = countingExecutor()
  worker = await startProtocolWorker(network, { executor, capacity: CAPACITY })
  hasty = await startProtocolWorker(network, { tasksTimeouts: { idleMs: SHORT_IDLE_MS } })
  master = await network.peer()
  rogue = await network.peer()
})

after(async () => {
  await hasty?.close()
  await worker?.close()
})

let ids = 0
/** A spec with a fresh id, as the master role makes it from a request. */
function spec (command: string[], overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    id: `tp-${Date.now().toString(36)}-${++ids}`,
    image: SIM_IMAGE,
    command,
    env: {},
    resources: { cpu: 0.5, memoryBytes: 64 * 2 ** 20, storageBytes: 2 ** 20, gpus: 0 },
    network: 'none',
    labels: {},
    attempt: 1,
    ...overrides
  }
}

/** Submit to the worker with the protocol's dialer and read every event, all within `boundMs`. */
async function run (command: string[], overrides: Partial<TaskSpec> = {}, boundMs = BOUND_MS): Promise<{ taskId: string, events: TaskEvent[] }> {
  const submitted = spec(command, overrides)
  const session = await new TaskStreams(master).submit(worker.peer.peerId.toString(), submitted, AbortSignal.timeout(boundMs))
  return { taskId: submitted.id, events: await drain(session, boundMs) }
}

async function assertWorkerStillServes (): Promise<void> {
  const { taskId, events } = await run(['out:still here'])
  assertWellFormed(events, taskId)
  assert.equal(events.at(-1)!.state, TaskState.SUCCEEDED)
  assert.equal(output(events, LogStream.STDOUT).toString(), 'still here\n')
}

function frame (message: MasterMessage): Uint8Array {
  return lp.encode.single(MasterMessage.encode(message)).subarray()
}

/** A length-delimited protobuf field. */
function field (number: number, bytes: Uint8Array): Uint8Array {
  return Uint8Array.from([...varint(number * 8 + 2), ...varint(bytes.length), ...bytes])
}

/**
 * A Submit frame whose spec has memory 2^64 - 1: what a negative memory figure becomes on
 * the wire (uint64). protons cannot write it (it encodes a negative number as a broken
 * varint), so the resources are written by hand and appended to the encoded spec.
 */
function negativeMemoryFrame (spec: WireTaskSpec): Uint8Array {
  const cpu = new Uint8Array(8)
  new DataView(cpu.buffer).setFloat64(0, 0.5, true)
  const resources = Uint8Array.from([0x09, ...cpu, 0x10, ...new Array(9).fill(0xff), 0x01, 0x18, 0x01])
  const specBytes = Uint8Array.from([...WireTaskSpec.encode({ ...spec, resources: undefined }), ...field(5, resources)])
  return lp.encode.single(field(1, field(1, specBytes))).subarray()
}

let rawIds = 0
/** A spec as the master puts it on the wire, with a fresh id unless given. */
function wireSpec (command: string[], overrides: Partial<WireTaskSpec> = {}): WireTaskSpec {
  return {
    id: `raw-${Date.now().toString(36)}-${++rawIds}`,
    imageHolders: [],
    image: SIM_IMAGE,
    command,
    env: new Map(),
    resources: { cpu: 0.5, memoryBytes: 64 * 2 ** 20, storageBytes: 2 ** 20, gpus: 0 },
    network: 'none',
    timeoutMs: 0,
    labels: new Map(),
    attempt: 1,
    ...overrides
  }
}

async function rawStream (bytes?: Uint8Array, to: PeerId = worker.peer.peerId): Promise<Stream> {
  const stream = await rogue.dialProtocol(to, TASKS_PROTOCOL, { signal: AbortSignal.timeout(BOUND_MS) })
  if (bytes != null) stream.send(bytes)
  return stream
}

/**
 * A hand-driven master sending one task on a task stream of its own: records each of the
 * task's events as it arrives (and every frame, session frames included), and acks only when
 * told to (or every event once `autoAck` is set).
 */
class RawMaster {
  readonly stream: Stream
  readonly taskId: string
  readonly events: TaskEvent[] = []
  readonly frames: TaskEvent[] = []
  autoAck = false
  readonly ended: Promise<{ end: 'closed' | 'reset', error?: Error }>

  private constructor (stream: Stream, taskId: string) {
    this.stream = stream
    this.taskId = taskId
    this.ended = this.read()
  }

  static async submit (spec: WireTaskSpec, autoAck = false): Promise<RawMaster> {
    const raw = new RawMaster(await rawStream(), spec.id)
    raw.autoAck = autoAck
    raw.send({ submit: { spec } })
    return raw
  }

  private async read (): Promise<{ end: 'closed' | 'reset', error?: Error }> {
    try {
      for await (const bytes of lp.decode(this.stream, { maxDataLength: MAX_EVENT_FRAME_BYTES })) {
        const event = TaskEvent.decode(bytes)
        this.frames.push(event)
        if (event.taskId !== this.taskId || event.seq === 0) continue
        this.events.push(event)
        if (this.autoAck && !isTerminal(event.state)) this.ack(event.seq)
      }
      return { end: 'closed' }
    } catch (err) {
      return { end: 'reset', error: err instanceof Error ? err : new Error(String(err)) }
    }
  }

  send (message: MasterMessage): void {
    this.stream.send(frame(message))
  }

  ack (seq = this.events.at(-1)?.seq ?? 0): void {
    try {
      this.send({ taskId: this.taskId, ack: { seq } })
    } catch {
      // The stream may have ended.
    }
  }

  cancel (): void {
    this.send({ taskId: this.taskId, cancel: {} })
  }

  get terminal (): TaskEvent | undefined {
    return this.events.find(event => isTerminal(event.state))
  }

  async until (check: () => boolean, boundMs = BOUND_MS): Promise<boolean> {
    return waitFor(check, boundMs, 10)
  }

  /**
   * Read until the task's terminal event ('ended': the stream stays open for other tasks), or
   * the stream's end, bounded; then let the stream go.
   */
  async end (boundMs = BOUND_MS): Promise<{ end: 'ended' | 'closed' | 'reset' | 'timeout', error?: Error }> {
    const terminal = waitFor(() => this.terminal != null, boundMs, 10).then(seen => (seen ? { end: 'ended' as const } : { end: 'timeout' as const }))
    try {
      return await Promise.race([this.ended, terminal])
    } finally {
      this.stream.abort(new Error('the test is done with the stream'))
    }
  }
}

/** The worker sent nothing and cut the stream (reset), promptly. */
function assertRefusedWithoutAnswer (outcome: StreamOutcome, why: string): void {
  assert.notEqual(outcome.end, 'timeout', `${why}: the worker left the stream open`)
  assert.equal(outcome.bytes.length, 0, `${why}: the worker answered ${outcome.bytes.length} bytes`)
  assert.equal(outcome.end, 'reset', `${why}: the worker closed the stream instead of resetting it`)
  assert.ok(outcome.elapsedMs < PROMPT_MS, `${why}: took ${Math.round(outcome.elapsedMs)} ms`)
}

/** The first `count` frames the worker sends on `stream`, within the bound. */
async function firstFrames (stream: Stream, count: number): Promise<TaskEvent[]> {
  const frames: TaskEvent[] = []
  const bound = setTimeout(() => { stream.abort(new Error('test bound reached')) }, BOUND_MS)
  try {
    for await (const chunk of lp.decode(stream, { maxDataLength: MAX_EVENT_FRAME_BYTES })) {
      frames.push(TaskEvent.decode(chunk))
      if (frames.length >= count) break
    }
  } finally {
    clearTimeout(bound)
  }
  assert.equal(frames.length, count, `the worker sent ${frames.length} frames, not ${count}`)
  return frames
}

/** A REJECTED event with INVALID_SPEC arrives promptly as the task's only frame, and the stream goes on. */
async function assertRejectedAsInvalid (spec: WireTaskSpec, why: string, bytes = frame({ submit: { spec } })): Promise<void> {
  const stream = await rawStream(bytes)
  const started = performance.now()
  const frames: TaskEvent[] = []
  const reading = (async () => {
    try {
      for await (const chunk of lp.decode(stream, { maxDataLength: MAX_EVENT_FRAME_BYTES })) frames.push(TaskEvent.decode(chunk))
    } catch {}
  })()
  try {
    assert.ok(await waitFor(() => frames.length > 0 || stream.status !== 'open', BOUND_MS, 10), `${why}: no answer`)
    const elapsedMs = performance.now() - started
    await delay(50)
    assert.equal(frames.length, 1, `${why}: ${frames.length} frames (stream ${stream.status})`)
    const [event] = frames
    assert.equal(event.state, TaskState.REJECTED, `${why}: ${TaskState[event.state]}`)
    assert.equal(event.seq, 1)
    assert.equal(event.error?.code, 'INVALID_SPEC', `${why}: ${event.error?.code}`)
    assert.ok((event.error?.message.length ?? 0) > 0, `${why}: no message`)
    assert.equal(stream.status, 'open', `${why}: the stream ended after the REJECTED event`)
    assert.ok(elapsedMs < PROMPT_MS, `${why}: took ${Math.round(elapsedMs)} ms`)
    assert.equal(worker.worker.get(spec.id), undefined, `${why}: the worker kept the task`)
  } finally {
    stream.abort(new Error('the test is done with the stream'))
    await reading
  }
}

async function assertNothingRunning (): Promise<void> {
  assert.ok(await waitFor(() => executor.running() === 0 && worker.worker.active().length === 0, BOUND_MS),
    `still running: ${executor.running()} containers, ${worker.worker.active().length} active tasks`)
}

// The silent stream waits out the Submit deadline beside everything else, to keep the file quick.
describe('a task on a task stream', { concurrency: true }, () => {
  test('a stream that never sends a Submit is dropped after the idle deadline', async () => {
    const outcome = await readUntilEnd(await rawStream(undefined, hasty.peer.peerId), SHORT_IDLE_MS + 5_000)
    assert.notEqual(outcome.end, 'timeout', 'the worker left a silent stream open')
    assert.equal(outcome.bytes.length, 0)
    assert.ok(outcome.elapsedMs >= SHORT_IDLE_MS - 50, `cut after only ${Math.round(outcome.elapsedMs)} ms`)
  })

  describe('in turn', { concurrency: 1 }, () => {
    test('a submit streams PULLING → STARTING → RUNNING → logs → SUCCEEDED with seq 1..n', async () => {
      const { taskId, events } = await run(['out:hello', 'err:oops', 'sleep:20', 'out:bye'])
      assertWellFormed(events, taskId)
      assert.deepEqual(states(events), ['PULLING', 'STARTING', 'RUNNING', 'SUCCEEDED'])
      assert.ok(events.some(event => event.state === TaskState.PULLING && event.pull != null && event.pull.totalBytes > 0), 'no pull progress')
      assert.match(events.find(event => event.state === TaskState.RUNNING)?.containerId ?? '', /^[0-9a-f]{64}$/)
      assert.equal(output(events, LogStream.STDOUT).toString(), 'hello\nbye\n')
      assert.equal(output(events, LogStream.STDERR).toString(), 'oops\n')
      assert.deepEqual(events.at(-1)!.exit, { code: 0, oomKilled: false, timedOut: false })
      const logs = events.filter(event => event.log != null)
      assert.ok(logs.every(event => event.state === TaskState.RUNNING), 'a log event outside RUNNING')
      const onWorker = worker.worker.get(taskId)
      assert.equal(onWorker?.state, TaskState.SUCCEEDED)
      assert.equal(onWorker?.submitter, master.peerId.toString())
      assert.equal(onWorker?.lastSeq, events.length)
    })

    test('exit codes, OOM and a missing command propagate to the master', async () => {
      const cases: Array<[string[], TaskState, number | undefined, string | undefined]> = [
        [['exit:0'], TaskState.SUCCEEDED, 0, undefined],
        [['out:x', 'exit:3'], TaskState.FAILED, 3, undefined],
        [['exit:1'], TaskState.FAILED, 1, undefined],
        [['err:bad', 'exit:255'], TaskState.FAILED, 255, undefined],
        [['oom'], TaskState.FAILED, 137, 'OOM_KILLED'],
        [['no-such-command'], TaskState.FAILED, undefined, 'COMMAND_NOT_FOUND']
      ]
      const results = await Promise.all(cases.map(async ([command]) => run(command)))
      for (const [i, [command, state, code, errorCode]] of cases.entries()) {
        const { taskId, events } = results[i]
        assertWellFormed(events, taskId)
        const last = events.at(-1)!
        assert.equal(TaskState[last.state], TaskState[state], command.join(' '))
        assert.equal(last.exit?.code, code, command.join(' '))
        assert.equal(last.error?.code, errorCode, command.join(' '))
        if (command[0] === 'oom') assert.equal(last.exit?.oomKilled, true)
      }
    })

    test('a task that can never fit is REJECTED with the numbers, as event 1', async () => {
      const { events } = await run(['exit:0'], { resources: { cpu: 64, memoryBytes: 2 ** 40, storageBytes: 1, gpus: 0 } })
      assert.equal(events.length, 1)
      assert.equal(events[0].state, TaskState.REJECTED)
      assert.equal(events[0].error?.code, 'NEVER_FITS')
      assert.match(events[0].error?.message ?? '', /64 CPU, node has 4/)
      assert.equal(executor.running(), 0)
    })

    test('3,000,000 bytes of output arrive complete and in order', async () => {
      const { taskId, events } = await run(['bytes:3000000', 'err:done'])
      assertWellFormed(events, taskId)
      assert.equal(events.at(-1)!.state, TaskState.SUCCEEDED)
      const stdout = output(events, LogStream.STDOUT)
      assert.equal(stdout.length, 3_000_000)
      const expected = Buffer.alloc(3_000_000)
      for (let i = 0; i < expected.length; i += PATTERN.length) PATTERN.copy(expected, i)
      assert.ok(stdout.equals(expected), 'the output differs from what the container wrote')
      assert.ok(events.every(event => (event.log?.data.byteLength ?? 0) <= 64 * 1024), 'a chunk over 64 KiB')
      assert.equal(output(events, LogStream.STDERR).toString(), 'done\n')
    })

    test(`many more events than the ack window (${ACK_WINDOW_EVENTS}) arrive in order, none lost`, async () => {
      const lines = Array.from({ length: ACK_WINDOW_EVENTS * 5 }, (_, i) => `line ${i}`)
      const { taskId, events } = await run([...lines.map(line => `out:${line}`), 'exit:0'])
      assertWellFormed(events, taskId)
      assert.equal(output(events, LogStream.STDOUT).toString(), lines.map(line => `${line}\n`).join(''))
    })

    test('a master that never acks gets at most the ack window; the output goes to the worker\'s store, capped, not into memory', async () => {
      await assertNothingRunning()
      const spec = wireSpec(['bytes:20000000', 'sleep:60000'])
      const raw = await RawMaster.submit(spec)
      try {
        assert.ok(await raw.until(() => raw.events.length >= ACK_WINDOW_EVENTS, BOUND_MS), `only ${raw.events.length} events arrived`)
        const task = worker.worker.get(spec.id)
        assert.ok(task != null)
        // The container writes on (into the store) while the master reads nothing.
        const stored = worker.store.outputTotals(spec.id, 1)
        for (let i = 0; i < 100 && !worker.store.outputTotals(spec.id, 1).truncated; i++) await new Promise(resolve => setTimeout(resolve, 50))
        assert.ok(worker.store.outputTotals(spec.id, 1).truncated, `the output stopped at ${stored.stdoutBytes} bytes without acks`)
        assert.equal(raw.events.length, ACK_WINDOW_EVENTS, 'the worker sent past the ack window')
        assert.equal(executor.running(), 1, 'the container is not running any more')

        // An ack opens the window by what it acknowledges, no more.
        raw.ack(10)
        assert.ok(await raw.until(() => raw.events.length >= ACK_WINDOW_EVENTS + 10, BOUND_MS), `${raw.events.length} events after acking 10`)
        await new Promise(resolve => setTimeout(resolve, QUIET_MS / 2))
        assert.equal(raw.events.length, ACK_WINDOW_EVENTS + 10)

        // Cancel, then ack everything: every stored event arrives, and the task ends CANCELLED.
        raw.cancel()
        raw.autoAck = true
        raw.ack()
        const end = await raw.end()
        assert.equal(end.end, 'ended', `stream ${end.end} ${end.error?.name ?? ''}`)
        assertWellFormed(raw.events, spec.id)
        assert.equal(raw.terminal?.state, TaskState.CANCELLED)
        const totals = worker.store.outputTotals(spec.id, 1)
        assert.equal(totals.storedBytes, DEFAULT_LOG_LIMIT_BYTES, 'output stored up to the log limit (counted with each event\'s overhead)')
        assert.equal(output(raw.events, LogStream.STDOUT).length, totals.stdoutBytes, 'the output up to the log limit, all of it')
        assert.equal(raw.events.filter(event => event.truncated != null).length, 1, 'one event says the rest was dropped')
      } finally {
        raw.stream.abort(new Error('test over'))
      }
      await assertNothingRunning()
    })

    test('a master that vanishes while the ack window is full does not hold the task up', async () => {
      await assertNothingRunning()
      const spec = wireSpec(['bytes:8000000', 'exit:0'])
      const raw = await RawMaster.submit(spec)
      try {
        assert.ok(await raw.until(() => raw.events.length >= ACK_WINDOW_EVENTS, BOUND_MS), `only ${raw.events.length} events arrived`)
        raw.stream.abort(new Error('the master went away'))
        // Nobody reads the task any more: its output goes on into the worker's store and it finishes.
        const released = await waitFor(() => worker.worker.get(spec.id)?.finished === true, 5_000)
        assert.ok(released, `the task is stuck at event ${worker.worker.get(spec.id)?.lastSeq} after its master's stream was reset`)
        assert.equal(worker.worker.get(spec.id)?.state, TaskState.SUCCEEDED)
      } finally {
        raw.stream.abort(new Error('test over'))
      }
      await assertNothingRunning()
    })

    test('a second Submit with the same task id starts nothing new and replays the same events', async () => {
      const runsBefore = executor.runs()
      const spec = wireSpec(['out:once', 'sleep:300', 'err:twice?', 'exit:4'])
      const first = await RawMaster.submit(spec, true)
      assert.ok(await first.until(() => first.events.some(event => event.log != null)), 'the first stream saw no output')
      // While the first run is live: a second stream attaches to it.
      const second = await RawMaster.submit(spec, true)
      const [firstEnd, secondEnd] = await Promise.all([first.end(), second.end()])
      assert.equal(firstEnd.end, 'ended')
      assert.equal(secondEnd.end, 'ended')
      // After the end: a third stream replays everything.
      const third = await RawMaster.submit({ ...spec, command: ['out:different', 'exit:0'] }, true)
      assert.equal((await third.end()).end, 'ended')

      assert.equal(executor.runs() - runsBefore, 1, 'the same task id ran more than once')
      assertWellFormed(first.events, spec.id)
      assert.equal(first.terminal?.exit?.code, 4)
      assert.deepEqual(second.events, first.events)
      assert.deepEqual(third.events, first.events)
      assert.equal(output(third.events, LogStream.STDOUT).toString(), 'once\n')
    })

    test('the same task id from another submitter is refused without touching the task', async () => {
      const spec = wireSpec(['out:mine', 'exit:0'])
      const owner = await RawMaster.submit(spec, true)
      assert.equal((await owner.end()).end, 'ended')
      const runs = executor.runs()
      const stream = await master.dialProtocol(worker.peer.peerId, TASKS_PROTOCOL, { signal: AbortSignal.timeout(BOUND_MS) })
      stream.send(frame({ submit: { spec } }))
      // Refused as a session frame that carries nothing of the task; the stream serves on.
      const [answer] = await firstFrames(stream, 1)
      assert.deepEqual([answer.seq, answer.error?.code, answer.log], [0, SESSION_CODES.REFUSED, undefined])
      stream.abort(new Error('the test is done with the stream'))
      assert.equal(executor.runs(), runs)
      await assertWorkerStillServes()
    })

    test('truncated frame, endless varint, oversized prefix and frame over the limit are reset at once', async () => {
      const cases: Array<[string, Uint8Array, boolean]> = [
        ['truncated frame then close', Uint8Array.from([...varint(100), 1, 2, 3]), true],
        ['an endless varint', new Uint8Array(20).fill(0xff), false],
        ['a length prefix over the limit', Uint8Array.from([...varint(MAX_MASTER_FRAME_BYTES + 1), 0x0a, 0x00]), false],
        ['a frame over the limit', lp.encode.single(new Uint8Array(MAX_MASTER_FRAME_BYTES + 1)).subarray(), false],
        ['a 4 GiB length prefix', Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]), false]
      ]
      for (const [why, bytes, close] of cases) {
        const stream = await rawStream(bytes)
        if (close) await stream.close({ signal: AbortSignal.timeout(BOUND_MS) }).catch(() => {})
        assertRefusedWithoutAnswer(await readUntilEnd(stream, BOUND_MS), why)
        await assertWorkerStillServes()
      }
    })

    test('garbage bytes, and a first message other than Submit, are reset at once', async () => {
      const cases: Array<[string, Uint8Array]> = [
        ['random bytes in a frame', lp.encode.single(Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x13, 0x37])).subarray()],
        ['bad wire type in a frame', lp.encode.single(Uint8Array.from([0x0f])).subarray()],
        ['a field claiming more bytes than the frame has', lp.encode.single(Uint8Array.from([0x0a, 0x05, 0x01])).subarray()],
        ['an endless tag varint in a frame', lp.encode.single(new Uint8Array(32).fill(0xff)).subarray()],
        ['an empty message', lp.encode.single(new Uint8Array(0)).subarray()],
        ['Ack first', frame({ ack: { seq: 1 } })],
        ['Cancel first', frame({ cancel: {} })],
        ['Submit and Ack in one message', frame({ submit: { spec: wireSpec(['exit:0']) }, ack: { seq: 0 } })],
        ['a Submit without a spec', frame({ submit: {} })]
      ]
      const runs = executor.runs()
      for (const [why, bytes] of cases) {
        if (why === 'a Submit without a spec') {
          // A Submit whose spec is missing is an invalid spec: REJECTED (the stream serves on).
          const stream = await rawStream(bytes)
          const [answer] = await firstFrames(stream, 1)
          stream.abort(new Error('the test is done with the stream'))
          assert.equal(answer.error?.code, 'INVALID_SPEC')
          await assertWorkerStillServes()
          continue
        }
        const outcome = await readUntilEnd(await rawStream(bytes), BOUND_MS)
        {
          assertRefusedWithoutAnswer(outcome, why)
        }
        await assertWorkerStillServes()
      }
      assert.equal(executor.runs() - runs, cases.length, 'a refused stream started a task')
    })

    test('a valid frame with an invalid spec gets REJECTED with INVALID_SPEC, and the stream serves on', async () => {
      const runs = executor.runs()
      const resources = { cpu: 0.5, memoryBytes: 64 * 2 ** 20, storageBytes: 2 ** 20, gpus: 0 }
      const cases: Array<[string, Partial<WireTaskSpec>]> = [
        ['zero memory', { resources: { ...resources, memoryBytes: 0 } }],
        ['NaN CPU', { resources: { ...resources, cpu: Number.NaN } }],
        ['infinite CPU', { resources: { ...resources, cpu: Number.POSITIVE_INFINITY } }],
        ['zero CPU', { resources: { ...resources, cpu: 0 } }],
        ['empty image', { image: '' }],
        ['a bad image reference', { image: 'Not An/Image' }],
        ['an env name with "="', { env: new Map([['A=B', 'c']]) }],
        ['a NUL byte in an argument', { command: ['out:a\0b'] }],
        ['network host', { network: 'host' }],
        ['a 200-day timeout', { timeoutMs: 200 * 24 * 3600_000 }],
        ['an over-long id', { id: 'x'.repeat(1000) }]
      ]
      for (const [why, overrides] of cases) {
        await assertRejectedAsInvalid(wireSpec(['exit:0'], overrides), why)
      }
      assert.equal(executor.runs(), runs, 'an invalid spec reached the executor')
      await assertWorkerStillServes()
    })

    test('a Submit past the decode limits (10,000 env vars, negative memory) gets REJECTED with INVALID_SPEC too, not a bare reset', async () => {
      const runs = executor.runs()
      const env = new Map(Array.from({ length: 10_000 }, (_, i) => [`VAR_${i}`, 'x']))
      const negative = wireSpec(['exit:0'])
      const failures: string[] = []
      for (const [why, spec, bytes] of [
        ['10,000 env vars', wireSpec(['exit:0'], { env }), undefined],
        ['negative memory (2^64 - 1 on the wire)', negative, negativeMemoryFrame(negative)]
      ] as const) {
        await assertRejectedAsInvalid(spec, why, bytes).catch((err: Error) => { failures.push(err.message.split('\n')[0]) })
        await assertWorkerStillServes()
      }
      assert.deepEqual(failures, [])
      assert.equal(executor.runs() - runs, 2, 'an invalid spec reached the executor')
    })
  })
})
