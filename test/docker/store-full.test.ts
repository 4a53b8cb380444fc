import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { runCli, startDaemonProcess, type CliResult, type DaemonProcess } from '../helpers/cli.ts'
import { ensureTestImage, IMAGE, removeTaskContainers, taskContainers } from '../helpers/docker.ts'
import { waitFor } from '../helpers/env.ts'
import { mountSmallDisk, type SmallDisk } from '../helpers/tmpfs.ts'

/**
 * A daemon whose data dir is on a disk that fills, with the real engine:
 * its tasks fail with STORE_FULL, it keeps answering, and it takes tasks again once there is
 * room. The disk is a small tmpfs of the test's own (root), unmounted when the file ends.
 */

/** Room for the store and its headroom, small enough to fill in a moment. */
const DISK_BYTES = 64 * 1024 * 1024
/** Less than the store's headroom, more than the events that end the running tasks need. */
const NEARLY_FULL_BYTES = 1024 * 1024
const BOUND_MS = 60_000
/** A task that writes a line every tenth of a second until it is stopped (or its timeout). */
const CHATTY = ['sh', '-c', 'trap "exit 143" TERM; while true; do echo still writing; sleep 0.1; done']

let disk: SmallDisk
let dataDir: string
let daemon: DaemonProcess
let nodeId: string

async function cli (args: string[]): Promise<CliResult> {
  return await runCli(['--data-dir', dataDir, ...args], { timeoutMs: BOUND_MS })
}

async function status (taskId: string): Promise<any> {
  const result = await cli(['status', taskId, '--json'])
  assert.equal(result.code, 0, result.stderr)
  return JSON.parse(result.stdout)
}

/** A chatty task, detached, once its output is arriving. */
async function chattyTask (): Promise<string> {
  const sent = await cli(['task', 'self', IMAGE, '--detach', '--timeout', '120s', '--', ...CHATTY])
  assert.equal(sent.code, 0, sent.stderr)
  const taskId = sent.stdout.trim()
  assert.ok(await waitFor(async () => (await status(taskId)).logBytes.stdout > 0, 30_000, 200), 'the task never wrote')
  return taskId
}

/** Until the task has ended, bounded; its status then. */
async function ended (taskId: string): Promise<any> {
  let last: any
  await waitFor(async () => { last = await status(taskId); return last.finishedAt != null }, 30_000, 200)
  return last
}

async function nodeAnswers (): Promise<void> {
  const id = await cli(['id', '--json'])
  assert.equal(id.code, 0, id.stderr)
  assert.equal(JSON.parse(id.stdout).daemon, true, 'the daemon answers')
}

before(async () => {
  await ensureTestImage()
  disk = await mountSmallDisk(DISK_BYTES)
  dataDir = join(disk.path, 'node')
  const init = await runCli(['--data-dir', dataDir, 'init', '--json'])
  assert.equal(init.code, 0, init.stderr)
  nodeId = JSON.parse(init.stdout).peerId
  // The disk is small on purpose: offer more than it has, as tasks' storage is not on it.
  daemon = await startDaemonProcess(dataDir, ['--name', 'small', '--no-mdns', '--storage', '100g'])
})

after(async () => {
  await daemon?.stop('SIGKILL')
  if (nodeId != null) await removeTaskContainers([nodeId])
  await disk?.remove()
})

test('a nearly full disk ends the running task and refuses new ones with STORE_FULL; the node answers, and takes tasks again once there is room', async () => {
  const first = await cli(['task', 'self', IMAGE, '--', 'echo', 'before'])
  assert.equal(first.code, 0, first.stderr)
  assert.equal(first.stdout, 'before\n')

  const taskId = await chattyTask()
  disk.fill(NEARLY_FULL_BYTES)
  try {
    const failed = await ended(taskId)
    assert.equal(failed.state, 'FAILED', `the task is ${failed.state}`)
    assert.equal(failed.error?.code, 'STORE_FULL')
    assert.match(failed.error.message, /full.*free space/)
    assert.ok(await waitFor(async () => (await taskContainers([nodeId])).length === 0, 30_000, 200), 'its container was stopped and removed')

    const refused = await cli(['task', 'self', IMAGE, '--', 'echo', 'refused'])
    assert.equal(refused.code, 125, `a new task while the disk is full: ${refused.stderr}`)
    assert.match(refused.stderr, /is full .*free space/)
    await nodeAnswers()
    const listed = await cli(['tasks', '--json'])
    assert.equal(listed.code, 0, listed.stderr)
  } finally {
    disk.unfill()
  }

  const again = await cli(['task', 'self', IMAGE, '--', 'echo', 'after'])
  assert.equal(again.code, 0, again.stderr)
  assert.equal(again.stdout, 'after\n')
})

test('a disk filled to its last byte while a task writes: the daemon stays up, and the task is recorded STORE_FULL once there is room', async () => {
  const taskId = await chattyTask()
  disk.fill(0)
  try {
    // The worker stops the container as soon as its output finds no room.
    assert.ok(await waitFor(async () => (await taskContainers([nodeId])).length === 0, 30_000, 200), 'the container was stopped')
    await nodeAnswers()
  } finally {
    disk.unfill()
  }
  const failed = await ended(taskId)
  assert.equal(failed.state, 'FAILED', `the task is ${failed.state}`)
  assert.equal(failed.error?.code, 'STORE_FULL')

  const again = await cli(['task', 'self', IMAGE, '--', 'echo', 'after'])
  assert.equal(again.code, 0, again.stderr)
  assert.equal(again.stdout, 'after\n')
})
