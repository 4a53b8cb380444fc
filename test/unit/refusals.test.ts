import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { AUDIT_FILE, AUDIT_MAX_BYTES, AuditLog } from '../../node/src/audit.ts'
import { createSimulatedExecutor } from '../../node/src/executor/simulated.ts'
import { TaskState, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import { parsePolicy } from '../../node/src/worker/policy-file.ts'
import { SubmissionLimiter } from '../../node/src/worker/rate-limit.ts'
import { Worker } from '../../node/src/worker/worker.ts'
import { tempStore } from '../helpers/store.ts'

const GiB = 1024 ** 3

test('the rate limit lets a burst through, then the steady rate, per peer', () => {
  const limiter = new SubmissionLimiter({ perSecond: 10, burst: 5 })
  const at = 1_000_000
  assert.deepEqual(Array.from({ length: 7 }, () => limiter.take('flooder', at)), [true, true, true, true, true, false, false])
  assert.equal(limiter.take('other', at), true, 'another peer has its own bucket')
  assert.equal(limiter.take('flooder', at + 99), false, 'less than one token refilled')
  assert.equal(limiter.take('flooder', at + 100), true, 'one token after 100 ms at 10/s')
  assert.deepEqual(Array.from({ length: 6 }, () => limiter.take('flooder', at + 60_000)), [true, true, true, true, true, false], 'refills to the burst, no more')
})

test('a worker refuses the excess of a flooding submitter with RATE_LIMITED, audits it, and keeps admitting others and itself', async () => {
  const refusals: string[] = []
  const worker = new Worker({
    executor: createSimulatedExecutor({ pullMs: 1, startMs: 1 }),
    capacity: { cpu: 1000, memoryBytes: 1000 * GiB, storageBytes: 1000 * GiB, gpus: 0 },
    nodeId: 'node',
    store: tempStore(),
    policy: parsePolicy(JSON.stringify({ submissions: { perSecond: 1, burst: 3 } })),
    onRefused: (peer, _taskId, code) => { refusals.push(`${peer}:${code}`) }
  })
  const spec = (id: string): TaskSpec => ({
    id, image: '127.0.0.1:5000/x:1', command: ['sleep:10'], env: {}, resources: { cpu: 1, memoryBytes: GiB, storageBytes: 0, gpus: 0 }, network: 'none', labels: {}, attempt: 1
  })
  const submitted = Array.from({ length: 5 }, (_, i) => worker.submit(spec(`flood-${i}`), 'flooder'))
  assert.deepEqual(submitted.map(task => task.state === TaskState.REJECTED), [false, false, false, true, true])
  const rejected = submitted[4]
  assert.equal(rejected.eventAt(rejected.lastSeq)?.error?.code, 'RATE_LIMITED')
  assert.match(rejected.eventAt(rejected.lastSeq)?.error?.message ?? '', /flooder sent more than 3 tasks at once or 1 a second/)
  assert.notEqual(worker.submit(spec('polite-1'), 'polite').state, TaskState.REJECTED)
  for (let i = 0; i < 5; i++) assert.notEqual(worker.submit(spec(`self-${i}`), 'node').state, TaskState.REJECTED, 'the node\'s own tasks are not limited')
  assert.deepEqual(refusals, ['flooder:RATE_LIMITED', 'flooder:RATE_LIMITED'])
  await worker.cancelAll()
})

test('the audit log is one JSON object per line, mode 0600, and rolls over instead of growing past its bound', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cloudai-audit-'))
  try {
    const audit = new AuditLog(dir)
    audit.record({ peer: '12D3KooWStranger', action: 'submit', code: 'POLICY', reason: 'not a submitter', taskId: 't-1' })
    const path = join(dir, AUDIT_FILE)
    const [line] = (await readFile(path, 'utf8')).trim().split('\n').map(text => JSON.parse(text))
    assert.equal(line.peer, '12D3KooWStranger')
    assert.equal(line.code, 'POLICY')
    assert.ok(!Number.isNaN(Date.parse(line.time)))
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    // A log already at its bound (written by an earlier run) moves aside before the next line.
    await writeFile(path, 'x'.repeat(AUDIT_MAX_BYTES - 10))
    new AuditLog(dir).record({ peer: 'p', action: 'connect', code: 'NOT_MEMBER', reason: 'r' })
    assert.equal((await stat(`${path}.1`)).size, AUDIT_MAX_BYTES - 10)
    assert.equal((await readFile(path, 'utf8')).trim().split('\n').length, 1)
  } finally {
    await rm(dir, { recursive: true })
  }
})

test('the policy reads members, the strict profile (with its defaults) and the submission limits', () => {
  const policy = parsePolicy(JSON.stringify({ members: ['12D3KooWA'], strict: {}, submissions: { perSecond: 5, burst: 50 } }))
  assert.deepEqual(policy.members, ['12D3KooWA'])
  assert.deepEqual(policy.strict, { user: '65534:65534', tmpBytes: 64 * 1024 * 1024 })
  assert.deepEqual(policy.submissions, { perSecond: 5, burst: 50 })
  assert.deepEqual(parsePolicy(JSON.stringify({ strict: { user: 'worker', tmp: '16m' } })).strict, { user: 'worker', tmpBytes: 16 * 1024 * 1024 })
  for (const bad of [{ strict: { user: 'root; rm -rf /' } }, { strict: { tmp: -1 } }, { submissions: { perSecond: 0, burst: 1 } }, { members: 'all' }]) {
    assert.throws(() => parsePolicy(JSON.stringify(bad)), (err: Error) => err.name === 'PolicyError', JSON.stringify(bad))
  }
})
