import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import Docker from 'dockerode'
import { createDockerExecutor } from '../../node/src/executor/docker.ts'
import { TaskState, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import { TaskStore } from '../../node/src/store/store.ts'
import { Worker } from '../../node/src/worker/worker.ts'
import { type DaemonProcess, initNodes, runCli, startDaemonProcess } from '../helpers/cli.ts'
import { docker, ensureTestImage, IMAGE, removeTaskContainers } from '../helpers/docker.ts'
import { tempDir, waitFor } from '../helpers/env.ts'

/**
 * A worker that dies at the worst moment, on the real engine: what it
 * had seen of a task must survive its restart. The worker runs in this process; its "crash"
 * stops every store write at the chosen instant, as a killed process writes nothing more, and
 * a new worker on the same store and engine restarts from what is on disk.
 */

/** This file's containers carry this node id, so the clean-up leaves other suites' alone. */
const NODE_ID = `crash-windows-${randomBytes(4).toString('hex')}`
const BOUND_MS = 60_000
const CAPACITY = { cpu: 2, memoryBytes: 2 * 1024 ** 3, storageBytes: 10 * 1024 ** 3, gpus: 0 }

let dir: { path: string, remove: () => Promise<void> }

before(async () => {
  await ensureTestImage()
  dir = await tempDir('cloudai-crash-windows-')
})

after(async () => {
  await removeTaskContainers([NODE_ID])
  await dir?.remove()
})

function spec (command: string[]): TaskSpec {
  return {
    id: `cw-${randomBytes(6).toString('hex')}`,
    image: IMAGE,
    command,
    env: {},
    resources: { cpu: 1, memoryBytes: 64 * 1024 ** 2, storageBytes: 0, gpus: 0 },
    network: 'none',
    labels: {},
    attempt: 1
  }
}

/** A store whose writes stop for good once `crash()` is called, as a killed process's do. */
function mortalStore (store: TaskStore): { store: TaskStore, crash: () => void } {
  let dead = false
  const mortal = new Proxy(store, {
    get (target, property) {
      if (property === 'recordEvent' && dead) return () => false
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  return { store: mortal, crash: () => { dead = true } }
}

/** The engine, except that the node "crashes" the moment a container's removal has completed. */
function crashingAfterRemoval (crash: () => void): Docker {
  const docker = new Docker()
  const create = docker.createContainer.bind(docker)
  docker.createContainer = (async (options: Docker.ContainerCreateOptions) => {
    const container = await create(options)
    const remove = container.remove.bind(container)
    container.remove = (async (removeOptions?: object) => {
      const result = await remove(removeOptions)
      crash()
      return result
    }) as typeof container.remove
    return container
  }) as typeof docker.createContainer
  return docker
}

test('a worker killed between a task\'s end and its container\'s removal: after the restart the task is SUCCEEDED with its exit code and output, not CONTAINER_GONE', async () => {
  const dataDir = dir.path
  const store = TaskStore.open(dataDir)
  const { store: mortal, crash } = mortalStore(store)
  let crashed = false
  const docker = crashingAfterRemoval(() => { crash(); crashed = true })
  const before = new Worker({ executor: createDockerExecutor({ docker }), capacity: CAPACITY, nodeId: NODE_ID, store: mortal })
  const task = spec(['sh', '-c', 'echo finished the work; exit 0'])
  before.submit(task, 'master')
  assert.ok(await waitFor(() => crashed, BOUND_MS, 20), 'the container was never removed')
  store.close()

  const reopened = TaskStore.open(dataDir)
  try {
    const after = new Worker({ executor: createDockerExecutor(), capacity: CAPACITY, nodeId: NODE_ID, store: reopened })
    await after.recover()
    const record = reopened.task(task.id, 'executed')
    assert.equal(`${record?.state} ${record?.errorCode ?? ''}`.trim(), `${TaskState.SUCCEEDED}`, `the task ended ${record?.state} ${record?.errorCode ?? ''}: ${record?.errorMessage ?? ''}`)
    assert.equal(record?.exitCode, 0)
    assert.equal(Buffer.from(reopened.events(task.id, 1).flatMap(event => event.log != null ? [...event.log.data] : [])).toString(), 'finished the work\n')
  } finally {
    reopened.close()
  }
})

/** A task that says it started, then waits for the test to let it finish (`docker exec … touch /tmp/go`). */
const WAITING = ['sh', '-c', 'echo started; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo done']

/** What the flooding task writes before the node goes down: numbered lines, recorded by the node. */
const BEFORE_THE_CRASH = Array.from({ length: 2000 }, (_, i) => `${i + 1}\n`).join('')
/**
 * Then, while the node is down, 30,000 numbered lines of 1 KB: about 30 MB, more than the
 * engine's json-file log keeps (LOG_MAX_FILE × LOG_MAX_SIZE, 2 × 10 MB, in host-config.ts), so
 * the log loses its beginning, the recorded lines included; then it exits 0.
 */
const FLOODING = ['sh', '-c', `seq 1 2000; while [ ! -e /tmp/go ]; do sleep 0.1; done; awk 'BEGIN { pad = sprintf("%990s", ""); for (i = 1; i <= 30000; i++) print i pad }'`]

describe('a daemon killed and restarted', () => {
  let dataDir: string
  let nodeId: string
  let daemon: DaemonProcess | undefined

  before(async () => {
    const nodes = await initNodes(dir.path, ['solo'] as const)
    dataDir = nodes.dataDirs.solo
    nodeId = nodes.peerIds.solo
  })

  after(async () => {
    await daemon?.stop('SIGKILL')
    await removeTaskContainers([nodeId])
  })

  async function startSolo (extra: string[]): Promise<DaemonProcess> {
    // A killed daemon leaves its api file behind: the new one writes it when it is ready.
    await rm(join(dataDir, 'api'), { force: true })
    daemon = await startDaemonProcess(dataDir, ['--name', 'solo', '--no-mdns', ...extra])
    return daemon
  }

  async function cli (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
    return await runCli(['--data-dir', dataDir, ...args], { timeoutMs: BOUND_MS })
  }

  async function stateOf (taskId: string): Promise<string> {
    const status = await cli(['status', taskId, '--json'])
    assert.equal(status.code, 0, status.stderr)
    return JSON.parse(status.stdout).state
  }

  async function detachSelf (cpu: number, command: string[]): Promise<string> {
    const sent = await cli(['task', 'self', IMAGE, '--cpu', String(cpu), '--memory', '64m', '--storage', '16m', '--detach', '--', ...command])
    assert.equal(sent.code, 0, sent.stderr)
    return sent.stdout.trim()
  }

  test('restarted with a lower --cpu than its running tasks hold: it starts, re-adopts them, reports the over-commit, refuses a queued task that no longer fits, and starts nothing new until they end', async () => {
    await startSolo(['--cpu', '2'])
    const running = [await detachSelf(1, WAITING), await detachSelf(1, WAITING)]
    for (const taskId of running) assert.ok(await waitFor(async () => await stateOf(taskId) === 'RUNNING', BOUND_MS, 200), `${taskId} never ran`)
    const big = await detachSelf(2, ['echo', 'big'])
    assert.ok(await waitFor(async () => await stateOf(big) === 'QUEUED', BOUND_MS, 200), `the 2-CPU task did not wait: ${await stateOf(big)}`)
    await daemon!.stop('SIGKILL')

    const restarted = await startSolo(['--cpu', '1'])
    assert.match(restarted.output(), /over-commit/i, 'the daemon did not report the over-commit')
    assert.match(restarted.output(), /2 CPU held, node has 1/)
    // Queued for 2 CPU on a node that now has 1: it would hold the head of the queue for good.
    const refusal = async (): Promise<string> => { const task = JSON.parse((await cli(['status', big, '--json'])).stdout); return `${task.state} ${task.error?.code}` }
    assert.ok(await waitFor(async () => await refusal() === 'REJECTED NEVER_FITS', BOUND_MS, 200), `the 2-CPU task is ${await refusal()}`)
    const waiting = await detachSelf(1, ['echo', 'third'])
    assert.ok(await waitFor(async () => await stateOf(waiting) === 'QUEUED', BOUND_MS, 200), `the third task did not wait: ${await stateOf(waiting)}`)

    for (const taskId of running) await docker(['exec', `cloudai-${taskId}`, 'touch', '/tmp/go'])
    for (const taskId of [...running, waiting]) {
      const logs = await cli(['logs', '-f', taskId])
      assert.equal(logs.code, 0, logs.stderr)
      assert.equal(logs.stdout, taskId === waiting ? 'third\n' : 'started\ndone\n')
      assert.equal(await stateOf(taskId), 'SUCCEEDED')
    }
  })

  test('a task that wrote more than the engine\'s log keeps while its node was down: after the restart its output is exactly what was recorded, then a truncated event with the byte count, not later output passed off as what came next', async () => {
    if (daemon?.child.exitCode == null && daemon?.child.signalCode == null) await daemon?.stop('SIGKILL')
    // A log limit above the flood, so that only the engine's loss can truncate the output.
    await startSolo(['--log-limit', '64m'])
    const taskId = await detachSelf(1, FLOODING)
    const recorded = async (): Promise<number> => JSON.parse((await cli(['status', taskId, '--json'])).stdout).logBytes?.stdout ?? 0
    assert.ok(await waitFor(async () => await recorded() === BEFORE_THE_CRASH.length, BOUND_MS, 200), `the node recorded ${await recorded()} bytes`)
    await daemon!.stop('SIGKILL')
    await docker(['exec', `cloudai-${taskId}`, 'touch', '/tmp/go'])
    assert.equal((await docker(['wait', `cloudai-${taskId}`], BOUND_MS)).trim(), '0')

    await startSolo(['--log-limit', '64m'])
    const logs = await cli(['logs', '-f', taskId])
    assert.equal(logs.code, 0, logs.stderr)
    assert.equal(logs.stdout.length, BEFORE_THE_CRASH.length, `${logs.stdout.length} bytes of stdout, starting ${JSON.stringify(logs.stdout.slice(BEFORE_THE_CRASH.length - 10, BEFORE_THE_CRASH.length + 30))} at the restart`)
    assert.equal(logs.stdout, BEFORE_THE_CRASH)
    assert.match(logs.stderr, /lost/)
    const status = JSON.parse((await cli(['status', taskId, '--json'])).stdout)
    assert.equal(status.state, 'SUCCEEDED')
    assert.deepEqual(status.events.flatMap((event: any) => event.truncated != null ? [event.truncated] : []), [{ limitBytes: BEFORE_THE_CRASH.length, cause: 'engine-log-gap' }])
  })
})

/** Characters that rewrite what a terminal shows: ESC (C0), CSI (C1), right-to-left override. */
const TERMINAL_CONTROLS = /[\u001b\u009b\u202e]/

describe('the daemon\'s terminal', () => {
  let dataDir: string
  let malloryDir: string
  const daemons: DaemonProcess[] = []

  before(async () => {
    const nodes = await initNodes(join(dir.path, 'terminal'), ['worker', 'mallory'] as const)
    dataDir = nodes.dataDirs.worker
    malloryDir = nodes.dataDirs.mallory
  })

  after(async () => {
    await Promise.all(daemons.map(async daemon => await daemon.stop('SIGKILL')))
  })

  test('a peer\'s name and a task\'s command are shown with their control characters escaped, never sent to the terminal raw', async () => {
    const worker = await startDaemonProcess(dataDir, ['--name', 'worker', '--no-mdns'])
    daemons.push(worker)
    const evilName = 'mallory\u202eevil\u009b2J'
    const peer = await startDaemonProcess(malloryDir, ['--name', evilName, '--no-mdns'])
    daemons.push(peer)
    const addr = JSON.parse((await runCli(['--data-dir', dataDir, 'id', '--json'])).stdout).addrs[0]
    const connected = await runCli(['--data-dir', malloryDir, 'connect', addr], { timeoutMs: BOUND_MS })
    assert.equal(connected.code, 0, connected.stderr)
    assert.ok(await waitFor(() => worker.output().includes('peer joined'), BOUND_MS, 100), `the worker never logged the peer:\n${worker.output()}`)

    const command = ['echo', 'clear\u001b[2J\u001b[31mred\rover']
    const sent = await runCli(['--data-dir', malloryDir, 'task', 'worker', IMAGE, '--memory', '64m', '--storage', '16m', '--', ...command], { timeoutMs: BOUND_MS })
    assert.equal(sent.code, 0, sent.stderr)
    assert.ok(await waitFor(() => worker.output().includes('SUCCEEDED'), BOUND_MS, 100), `the worker never showed the task end:\n${worker.output()}`)

    const shown = worker.output()
    const raw = shown.split('\n').filter(line => TERMINAL_CONTROLS.test(line) || line.includes('\r'))
    assert.deepEqual(raw.map(line => JSON.stringify(line)), [], 'lines with raw control characters')
    assert.ok(shown.includes('echo clear\\x1b[2J\\x1b[31mred\\rover'), `the command is not shown escaped:\n${shown}`)
    assert.ok(shown.includes('mallory\\\\u202eevil\\\\x9b2J'), `the name is not shown escaped:\n${shown}`)
  })
})
