import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { ExecutorTask } from '../../node/src/executor/executor.ts'
import {
  buildCreateOptions, containerName, LABEL_NODE, LABEL_SUBMITTER, LABEL_TASK_ID, LOG_MAX_FILE, LOG_MAX_SIZE,
  PIDS_LIMIT, validateTask
} from '../../node/src/executor/host-config.ts'
import { MIN_TASK_CPU, MIN_TASK_MEMORY_BYTES, MIN_TASK_STORAGE_BYTES } from '../../node/src/resource-floors.ts'

function task (overrides: Partial<ExecutorTask> = {}): ExecutorTask {
  return {
    taskId: 'task-1',
    attempt: 1,
    image: '127.0.0.1:5000/cloudai/busybox:1',
    command: ['sh', '-c', 'echo hi'],
    env: { GREETING: 'hello world', EMPTY: '' },
    resources: { cpu: 1.5, memoryBytes: 512 * 1024 ** 2, storageBytes: 1024 ** 3, gpus: 0 },
    network: 'none',
    labels: { team: 'ml' },
    submitter: '12D3KooWMaster',
    node: '12D3KooWWorker',
    gpuDeviceIds: [],
    ...overrides
  }
}

test('limits: NanoCpus from cores, Memory with MemorySwap equal to it (no swap), a pids limit', () => {
  const { HostConfig } = buildCreateOptions(task(), { storageEnforced: false })
  assert.equal(HostConfig?.NanoCpus, 1_500_000_000)
  assert.equal(HostConfig?.Memory, 512 * 1024 ** 2)
  assert.equal(HostConfig?.MemorySwap, 512 * 1024 ** 2)
  assert.equal(HostConfig?.PidsLimit, PIDS_LIMIT)
  assert.ok(PIDS_LIMIT > 0)
  assert.equal(buildCreateOptions(task({ resources: { cpu: 0.25, memoryBytes: 64 * 1024 ** 2, storageBytes: 0, gpus: 0 } }), { storageEnforced: false }).HostConfig?.NanoCpus, 250_000_000)
})

test('hardening: not privileged, no-new-privileges, NET_RAW dropped, no host mounts, devices or namespaces', () => {
  const options = buildCreateOptions(task(), { storageEnforced: false })
  const host = options.HostConfig as Record<string, unknown>
  assert.notEqual(host.Privileged, true)
  assert.deepEqual(host.SecurityOpt, ['no-new-privileges'])
  assert.deepEqual(host.CapDrop, ['NET_RAW'])
  assert.equal(host.CapAdd, undefined)
  for (const key of ['Binds', 'Mounts', 'Devices', 'DeviceCgroupRules', 'VolumesFrom', 'Sysctls', 'PidMode', 'UTSMode', 'UsernsMode', 'Links', 'PortBindings']) {
    assert.equal(host[key], undefined, `${key} must not be set`)
  }
  assert.equal(host.IpcMode, 'private')
  assert.equal(host.CgroupnsMode, 'private')
  assert.equal(host.AutoRemove, false, 'the executor removes the container itself, after reading its exit code')
  assert.deepEqual(host.LogConfig, { Type: 'json-file', Config: { 'max-size': LOG_MAX_SIZE, 'max-file': LOG_MAX_FILE } })
  assert.equal(host.OomKillDisable, undefined)
})

test('network is none unless the task asks for bridge', () => {
  assert.equal(buildCreateOptions(task(), { storageEnforced: false }).HostConfig?.NetworkMode, 'none')
  assert.equal(buildCreateOptions(task({ network: 'bridge' }), { storageEnforced: false }).HostConfig?.NetworkMode, 'bridge')
})

test('name, image, command, env and labels', () => {
  const options = buildCreateOptions(task(), { storageEnforced: false })
  assert.equal(options.name, 'cloudai-task-1')
  assert.equal(containerName('abc'), 'cloudai-abc')
  assert.equal(containerName('abc', 2), 'cloudai-abc-2', 'a later attempt has its own container, even on the same engine')
  assert.equal(buildCreateOptions(task({ attempt: 3 }), { storageEnforced: false }).name, 'cloudai-task-1-3')
  assert.equal(options.Image, '127.0.0.1:5000/cloudai/busybox:1')
  assert.deepEqual(options.Cmd, ['sh', '-c', 'echo hi'])
  assert.deepEqual(options.Env, ['GREETING=hello world', 'EMPTY='])
  assert.deepEqual(options.Labels, {
    'cloudai.task-id': 'task-1',
    'cloudai.attempt': '1',
    'cloudai.submitter': '12D3KooWMaster',
    'cloudai.node': '12D3KooWWorker',
    'cloudai.label.team': 'ml'
  })
  assert.equal(options.Tty, false, 'stdout and stderr stay separate only without a TTY')
  assert.equal('Cmd' in buildCreateOptions(task({ command: [] }), { storageEnforced: false }), false, 'an empty command keeps the image default')
})

test('user labels never replace the labels the node relies on', () => {
  fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1 }).filter(k => !k.includes('\0')), fc.string().filter(v => !v.includes('\0'))), labels => {
    const out = buildCreateOptions(task({ labels }), { storageEnforced: false }).Labels ?? {}
    assert.equal(out[LABEL_TASK_ID], 'task-1')
    assert.equal(out[LABEL_SUBMITTER], '12D3KooWMaster')
    assert.equal(out[LABEL_NODE], '12D3KooWWorker')
    for (const [key, value] of Object.entries(labels)) assert.equal(out[`cloudai.label.${key}`], value)
  }))
})

test('GPUs are device requests for exactly the assigned device ids, none without GPUs', () => {
  const withGpus = buildCreateOptions(task({ resources: { cpu: 1, memoryBytes: 1024 ** 3, storageBytes: 0, gpus: 2 }, gpuDeviceIds: ['1', 'GPU-abc'] }), { storageEnforced: false })
  // Explicit ids and no Count: a count would let the engine pick any GPU, perhaps one another task holds.
  assert.deepEqual(withGpus.HostConfig?.DeviceRequests, [{ Driver: 'nvidia', DeviceIDs: ['1', 'GPU-abc'], Capabilities: [['gpu']] }])
  assert.equal(buildCreateOptions(task(), { storageEnforced: false }).HostConfig?.DeviceRequests, undefined)
})

test('storage is limited with StorageOpt only where the engine enforces it', () => {
  assert.deepEqual(buildCreateOptions(task(), { storageEnforced: true }).HostConfig?.StorageOpt, { size: String(1024 ** 3) })
  assert.equal(buildCreateOptions(task(), { storageEnforced: false }).HostConfig?.StorageOpt, undefined)
})

test('amounts below the floors (a spec stored before they existed) are raised in the options: never NanoCpus 0 or no StorageOpt, which mean no limit', () => {
  const tiny = task({ resources: { cpu: 1e-10, memoryBytes: 1024 ** 2, storageBytes: 0, gpus: 0 } })
  validateTask(tiny)
  const host = buildCreateOptions(tiny, { storageEnforced: true }).HostConfig
  assert.equal(host?.NanoCpus, MIN_TASK_CPU * 1e9)
  assert.equal(host?.Memory, MIN_TASK_MEMORY_BYTES)
  assert.equal(host?.MemorySwap, MIN_TASK_MEMORY_BYTES)
  assert.deepEqual(host?.StorageOpt, { size: String(MIN_TASK_STORAGE_BYTES) })
})

test('a task Docker would refuse, or that we must not run, is refused by name with what to fix', () => {
  const bad: Array<[string, Partial<ExecutorTask>, RegExp]> = [
    ['task id with a slash', { taskId: 'a/b' }, /task id/],
    ['empty task id', { taskId: '' }, /task id/],
    ['empty image', { image: '' }, /image/],
    ['NaN CPU', { resources: { cpu: Number.NaN, memoryBytes: 1024 ** 3, storageBytes: 0, gpus: 0 } }, /CPU/],
    ['zero CPU', { resources: { cpu: 0, memoryBytes: 1024 ** 3, storageBytes: 0, gpus: 0 } }, /CPU/],
    ['negative memory', { resources: { cpu: 1, memoryBytes: -1, storageBytes: 0, gpus: 0 } }, /memory/],
    ['zero memory', { resources: { cpu: 1, memoryBytes: 0, storageBytes: 0, gpus: 0 } }, /memory/],
    ['fractional storage', { resources: { cpu: 1, memoryBytes: 1024 ** 3, storageBytes: 1.5, gpus: 0 } }, /storage/],
    ['GPUs without device ids', { resources: { cpu: 1, memoryBytes: 1024 ** 3, storageBytes: 0, gpus: 1 } }, /device id/],
    ['unknown network', { network: 'host' as 'none' }, /network/],
    ['zero timeout', { timeoutMs: 0 }, /timeout/],
    ['env name with =', { env: { 'A=B': 'c' } }, /environment/],
    ['NUL in an argument', { command: ['echo', 'a\0b'] }, /NUL/],
    ['empty label key', { labels: { '': 'x' } }, /label/]
  ]
  for (const [what, overrides, pattern] of bad) {
    assert.throws(() => { validateTask(task(overrides)) }, (err: any) => {
      assert.equal(err.name, 'InvalidSpecError', what)
      assert.match(err.message, pattern, what)
      assert.match(err.message, /submit it again/, what)
      return true
    })
  }
  validateTask(task())
  validateTask(task({ command: [], env: {}, labels: {}, timeoutMs: 1 }))
})

test('the strict profile: read-only root, a size-capped noexec /tmp, every capability dropped, a fixed user', () => {
  const { User, HostConfig } = buildCreateOptions(task({ strict: { user: '65534:65534', tmpBytes: 64 * 1024 * 1024 } }), { storageEnforced: false })
  assert.equal(User, '65534:65534')
  assert.equal(HostConfig?.ReadonlyRootfs, true)
  assert.deepEqual(HostConfig?.CapDrop, ['ALL'])
  assert.deepEqual(HostConfig?.Tmpfs, { '/tmp': `rw,nosuid,nodev,noexec,size=${64 * 1024 * 1024}` })
  assert.equal(HostConfig?.Privileged, false)
  const plain = buildCreateOptions(task(), { storageEnforced: false })
  assert.equal(plain.User, undefined)
  assert.equal(plain.HostConfig?.ReadonlyRootfs, undefined)
  assert.deepEqual(plain.HostConfig?.CapDrop, ['NET_RAW'])
})
