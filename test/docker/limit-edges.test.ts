import assert from 'node:assert/strict'
import { test } from 'node:test'
import { IMAGE, runCliBytes, taskContainers } from '../helpers/docker.ts'
import { useSoloDaemon } from '../helpers/solo-daemon.ts'

/**
 * Limits at their edges on a real engine: tasks sent with the CLI
 * as a user types them, asking for tiny, zero or overlong amounts. What is asserted is what
 * the container itself sees in its cgroup (cgroup v1 here: the engine runs cgroupfs), and
 * what the user sees: exit codes and messages.
 */

/** cgroup v1 files, read from inside the container (its own cgroup namespace). */
const CPU_QUOTA = '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'
const CPU_PERIOD = '/sys/fs/cgroup/cpu/cpu.cfs_period_us'
const MEMORY_LIMIT = '/sys/fs/cgroup/memory/memory.limit_in_bytes'
const BOUND_MS = 60_000

const solo = useSoloDaemon()

function task (...args: string[]): string[] {
  return ['--data-dir', solo.dataDir, 'task', 'self', IMAGE, ...args]
}


test('a task asking for 1e-10 CPU runs with a real CPU quota: 0.01 core, 1,000 µs per 100,000 µs period, read inside its container', async () => {
  const result = await runCliBytes(task('--cpu', '1e-10', '--', 'cat', CPU_QUOTA, CPU_PERIOD), { timeoutMs: BOUND_MS })
  const stderr = result.stderr.toString()
  assert.equal(result.code, 0, stderr)
  const [quota, period] = result.stdout.toString().trim().split('\n').map(Number)
  console.log(`--cpu 1e-10: cfs_quota_us ${quota}, cfs_period_us ${period}`)
  assert.equal(period, 100_000)
  assert.equal(quota, 1_000, 'the container has a CPU quota (-1 means no limit at all)')
  assert.match(stderr, /CPU: 0\.01 cores/, 'the box shows what the task gets')
})

test('a task asking for 1 KiB of memory runs with the 6 MiB floor as its memory limit, read inside its container', async () => {
  const result = await runCliBytes(task('--memory', '1k', '--', 'cat', MEMORY_LIMIT), { timeoutMs: BOUND_MS })
  const stderr = result.stderr.toString()
  assert.equal(result.code, 0, stderr)
  const limit = Number(result.stdout.toString().trim())
  console.log(`--memory 1k: memory.limit_in_bytes ${limit}`)
  assert.equal(limit, 6 * 1024 * 1024)
  assert.match(stderr, /Memory: 6 MiB/)
})

test('--storage 0, --cpu 0 and --memory 0 are refused with exit 2 and a reason, and nothing runs', async () => {
  for (const [option, what] of [['--storage', /storage/], ['--cpu', /CPU/], ['--memory', /memory/]] as const) {
    const result = await runCliBytes(task(option, '0', '--', 'echo', 'ran'), { timeoutMs: BOUND_MS })
    const stderr = result.stderr.toString()
    console.log(`${option} 0: exit ${result.code}`)
    assert.equal(result.code, 2, `${option} 0: ${stderr}`)
    assert.equal(result.stdout.length, 0, `${option} 0 ran`)
    assert.match(stderr, what, option)
    assert.match(stderr, /0 would mean no limit/, option)
  }
  assert.deepEqual(await taskContainers([solo.nodeId]), [])
})

test('--timeout past the 24 days a timer can hold is refused with exit 2; 24 days runs the task to its end', async () => {
  const tooLong = await runCliBytes(task('--timeout', '25d', '--', 'sh', '-c', 'sleep 2; echo ran'), { timeoutMs: BOUND_MS })
  const stderr = tooLong.stderr.toString()
  console.log(`--timeout 25d: exit ${tooLong.code}, ${stderr.split('\n').filter(line => /timed out|timeout/.test(line)).join(' ')}`)
  assert.equal(tooLong.code, 2, stderr)
  assert.equal(tooLong.stdout.length, 0, 'the task did not run')
  assert.match(stderr, /at most 24 days/)

  const longest = await runCliBytes(task('--timeout', '24d', '--', 'sh', '-c', 'sleep 1; echo ran'), { timeoutMs: BOUND_MS })
  assert.equal(longest.code, 0, longest.stderr.toString())
  assert.equal(longest.stdout.toString(), 'ran\n')
})
