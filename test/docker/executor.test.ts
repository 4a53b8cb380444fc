import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { after, afterEach, before, test } from 'node:test'
import { promisify } from 'node:util'
import Docker from 'dockerode'
import { createDockerExecutor } from '../../node/src/executor/docker.ts'
import type { ExecutionObserver, ExecutionResult, ExecutorTask } from '../../node/src/executor/executor.ts'
import { MAX_LOG_CHUNK_BYTES } from '../../node/src/executor/log-demux.ts'

const run = promisify(execFile)
const IMAGE = '127.0.0.1:5000/cloudai/busybox:1'
/** Only in the local registry, with a layer no other image has, so pulling it moves real bytes. */
const PULL_IMAGE = '127.0.0.1:5000/cloudai/pull-test:1'
/** This file's containers carry this node id, so the leftover check ignores other suites running beside it. */
const NODE_ID = `executor-test-${randomBytes(4).toString('hex')}`
/** No single run in this file takes longer; a hang fails the test instead of the whole suite. */
const RUN_DEADLINE_MS = 60_000

const docker = new Docker()
const executor = createDockerExecutor({ docker })
/** The SIGTERM grace of the executor whose cancel test waits it out: short, so the test does not wait 10 s. */
const SHORT_GRACE_S = 2
const quickStop = createDockerExecutor({ docker, stopGraceSeconds: SHORT_GRACE_S })

function task (name: string, command: string[], overrides: Partial<ExecutorTask> = {}): ExecutorTask {
  return {
    taskId: `${name}-${randomBytes(4).toString('hex')}`,
    attempt: 1,
    image: IMAGE,
    command,
    env: {},
    resources: { cpu: 1, memoryBytes: 128 * 1024 ** 2, storageBytes: 0, gpus: 0 },
    network: 'none',
    labels: {},
    submitter: 'executor-test-master',
    node: NODE_ID,
    gpuDeviceIds: [],
    ...overrides
  }
}

interface Collected extends ExecutionObserver {
  stdout: () => Buffer
  stderr: () => Buffer
  chunks: Array<{ stream: 'stdout' | 'stderr', bytes: number }>
  events: string[]
  progress: Array<{ doneBytes: number, totalBytes: number }>
  containerId?: string
}

function collect (onLog?: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void | Promise<void>): Collected {
  const out: Buffer[] = []
  const err: Buffer[] = []
  const collected: Collected = {
    stdout: () => Buffer.concat(out),
    stderr: () => Buffer.concat(err),
    chunks: [],
    events: [],
    progress: [],
    onPullProgress: progress => { collected.events.push('progress'); collected.progress.push(progress) },
    onPulled: () => { collected.events.push('pulled') },
    onStarted: id => { collected.events.push('started'); collected.containerId = id },
    onLog: async (stream, chunk) => {
      collected.chunks.push({ stream, bytes: chunk.length });
      (stream === 'stdout' ? out : err).push(Buffer.from(chunk))
      await onLog?.(stream, chunk)
    }
  }
  return collected
}

async function execute (t: ExecutorTask, observer: ExecutionObserver, signal = new AbortController().signal, by = executor): Promise<ExecutionResult> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`task ${t.taskId} did not finish within ${RUN_DEADLINE_MS} ms`)) }, RUN_DEADLINE_MS)
  })
  try {
    return await Promise.race([by.run(t, observer, signal), deadline])
  } finally {
    clearTimeout(timer)
  }
}

async function leftovers (): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-a', '--filter', 'label=cloudai.task-id', '--filter', `label=cloudai.node=${NODE_ID}`, '--format', '{{.Names}}'])
  return stdout.split('\n').filter(line => line !== '')
}

async function containerExists (id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).inspect()
    return true
  } catch {
    return false
  }
}

before(async () => {
  const health = await executor.health()
  assert.ok(health.healthy, `the Docker engine must answer for these tests (run scripts/ensure-docker.sh): ${health.detail}`)
  await run('docker', ['image', 'inspect', IMAGE]).catch(async () => await run('docker', ['pull', IMAGE]))
})

afterEach(async () => {
  assert.deepEqual(await leftovers(), [], 'no container may be left behind')
})

after(async () => {
  const names = await leftovers()
  if (names.length > 0) await run('docker', ['rm', '-f', ...names])
})

test('exit codes 0 and 3 are reported, with the output', async () => {
  const ok = collect()
  const result = await execute(task('exit0', ['echo', 'hello']), ok)
  assert.deepEqual(result, { exitCode: 0, oomKilled: false, timedOut: false, cancelled: false })
  assert.equal(ok.stdout().toString(), 'hello\n')
  assert.deepEqual(ok.events, ['pulled', 'started'])
  assert.match(ok.containerId ?? '', /^[0-9a-f]{64}$/)

  const three = collect()
  const failed = await execute(task('exit3', ['sh', '-c', 'echo about to fail; exit 3']), three)
  assert.equal(failed.exitCode, 3)
  assert.equal(failed.error, undefined)
  assert.equal(three.stdout().toString(), 'about to fail\n')
})

test('stdout and stderr arrive separately and complete: 50,000 numbered lines in order', async () => {
  const lines = collect()
  const result = await execute(task('lines', ['seq', '1', '50000']), lines)
  assert.equal(result.exitCode, 0)
  const got = lines.stdout().toString().split('\n')
  assert.equal(got.pop(), '', 'the output ends with the last newline')
  assert.equal(got.length, 50_000)
  got.forEach((line, i) => { if (line !== String(i + 1)) assert.fail(`line ${i + 1} is "${line}"`) })
  assert.equal(lines.stderr().length, 0)
  assert.ok(lines.chunks.every(c => c.bytes > 0 && c.bytes <= MAX_LOG_CHUNK_BYTES), 'every chunk is 1 byte to 64 KiB')

  const mixed = collect()
  await execute(task('mixed', ['sh', '-c', 'for i in $(seq 1 2000); do echo out$i; echo err$i >&2; done']), mixed)
  const numbered = (prefix: string): string => Array.from({ length: 2000 }, (_, i) => `${prefix}${i + 1}\n`).join('')
  assert.equal(mixed.stdout().toString(), numbered('out'))
  assert.equal(mixed.stderr().toString(), numbered('err'))

  const errOnly = collect()
  const errResult = await execute(task('stderr-only', ['sh', '-c', 'echo only on stderr >&2; echo second >&2; exit 1']), errOnly)
  assert.equal(errResult.exitCode, 1)
  assert.equal(errOnly.stdout().length, 0)
  assert.equal(errOnly.stderr().toString(), 'only on stderr\nsecond\n')
})

test('binary output is byte-exact, and output without a final newline stays without', async () => {
  const binary = collect()
  const result = await execute(task('binary', ['sh', '-c', 'head -c 100000 /dev/urandom > /tmp/blob && cat /tmp/blob && sha256sum /tmp/blob >&2']), binary)
  assert.equal(result.exitCode, 0)
  const bytes = binary.stdout()
  assert.equal(bytes.length, 100_000)
  const [shaInContainer] = binary.stderr().toString().split(' ')
  assert.equal(createHash('sha256').update(bytes).digest('hex'), shaInContainer)

  const bare = collect()
  await execute(task('no-newline', ['sh', '-c', 'printf "no newline"; printf "nor here" >&2']), bare)
  assert.equal(bare.stdout().toString(), 'no newline')
  assert.equal(bare.stderr().toString(), 'nor here')

  const longLine = collect()
  await execute(task('long-line', ['sh', '-c', 'head -c 200000 /dev/zero | tr "\\0" a']), longLine)
  assert.equal(longLine.stdout().toString(), 'a'.repeat(200_000))
  assert.ok(longLine.chunks.every(c => c.bytes <= MAX_LOG_CHUNK_BYTES), 'a 200 kB line arrives in chunks of at most 64 KiB')
})

test('a process allocating past its memory limit is OOM-killed and reported so', async () => {
  const result = await execute(task('oom', ['sh', '-c', 'tail /dev/zero'], { resources: { cpu: 1, memoryBytes: 32 * 1024 ** 2, storageBytes: 0, gpus: 0 } }), collect())
  assert.equal(result.oomKilled, true)
  assert.equal(result.exitCode, 137)
  assert.equal(result.timedOut, false)
})

test('while it runs, the container has the limits, hardening and labels asked for; cancel ends it', async () => {
  const controller = new AbortController()
  const t = task('inspect', ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'], {
    resources: { cpu: 0.5, memoryBytes: 96 * 1024 ** 2, storageBytes: 512 * 1024 ** 2, gpus: 0 },
    labels: { team: 'ml', 'run.kind': 'inspect' }
  })
  let inspected: Docker.ContainerInspectInfo | undefined
  const observer = collect()
  observer.onStarted = id => {
    docker.getContainer(id).inspect()
      .then(info => { inspected = info })
      .finally(() => { controller.abort() })
      .catch(() => {})
  }
  const result = await execute(t, observer, controller.signal)
  assert.equal(result.cancelled, true)
  assert.equal(result.exitCode, 0, 'the task handled SIGTERM and exited on its own')
  assert.ok(inspected !== undefined, 'the running container could be inspected')
  const host = inspected.HostConfig as Docker.HostConfig & { CgroupnsMode?: string }
  assert.equal(inspected.Name, `/cloudai-${t.taskId}`)
  assert.equal(host.NanoCpus, 500_000_000)
  assert.equal(host.Memory, 96 * 1024 ** 2)
  assert.equal(host.MemorySwap, 96 * 1024 ** 2)
  assert.ok((host.PidsLimit ?? 0) > 0)
  assert.deepEqual(host.SecurityOpt, ['no-new-privileges'])
  assert.deepEqual(host.CapDrop, ['NET_RAW'])
  assert.equal(host.Privileged, false)
  assert.equal(host.NetworkMode, 'none')
  assert.equal(host.CgroupnsMode, 'private')
  assert.equal(host.Binds, null)
  assert.equal(host.Devices, null)
  assert.deepEqual(host.StorageOpt, (await executor.storageEnforced()) ? { size: String(512 * 1024 ** 2) } : undefined)
  assert.equal(inspected.Config.Labels['cloudai.task-id'], t.taskId)
  assert.equal(inspected.Config.Labels['cloudai.submitter'], 'executor-test-master')
  assert.equal(inspected.Config.Labels['cloudai.node'], NODE_ID)
  assert.equal(inspected.Config.Labels['cloudai.label.team'], 'ml')
  assert.equal(inspected.Config.Labels['cloudai.label.run.kind'], 'inspect')
})

test('storage enforcement is detected as the engine answers a --storage-opt create', async () => {
  const { stdout: imageId } = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', IMAGE])
  let expected: boolean
  try {
    const { stdout } = await run('docker', ['create', '--storage-opt', 'size=1G', '--network', 'none', imageId.trim(), 'true'])
    await run('docker', ['rm', '-f', stdout.trim()])
    expected = true
  } catch (err: any) {
    assert.match(String(err.stderr), /storage-opt|storage/i, 'only the storage option may fail the reference create')
    expected = false
  }
  assert.equal(await executor.storageEnforced(), expected)
  assert.equal(await executor.storageEnforced(), expected, 'the answer is kept')
  const { stdout: probes } = await run('docker', ['ps', '-a', '--filter', 'label=cloudai.probe', '--format', '{{.Names}}'])
  assert.equal(probes.trim(), '', 'the probe container is removed')
})

test('an image only in the local registry is pulled, with progress; cancel during the pull stops it', async () => {
  await ensurePullTestImage()
  await run('docker', ['rmi', PULL_IMAGE]).catch(() => {})

  const controller = new AbortController()
  const interrupted = collect()
  interrupted.onPullProgress = () => { interrupted.events.push('progress'); controller.abort() }
  const cancelled = await execute(task('pull-cancel', ['true'], { image: PULL_IMAGE }), interrupted, controller.signal)
  assert.deepEqual(cancelled, { oomKilled: false, timedOut: false, cancelled: true })
  assert.deepEqual(interrupted.events, ['progress'], 'it never started')
  await run('docker', ['rmi', PULL_IMAGE]).catch(() => {})

  const pulled = collect()
  const result = await execute(task('pull', ['sh', '-c', 'wc -c < /blob'], { image: PULL_IMAGE }), pulled)
  assert.equal(result.exitCode, 0)
  assert.equal(pulled.stdout().toString().trim(), '3000000')
  assert.ok(pulled.progress.length >= 1, 'at least one progress report')
  const last = pulled.progress.at(-1)
  assert.ok(last !== undefined && last.totalBytes > 2_000_000, `the layer's bytes are counted: ${JSON.stringify(last)}`)
  assert.equal(last.doneBytes, last.totalBytes, 'the last report is complete')
  for (let i = 1; i < pulled.progress.length; i++) assert.ok(pulled.progress[i].doneBytes >= pulled.progress[i - 1].doneBytes, 'progress never goes back')
  assert.deepEqual(pulled.events.filter(e => e !== 'progress'), ['pulled', 'started'])
  assert.equal(pulled.events.lastIndexOf('progress') < pulled.events.indexOf('pulled'), true)
})

/**
 * Makes sure the registry holds PULL_IMAGE (busybox + 3 MB of random bytes, built offline).
 * The engine does the talking: under scripts/test.sh this process runs in its own network
 * namespace, where 127.0.0.1:5000 is not the registry.
 */
async function ensurePullTestImage (): Promise<void> {
  try {
    await run('docker', ['pull', PULL_IMAGE], { timeout: 30_000 })
    return
  } catch {}
  const name = `cloudai-pull-test-build-${randomBytes(4).toString('hex')}`
  try {
    await run('docker', ['run', '--name', name, '--network', 'none', IMAGE, 'sh', '-c', 'head -c 3000000 /dev/urandom > /blob'], { timeout: 30_000 })
    await run('docker', ['commit', name, PULL_IMAGE], { timeout: 30_000 })
    await run('docker', ['push', PULL_IMAGE], { timeout: 30_000 })
  } finally {
    await run('docker', ['rm', '-f', name]).catch(() => {})
  }
}

test('a nonexistent image fails with IMAGE_NOT_FOUND and says what to do', async () => {
  const image = '127.0.0.1:5000/cloudai/does-not-exist:1'
  const observer = collect()
  const result = await execute(task('no-image', ['true'], { image }), observer)
  assert.equal(result.error?.code, 'IMAGE_NOT_FOUND')
  assert.equal(result.exitCode, undefined)
  assert.ok(result.error?.message.includes(image), result.error?.message)
  assert.match(result.error?.message ?? '', /not found.*Check the name and tag/s)
  assert.deepEqual(observer.events, [], 'it never started')
})

test('a missing command is COMMAND_NOT_FOUND, a non-executable one COMMAND_NOT_EXECUTABLE (docker run: 127, 126)', async () => {
  const missing = await execute(task('missing-cmd', ['no-such-command', '--flag']), collect())
  assert.equal(missing.error?.code, 'COMMAND_NOT_FOUND')
  assert.equal(missing.exitCode, undefined)
  assert.match(missing.error?.message ?? '', /no-such-command.*executable file not found/)

  const missingPath = await execute(task('missing-path', ['/opt/nothing/here']), collect())
  assert.equal(missingPath.error?.code, 'COMMAND_NOT_FOUND')

  const notExecutable = await execute(task('not-exec', ['/etc/passwd']), collect())
  assert.equal(notExecutable.error?.code, 'COMMAND_NOT_EXECUTABLE')
  assert.match(notExecutable.error?.message ?? '', /\/etc\/passwd.*permission denied.*chmod \+x/)

  const directory = await execute(task('dir-cmd', ['/etc']), collect())
  assert.equal(directory.error?.code, 'COMMAND_NOT_EXECUTABLE')
})

test('a task past its timeout is killed and reported as timed out within seconds', async () => {
  const started = Date.now()
  const result = await execute(task('timeout', ['sleep', '60'], { timeoutMs: 2_000 }), collect())
  const elapsed = Date.now() - started
  assert.equal(result.timedOut, true)
  assert.equal(result.cancelled, false)
  assert.equal(result.exitCode, 137)
  assert.ok(elapsed >= 2_000 && elapsed < 6_000, `took ${elapsed} ms`)
})

test('cancel stops the container within the grace period and removes it', async () => {
  const controller = new AbortController()
  const observer = collect()
  observer.onStarted = id => { observer.containerId = id; setTimeout(() => { controller.abort() }, 300) }
  const started = Date.now()
  // sleep as PID 1 ignores SIGTERM, so this exercises the SIGKILL after the grace.
  const result = await execute(task('cancel', ['sleep', '60']), observer, controller.signal, quickStop)
  const elapsed = Date.now() - started
  assert.equal(result.cancelled, true)
  assert.equal(result.timedOut, false)
  assert.equal(result.exitCode, 137)
  assert.ok(elapsed < SHORT_GRACE_S * 1000 + 5_000, `took ${elapsed} ms`)
  assert.equal(await containerExists(observer.containerId ?? ''), false)

  const early = new AbortController()
  early.abort()
  const before = collect()
  assert.deepEqual(await execute(task('cancel-early', ['true']), before, early.signal), { oomKilled: false, timedOut: false, cancelled: true })
  assert.deepEqual(before.events, [])
})

test('a slow observer loses nothing: output waits for it, and so does the container', async () => {
  const slow = collect(async () => { await new Promise(resolve => setTimeout(resolve, 1)) })
  const result = await execute(task('slow', ['seq', '1', '200000']), slow)
  assert.equal(result.exitCode, 0)
  const got = slow.stdout().toString()
  assert.equal(got.length, 1_288_895)
  assert.ok(got.startsWith('1\n2\n3\n') && got.endsWith('\n199999\n200000\n'))
  assert.equal(got.split('\n').length, 200_001)

  // An observer that does not return: the container blocks on its writes instead of the executor buffering 100 MB.
  let letGo = (): void => {}
  const release = new Promise<void>(resolve => { letGo = resolve })
  let delivered = 0
  let containerId = ''
  const stuck: ExecutionObserver = {
    onStarted: id => { containerId = id },
    onLog: async (_stream, chunk) => { delivered += chunk.length; if (delivered === chunk.length) await release }
  }
  const running = execute(task('stuck', ['sh', '-c', 'head -c 100000000 /dev/zero']), stuck)
  await new Promise(resolve => setTimeout(resolve, 1_500))
  const info = await docker.getContainer(containerId).inspect()
  assert.equal(info.State.Running, true, 'the container waits for the observer')
  assert.ok(delivered <= MAX_LOG_CHUNK_BYTES, `only the first chunk was handed over (${delivered} bytes)`)
  const rss = process.memoryUsage().rss
  letGo()
  const done = await running
  assert.equal(done.exitCode, 0)
  assert.equal(delivered, 100_000_000)
  assert.ok(rss < 400 * 1024 ** 2, `memory stayed bounded while the observer was stuck: ${Math.round(rss / 1024 ** 2)} MiB`)
})

test('environment variables reach the container', async () => {
  const env = collect()
  await execute(task('env', ['sh', '-c', 'echo "$GREETING|$EMPTY|$PATH"'], { env: { GREETING: 'hello world', EMPTY: '' } }), env)
  assert.match(env.stdout().toString(), /^hello world\|\|\/.*bin/)
})

test('an observer that throws fails run() with its error, and the container is still removed', async () => {
  const observer = collect(() => { throw new Error('store is full') })
  await assert.rejects(execute(task('observer-throws', ['sh', '-c', 'echo one; sleep 30']), observer), /store is full/)
})

test('an invalid task and an unreachable engine are reported by code, never thrown', async () => {
  const invalid = await execute(task('invalid', ['true'], { resources: { cpu: Number.NaN, memoryBytes: 1024 ** 3, storageBytes: 0, gpus: 0 } }), collect())
  assert.equal(invalid.error?.code, 'INVALID_SPEC')
  assert.match(invalid.error?.message ?? '', /CPU/)

  const nowhere = createDockerExecutor({ docker: new Docker({ socketPath: '/nonexistent/cloudai-test/docker.sock' }) })
  const down = await nowhere.run(task('no-engine', ['true']), collect(), new AbortController().signal)
  assert.equal(down.error?.code, 'ENGINE_UNREACHABLE')
  assert.match(down.error?.message ?? '', /Docker engine does not answer.*Start Docker/)
  assert.equal((await nowhere.health()).healthy, false)
  assert.equal(await nowhere.storageEnforced(), false)
})
