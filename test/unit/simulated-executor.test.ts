import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { test } from 'node:test'
import type { ExecutionObserver, ExecutorTask } from '../../node/src/executor/executor.ts'
import { createSimulatedExecutor } from '../../node/src/executor/simulated.ts'

const MAX_CHUNK = 64 * 1024

function task (command: string[], overrides: Partial<ExecutorTask> = {}): ExecutorTask {
  return {
    taskId: 'sim-task',
    attempt: 1,
    image: 'registry.local/sim:1',
    command,
    env: {},
    resources: { cpu: 1, memoryBytes: 64 * 1024 ** 2, storageBytes: 0, gpus: 0 },
    network: 'none',
    labels: {},
    submitter: 'master-peer',
    node: 'worker-peer',
    gpuDeviceIds: [],
    ...overrides
  }
}

/** Records everything the executor tells the observer, in order. */
function recorder (onLog?: ExecutionObserver['onLog']) {
  const events: string[] = []
  const chunks: Array<{ stream: string, chunk: Uint8Array }> = []
  const text = (stream: string): string => Buffer.concat(chunks.filter(c => c.stream === stream).map(c => c.chunk)).toString()
  const observer: ExecutionObserver = {
    onPullProgress: p => { events.push(`progress ${p.doneBytes}/${p.totalBytes}`) },
    onPulled: () => { events.push('pulled') },
    onStarted: id => { events.push(`started ${id}`) },
    onLog: async (stream, chunk) => {
      chunks.push({ stream, chunk })
      await onLog?.(stream, chunk)
    }
  }
  return { events, chunks, text, observer }
}

const never = new AbortController().signal
const fast = { pullMs: 0, startMs: 0 }

/** No timer of a finished run may keep the process alive. */
function assertNoTimers (): void {
  assert.deepEqual(process.getActiveResourcesInfo().filter(r => r === 'Timeout'), [])
}

test('out and err go to their streams, in order, after pull and start', async () => {
  const executor = createSimulatedExecutor({ pullMs: 5, startMs: 1 })
  const rec = recorder()
  const result = await executor.run(task(['out:hello: world', 'err:oops', 'out:bye']), rec.observer, never)
  assert.deepEqual(result, { exitCode: 0, oomKilled: false, timedOut: false, cancelled: false })
  assert.equal(rec.text('stdout'), 'hello: world\nbye\n')
  assert.equal(rec.text('stderr'), 'oops\n')
  assert.equal(rec.events.length, 4)
  assert.match(rec.events[0], /^progress \d+\/\d+$/)
  assert.match(rec.events[1], /^progress (\d+)\/\1$/, 'the last progress is complete')
  assert.equal(rec.events[2], 'pulled')
  assert.match(rec.events[3], /^started [0-9a-f]{64}$/)

  const again = recorder()
  await executor.run(task(['out:x']), again.observer, never)
  assert.equal(again.events.filter(e => e.startsWith('progress')).length, 0, 'a pulled image is not pulled again, and reports no progress (as the Docker executor)')
  assert.equal(again.events[0], 'pulled')
  assert.equal(executor.running(), 0)
})

test('an empty command exits 0 at once, and exit:<code> ends the script with that code', async () => {
  const executor = createSimulatedExecutor(fast)
  assert.equal((await executor.run(task([]), recorder().observer, never)).exitCode, 0)
  for (const code of [0, 1, 3, 255]) {
    const rec = recorder()
    const result = await executor.run(task(['out:before', `exit:${code}`, 'out:after']), rec.observer, never)
    assert.equal(result.exitCode, code)
    assert.equal(rec.text('stdout'), 'before\n', 'steps after exit do not run')
  }
})

test('sleep waits', async () => {
  const executor = createSimulatedExecutor(fast)
  const since = Date.now()
  const result = await executor.run(task(['sleep:60', 'exit:0']), recorder().observer, never)
  assert.equal(result.exitCode, 0)
  assert.ok(Date.now() - since >= 55, `took ${Date.now() - since} ms`)
})

test('oom ends the container as OOM-killed with exit 137', async () => {
  const executor = createSimulatedExecutor(fast)
  const rec = recorder()
  const result = await executor.run(task(['out:allocating', 'oom', 'out:never']), rec.observer, never)
  assert.deepEqual(result, { exitCode: 137, oomKilled: true, timedOut: false, cancelled: false })
  assert.equal(rec.text('stdout'), 'allocating\n')
})

test('bytes:N delivers exactly N deterministic bytes in chunks of at most 64 KiB', async () => {
  const executor = createSimulatedExecutor(fast)
  const size = 3 * MAX_CHUNK + 1234
  const first = recorder()
  assert.equal((await executor.run(task([`bytes:${size}`]), first.observer, never)).exitCode, 0)
  assert.ok(first.chunks.every(c => c.stream === 'stdout' && c.chunk.byteLength > 0 && c.chunk.byteLength <= MAX_CHUNK))
  assert.equal(first.chunks.length, 4)
  assert.equal(Buffer.concat(first.chunks.map(c => c.chunk)).byteLength, size)
  const second = recorder()
  await executor.run(task([`bytes:${size}`]), second.observer, never)
  assert.equal(second.text('stdout'), first.text('stdout'), 'same content every run')

  const none = recorder()
  await executor.run(task(['bytes:0']), none.observer, never)
  assert.equal(none.chunks.length, 0)
})

test('bytes:N waits for a slow observer: one write at a time', async () => {
  const executor = createSimulatedExecutor(fast)
  let inFlight = 0
  let maxInFlight = 0
  const rec = recorder(async () => {
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    await delay(20)
    inFlight--
  })
  const since = Date.now()
  await executor.run(task([`bytes:${5 * MAX_CHUNK}`]), rec.observer, never)
  assert.equal(maxInFlight, 1)
  assert.equal(rec.chunks.length, 5)
  assert.ok(Date.now() - since >= 5 * 20 - 5, 'the run lasted as long as the observer took')
})

test('a timeout kills the container: timedOut, exit 137, promptly, no timers left', async () => {
  const executor = createSimulatedExecutor(fast)
  const rec = recorder()
  const since = Date.now()
  const result = await executor.run(task(['out:working', 'sleep:30000', 'out:done'], { timeoutMs: 50 }), rec.observer, never)
  assert.deepEqual(result, { exitCode: 137, oomKilled: false, timedOut: true, cancelled: false })
  assert.ok(Date.now() - since < 1000)
  assert.equal(rec.text('stdout'), 'working\n')
  assert.equal(executor.running(), 0)
  assertNoTimers()
})

test('a timeout also stops an endless stream of output', async () => {
  const executor = createSimulatedExecutor(fast)
  const rec = recorder(async () => { await delay(10) })
  const result = await executor.run(task([`bytes:${1024 ** 3}`], { timeoutMs: 50 }), rec.observer, never)
  assert.equal(result.timedOut, true)
  assert.ok(rec.chunks.length < 20)
})

test('aborting the signal during sleep cancels: exit 143, promptly, no timers left', async () => {
  const executor = createSimulatedExecutor(fast)
  const controller = new AbortController()
  const rec = recorder()
  rec.observer.onStarted = () => { setTimeout(() => { controller.abort() }, 20) }
  const since = Date.now()
  const result = await executor.run(task(['sleep:30000'], { timeoutMs: 60_000 }), rec.observer, controller.signal)
  assert.deepEqual(result, { exitCode: 143, oomKilled: false, timedOut: false, cancelled: true })
  assert.ok(Date.now() - since < 1000)
  assert.equal(executor.running(), 0)
  assertNoTimers()
})

test('cancelled before the container runs: no exit code, never started', async () => {
  const executor = createSimulatedExecutor({ pullMs: 30_000, startMs: 0 })
  const during = new AbortController()
  const rec = recorder()
  setTimeout(() => { during.abort() }, 20)
  assert.deepEqual(await executor.run(task(['out:x']), rec.observer, during.signal), { oomKilled: false, timedOut: false, cancelled: true })
  assert.ok(!rec.events.some(e => e.startsWith('started')))

  const before = new AbortController()
  before.abort()
  const early = recorder()
  assert.deepEqual(await executor.run(task(['out:x']), early.observer, before.signal), { oomKilled: false, timedOut: false, cancelled: true })
  assert.deepEqual(early.events, [])
  assertNoTimers()
})

test('an unknown or malformed step is a missing executable: COMMAND_NOT_FOUND before any output', async () => {
  const executor = createSimulatedExecutor(fast)
  for (const command of [['out:hi', 'python3', 'main.py'], ['sleep:soon'], ['exit:256'], ['bytes:-1'], ['oom:now']]) {
    const rec = recorder()
    const result = await executor.run(task(command), rec.observer, never)
    assert.equal(result.error?.code, 'COMMAND_NOT_FOUND', command.join(' '))
    assert.equal(result.exitCode, undefined)
    assert.equal(rec.chunks.length, 0)
    assert.ok(rec.events.includes('pulled') && !rec.events.some(e => e.startsWith('started')))
  }
  assert.equal(executor.running(), 0)
})

test('an image the registry does not know fails with IMAGE_NOT_FOUND', async () => {
  const executor = createSimulatedExecutor({ ...fast, knownImages: image => image.startsWith('known/') })
  const rec = recorder()
  const result = await executor.run(task(['out:x'], { image: 'missing/app:1' }), rec.observer, never)
  assert.equal(result.error?.code, 'IMAGE_NOT_FOUND')
  assert.equal(result.exitCode, undefined)
  assert.deepEqual(rec.events, [])
  assert.equal((await executor.run(task(['out:x'], { image: 'known/app:1' }), recorder().observer, never)).exitCode, 0)
})

test('an invalid task or an unhealthy engine is refused without running', async () => {
  const executor = createSimulatedExecutor(fast)
  assert.equal((await executor.run(task([], { taskId: 'bad id' }), recorder().observer, never)).error?.code, 'INVALID_SPEC')
  const down = createSimulatedExecutor({ healthy: false })
  assert.equal((await down.health()).healthy, false)
  assert.equal((await down.run(task([]), recorder().observer, never)).error?.code, 'ENGINE_UNREACHABLE')
  assert.equal((await executor.health()).healthy, true)
  assert.equal(typeof await executor.storageEnforced(), 'boolean')
})

test('an observer that throws makes run() reject after the container is gone', async () => {
  const executor = createSimulatedExecutor(fast)
  const rec = recorder(async () => { throw new Error('sink closed') })
  await assert.rejects(executor.run(task(['out:x', 'sleep:30000']), rec.observer, never), /sink closed/)
  assert.equal(executor.running(), 0)
})

test('running() counts the containers running at once', async () => {
  const executor = createSimulatedExecutor(fast)
  let started = 0
  const observer = { ...recorder().observer, onStarted: () => { started++ } }
  const runs = [1, 2, 3].map(() => executor.run(task(['sleep:100']), observer, never))
  while (started < 3) await delay(5)
  assert.equal(executor.running(), 3)
  await Promise.all(runs)
  assert.equal(executor.running(), 0)
})

test('200 concurrent runs all finish with their own output and exit code', async () => {
  const executor = createSimulatedExecutor({ pullMs: 10, startMs: 2 })
  let peak = 0
  const runs = Array.from({ length: 200 }, async (_, i) => {
    const rec = recorder()
    rec.observer.onStarted = () => { peak = Math.max(peak, executor.running()) }
    const result = await executor.run(task([`out:task ${i}`, `sleep:${i % 20}`, `exit:${i % 7}`], { taskId: `t${i}` }), rec.observer, never)
    return { result, out: rec.text('stdout') }
  })
  const done = await Promise.all(runs)
  done.forEach(({ result, out }, i) => {
    assert.equal(result.exitCode, i % 7)
    assert.equal(out, `task ${i}\n`)
  })
  assert.ok(peak > 100, `peak ${peak}`)
  assert.equal(executor.running(), 0)
  assertNoTimers()
})
