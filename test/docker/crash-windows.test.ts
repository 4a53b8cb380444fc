import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, test } from 'node:test'
import Docker from 'dockerode'
import { createDockerExecutor } from '../../node/src/executor/docker.ts'
import { TaskState, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import { TaskStore } from '../../node/src/store/store.ts'
import { Worker } from '../../node/src/worker/worker.ts'
import { ensureTestImage, IMAGE, removeTaskContainers } from '../helpers/docker.ts'
import { tempDir, waitFor } from '../helpers/env.ts'

/**
 * A worker that dies at the worst moment (issue 12, item 11), on the real engine: what it
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
