import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { createSimulatedExecutor } from '../../node/src/executor/simulated.ts'
import { TaskState, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import { DEFAULT_POLICY, loadPolicy, policyRefusal, POLICY_FILE } from '../../node/src/worker/policy.ts'
import { parsePolicy } from '../../node/src/worker/policy-file.ts'
import { Worker } from '../../node/src/worker/worker.ts'
import { tempStore } from '../helpers/store.ts'

const NODE = 'node-peer'
const MASTER = 'master-peer'
const GiB = 1024 ** 3

function spec (extra: Partial<TaskSpec> = {}): TaskSpec {
  return {
    id: `policy-${Math.random().toString(36).slice(2)}`,
    image: '127.0.0.1:5000/cloudai/busybox:1',
    command: ['exit:0'],
    env: {},
    resources: { cpu: 1, memoryBytes: GiB, storageBytes: GiB, gpus: 0 },
    network: 'none',
    labels: {},
    attempt: 1,
    ...extra
  }
}

test('no policy file: the defaults accept every member\'s task, on either network', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cloudai-policy-'))
  try {
    assert.deepEqual(await loadPolicy(dir), DEFAULT_POLICY)
    assert.equal(policyRefusal(DEFAULT_POLICY, spec({ network: 'bridge' }), MASTER, NODE), undefined)
  } finally {
    await rm(dir, { recursive: true })
  }
})

test('a policy file is read with sizes in the CLI\'s units, and each rule refuses with its reason', () => {
  const policy = parsePolicy(JSON.stringify({
    submitters: [MASTER],
    images: ['127.0.0.1:5000/'],
    maxTask: { cpu: 2, memory: '2g', storage: 4 * GiB, gpus: 0 },
    networks: ['none']
  }))
  assert.deepEqual(policy.maxTask, { cpu: 2, memoryBytes: 2 * GiB, storageBytes: 4 * GiB, gpus: 0 })
  assert.equal(policyRefusal(policy, spec(), MASTER, NODE), undefined)
  assert.match(policyRefusal(policy, spec(), 'stranger', NODE) ?? '', /does not accept tasks from stranger/)
  assert.equal(policyRefusal(policy, spec(), NODE, NODE), undefined, 'the node\'s own tasks pass the submitter check')
  assert.match(policyRefusal(policy, spec({ image: 'docker.io/library/busybox:1' }), MASTER, NODE) ?? '', /only images starting with "127\.0\.0\.1:5000\/"/)
  assert.match(policyRefusal(policy, spec({ network: 'bridge' }), MASTER, NODE) ?? '', /does not allow network "bridge"/)
  assert.match(policyRefusal(policy, spec({ resources: { cpu: 3, memoryBytes: 3 * GiB, storageBytes: GiB, gpus: 1 } }), MASTER, NODE) ?? '',
    /asks for 3 CPU \(at most 2\), 3 GiB memory \(at most 2 GiB\), 1 GPU \(at most 0\)/)
})

test('a bad policy file is refused with the file, the field and what to do', () => {
  const cases: Array<[string, RegExp]> = [
    ['{', /not valid JSON.*remove it to accept every member's tasks/],
    ['[]', /\(top\): /],
    ['{"submiters": []}', /Unrecognized key.*submiters|submiters/],
    ['{"networks": ["host"]}', /networks\.0/],
    ['{"maxTask": {"cpu": -1}}', /maxTask\.cpu/],
    ['{"maxTask": {"memory": "lots"}}', /maxTask\.memory: "lots" is not a size/],
    ['{"strict": {"tmp": "big"}}', /strict\.tmp: "big" is not a size/],
    ['{"maxTask": {"gpus": 1.5}}', /maxTask\.gpus/],
    [JSON.stringify({ submitters: Array(10_001).fill('x') }), /submitters/]
  ]
  for (const [text, reason] of cases) {
    assert.throws(() => parsePolicy(text, '/data/policy.json'), (err: Error) => err.name === 'PolicyError' && err.message.startsWith('/data/policy.json') && reason.test(err.message), text.slice(0, 40))
  }
})

test('any JSON at all is either a policy or a PolicyError, never another exception', () => {
  fc.assert(fc.property(fc.jsonValue(), value => {
    try {
      parsePolicy(JSON.stringify(value))
    } catch (err: any) {
      assert.equal(err?.name, 'PolicyError')
    }
  }), { numRuns: 500 })
})

test('the worker refuses a task its policy forbids before admission: REJECTED with POLICY, nothing runs, nothing is reserved or stored', async () => {
  const store = tempStore()
  const executor = createSimulatedExecutor({ pullMs: 1, startMs: 1 })
  const worker = new Worker({
    executor,
    capacity: { cpu: 4, memoryBytes: 8 * GiB, storageBytes: 8 * GiB, gpus: 0 },
    nodeId: NODE,
    store,
    policy: parsePolicy(JSON.stringify({ images: ['registry.lan/'] }))
  })
  const task = worker.submit(spec(), MASTER)
  assert.equal(task.state, TaskState.REJECTED)
  const event = task.eventAt(task.lastSeq)
  assert.equal(event?.error?.code, 'POLICY')
  assert.match(event?.error?.message ?? '', /registry\.lan/)
  assert.equal(executor.running(), 0)
  assert.deepEqual(worker.allocated(), { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 })
  assert.equal(store.task(spec().id, 'executed'), undefined, 'a refused Submit is not stored')
})

test('loadPolicy reads the data dir\'s file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cloudai-policy-'))
  try {
    await writeFile(join(dir, POLICY_FILE), JSON.stringify({ networks: ['none'] }))
    assert.deepEqual((await loadPolicy(dir)).networks, ['none'])
    await writeFile(join(dir, POLICY_FILE), '{"networks": "none"}')
    await assert.rejects(loadPolicy(dir), (err: Error) => err.name === 'PolicyError' && err.message.includes(join(dir, POLICY_FILE)))
  } finally {
    await rm(dir, { recursive: true })
  }
})
