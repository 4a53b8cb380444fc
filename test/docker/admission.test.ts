import assert from 'node:assert/strict'
import { test } from 'node:test'
import { IMAGE, runCliBytes, spawnCli, taskContainers, type LiveCli } from '../helpers/docker.ts'
import { waitFor } from '../helpers/env.ts'
import { useSoloDaemon } from '../helpers/solo-daemon.ts'

/**
 * Admission on a real engine: a daemon that offers 2 CPUs, and tasks sent to it
 * with the CLI as a user types them. What is asserted is what a user sees: the events of
 * `--json`, exit codes, messages, and the containers the engine shows.
 */

/** Long enough that the holders still run when the third task arrives on a loaded machine, short enough to keep the file quick. */
const SLEEP_S = 6
/** The task that waits for a CPU: how long it runs once admitted does not matter. */
const WAITER_SLEEP_S = 1
const BOUND_MS = 30_000

const solo = useSoloDaemon()

function parseEvents (stdout: string): any[] {
  return stdout.split('\n').filter(line => line !== '').map(line => JSON.parse(line))
}

function sleepTask (seconds = SLEEP_S): LiveCli {
  return spawnCli(['--data-dir', solo.dataDir, 'task', 'self', IMAGE, '--cpu', '1', '--json', '--', 'sleep', String(seconds)], { timeoutMs: BOUND_MS })
}

async function waitForState (cli: LiveCli, state: string): Promise<any> {
  const seen = await cli.waitForStdout(out => parseEvents(out).some(event => event.state === state), BOUND_MS)
  assert.ok(seen, `no ${state} event:\n${cli.stdout()}\n${cli.stderr()}`)
  return parseEvents(cli.stdout()).find(event => event.state === state)
}


test('three --cpu 1 tasks on a node with 2 CPUs: two run, the third is QUEUED at position 1 and runs when one ends', async () => {
  const first = sleepTask()
  const second = sleepTask()
  let third: LiveCli | undefined
  try {
    // The third is submitted once the first two are admitted, so which one waits is known.
    const [firstRunning, secondRunning] = await Promise.all([waitForState(first, 'RUNNING'), waitForState(second, 'RUNNING')])
    assert.ok(firstRunning.containerId != null && secondRunning.containerId != null)
    third = sleepTask(WAITER_SLEEP_S)
    const queued = await waitForState(third, 'QUEUED')
    assert.equal(queued.queuedPosition, 1, JSON.stringify(queued))
    assert.equal(queued.seq, 1, 'waiting is the first thing the task does')
    assert.equal((await taskContainers([solo.nodeId])).length, 2, 'only two containers while the third waits')

    const thirdRunning = await waitForState(third, 'RUNNING')
    const ends = [first, second].map(cli => parseEvents(cli.stdout()).find(event => event.state === 'SUCCEEDED'))
    const firstEnd = ends.filter(event => event != null).map(event => Date.parse(event.time)).sort((a, b) => a - b)[0]
    assert.ok(firstEnd != null, `the third started before either of the others ended:\n${first.stdout()}\n${second.stdout()}`)
    const thirdStarted = parseEvents(third.stdout()).find(event => event.state === 'PULLING' || event.state === 'STARTING' || event.state === 'RUNNING')
    assert.ok(Date.parse(thirdStarted.time) >= firstEnd, `the third left the queue at ${thirdStarted.time}, before the first ended`)
    assert.ok(thirdRunning.containerId != null)

    assert.deepEqual(await Promise.all([first.exited, second.exited, third.exited]), [0, 0, 0], third.stderr())
    const states = parseEvents(third.stdout()).map(event => event.state).filter((s, i, all) => all[i - 1] !== s)
    assert.deepEqual(states.slice(0, 1), ['QUEUED'])
    assert.equal(states.at(-1), 'SUCCEEDED')
  } finally {
    for (const cli of [first, second, third]) cli?.kill()
  }
})

test('a --cpu 64 task is refused with the numbers and exit 125, and nothing runs', async () => {
  const result = await runCliBytes(['--data-dir', solo.dataDir, 'task', 'self', IMAGE, '--cpu', '64', '--', 'true'])
  const stderr = result.stderr.toString()
  assert.equal(result.code, 125, stderr)
  assert.equal(result.stdout.length, 0)
  assert.match(stderr, /needs 64 CPU, node has 2/)
  assert.deepEqual(await taskContainers([solo.nodeId]), [])
})

test('with two tasks holding both CPUs, --detach returns at once and the queued task still runs to its end', async () => {
  const holders = [sleepTask(), sleepTask()]
  try {
    await Promise.all(holders.map(async cli => await waitForState(cli, 'RUNNING')))
    const detached = await runCliBytes(['--data-dir', solo.dataDir, 'task', 'self', IMAGE, '--cpu', '1', '--detach', '--', 'true'])
    assert.equal(detached.code, 0, detached.stderr.toString())
    const taskId = detached.stdout.toString().trim()
    assert.ok(detached.ms < SLEEP_S * 1000, `--detach waited for the queue (${detached.ms} ms)`)
    assert.ok(await waitFor(() => solo.process!.output().includes(`task ${taskId}: SUCCEEDED`), BOUND_MS, 200), `the queued task ran to its end:\n${solo.process!.output().slice(-2000)}`)
    assert.deepEqual(await Promise.all(holders.map(async cli => await cli.exited)), [0, 0])
  } finally {
    holders.forEach(cli => { cli.kill() })
  }
})
