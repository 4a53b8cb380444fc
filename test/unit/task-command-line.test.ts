import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { buildProgram } from '../../cli/main.ts'
import type { Printer } from '../../cli/render.ts'
import { parseTaskInvocation, type TaskInvocation } from '../../cli/task-invocation.ts'

// `cloudai task …` is read without commander when the line is plain (cli/entry.ts); commander
// is the reference: whatever the fast reader accepts, commander must read the same way.

const silent: Printer = { out: () => {}, err: () => {} }

/** How commander reads the line: the `task` invocation its action receives, or the error it throws. */
async function commanderReading (argv: string[]): Promise<TaskInvocation | Error> {
  let seen: TaskInvocation | undefined
  try {
    await buildProgram(silent, async invocation => { seen = invocation }).parseAsync(argv, { from: 'user' })
  } catch (err) {
    return err as Error
  }
  return seen ?? new Error('commander ran no task')
}

const word = fc.constantFrom('task', 'self', 'auto', 'alpha', '127.0.0.1:5000/cloudai/busybox:1', 'sh', 'echo', 'hi there', '', 'x=y', '0.5', '1g')
const dashed = fc.constantFrom('-1', '-n', '-c', '-', '-h', '-V', '--help', '--version', '--nope', '--cpu-x', '--json=1', '--quiet=', '--no-mdns')
const optionWithValue = fc.tuple(
  fc.constantFrom('--cpu', '--memory', '--storage', '--gpus', '--env', '--network', '--timeout', '--label', '--retries', '--policy', '--constraint', '--count', '--mdns-tag', '--input', '--output', '--output-limit', '--data-dir', '--api'),
  fc.constantFrom('2', '0.5', '0', '-1', 'abc', '512m', '1.5g', '90s', '10m', 'A=1', 'B=', '=C', 'none', 'bridge', 'host', 'spread', 'binpack', 'a/b:/in/b', '/out', '3', '', 'k=v=w'),
  fc.boolean()
).map(([flag, value, joined]) => joined ? [`${flag}=${value}`] : [flag, value])
// Lines commander refuses or the fast reader leaves to it are rarer, so that many are read both ways.
const token = fc.oneof(
  { arbitrary: word.map(w => [w]), weight: 4 },
  { arbitrary: dashed.map(d => [d]), weight: 1 },
  { arbitrary: optionWithValue, weight: 4 },
  { arbitrary: fc.constantFrom(['--explain'], ['--detach'], ['--json'], ['--quiet'], ['--retry-on-exit'], ['--'], ['--cpu'], ['--data-dir']), weight: 2 }
)
const line = fc.tuple(
  fc.array(optionWithValue.filter(([flag]) => flag.startsWith('--data-dir') || flag.startsWith('--api')), { maxLength: 2 }),
  fc.constantFrom(['task'], ['task'], ['task'], ['tasks'], []),
  fc.array(token, { maxLength: 9 })
).map(([globals, command, rest]) => [...globals.flat(), ...command, ...rest.flat()])

test('every task command line the fast reader accepts, commander reads the same way', async () => {
  let accepted = 0
  await fc.assert(fc.asyncProperty(line, async argv => {
    const fast = parseTaskInvocation(argv)
    if (fast === undefined) return
    accepted++
    assert.deepEqual(fast, await commanderReading(argv), JSON.stringify(argv))
  }), { numRuns: 3000 })
  // The property is not vacuous: plenty of generated lines take the fast path.
  assert.ok(accepted > 50, `only ${accepted} lines were read without commander`)
  console.log(`${accepted} of 3000 generated lines read without commander, each as commander reads it`)
})

test('the task command lines people type are read without commander, as commander reads them', async () => {
  const lines = [
    ['task', 'self', '127.0.0.1:5000/cloudai/busybox:1', '--quiet', '--', 'true'],
    ['--data-dir', '/tmp/d', 'task', 'auto', 'img', '--cpu', '0.5', '--memory', '1g', '--env', 'A=1', '--env=B=2', '--json', '--', 'sh', '-c', 'echo $A'],
    ['task', 'beta', 'img', 'echo', 'hi', '--timeout', '90s', '--label', 'k=v', '--retries', '2', '--retry-on-exit', '--policy', 'binpack', '--constraint', 'gpu=yes'],
    ['task', 'self', 'img', '--input', 'data.csv', '--output', '/out:results', '--output-limit', '64m', '--detach', '--api', '127.0.0.1:7420'],
    ['task', 'auto', 'img', '--count', '3', '--explain', '--network', 'bridge', '--gpus', '1', '--storage', '2g', '--mdns-tag', 'lab']
  ]
  for (const argv of lines) {
    const fast = parseTaskInvocation(argv)
    assert.notEqual(fast, undefined, JSON.stringify(argv))
    assert.deepEqual(fast, await commanderReading(argv))
  }
  assert.deepEqual(parseTaskInvocation(lines[1])?.command, ['sh', '-c', 'echo $A'])
  assert.deepEqual(parseTaskInvocation(lines[1])?.options.env, { A: '1', B: '2' })
})

test('help, versions, other commands, unknown options and values that do not parse are left to commander', () => {
  for (const argv of [
    ['task', '--help'], ['--help'], ['--version'], ['task', 'self', 'img', '-h'],
    ['tasks', '--limit', '5'], ['status', 'abc'], [],
    ['task', 'self'], ['task', 'self', 'img', '--nope'], ['task', 'self', 'img', '--cpu', '-1'],
    ['task', 'self', 'img', '--cpu', 'lots'], ['task', 'self', 'img', '--network', 'host'],
    ['task', 'self', 'img', '--env', 'novalue'], ['task', 'self', 'img', '--json=1'], ['task', 'self', 'img', '--cpu'],
    ['--cpu', '2', 'task', 'self', 'img'], ['task', 'self', 'img', 'echo', '-n', 'x']
  ]) {
    assert.equal(parseTaskInvocation(argv), undefined, JSON.stringify(argv))
  }
})
