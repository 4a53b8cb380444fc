import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, afterEach, before, describe, test } from 'node:test'
import { type DaemonProcess, initNodes, runCli, startDaemonProcess } from '../helpers/cli.ts'
import { ensureTestImage, IMAGE, removeTaskContainers, spawnCli, taskContainers } from '../helpers/docker.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'

/**
 * Tasks that outlive their watchers, on the real engine with two daemons as
 * separate processes: a master ("alpha") and a worker ("beta"). Processes are killed with
 * SIGKILL, as a crash or an OOM killer would; what is asserted is what a user sees from the
 * CLI: output, exit codes, states, and the containers the engine shows.
 */

/** The master's loss deadline: short, so that a LOST task is seen within the test. */
const LOST_AFTER_S = 6
const BOUND_MS = 60_000
/** A task that prints a numbered line every half second: complete output is easy to check. */
const LINES = 8
const COUNTING = ['sh', '-c', `for i in $(seq 1 ${LINES}); do echo line $i; sleep 0.5; done; echo done >&2; exit 3`]
const EXPECTED_STDOUT = Array.from({ length: LINES }, (_, i) => `line ${i + 1}\n`).join('')

let dir: { path: string, remove: () => Promise<void> }
const tag = mdnsTag()
const dataDirs = { alpha: '', beta: '' }
const daemons: { alpha?: DaemonProcess, beta?: DaemonProcess } = {}
const nodeIds: string[] = []

async function cli (node: 'alpha' | 'beta', args: string[], timeoutMs = BOUND_MS): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await runCli(['--data-dir', dataDirs[node], ...args], { timeoutMs })
}

async function startNode (node: 'alpha' | 'beta'): Promise<DaemonProcess> {
  // A killed daemon leaves its api file behind: the new one writes it when it is ready.
  await rm(join(dataDirs[node], 'api'), { force: true })
  const extra = node === 'alpha' ? ['--lost-after', `${LOST_AFTER_S}s`] : ['--cpu', '2']
  daemons[node] = await startDaemonProcess(dataDirs[node], ['--name', node, '--mdns-tag', tag, ...extra])
  return daemons[node]
}

async function seesBeta (): Promise<boolean> {
  return await waitFor(async () => {
    const peers = await cli('alpha', ['peers', '--json'])
    return peers.code === 0 && (JSON.parse(peers.stdout) as any[]).some(peer => peer.name === 'beta' && peer.reachable === true)
  }, 20_000, 250)
}

async function taskOn (node: 'alpha' | 'beta', taskId: string): Promise<any> {
  const status = await cli(node, ['status', taskId, '--json'])
  assert.equal(status.code, 0, status.stderr)
  return JSON.parse(status.stdout)
}

async function detach (command: string[]): Promise<string> {
  const sent = await cli('alpha', ['task', 'beta', IMAGE, '--detach', '--', ...command])
  assert.equal(sent.code, 0, sent.stderr)
  const taskId = sent.stdout.trim()
  assert.match(taskId, /^[a-z0-9]+-[0-9a-f]{12}$/)
  return taskId
}

/** Wait until the worker has the task running (its first output line is stored on the master). */
async function untilRunning (taskId: string): Promise<void> {
  const running = await waitFor(async () => (await taskOn('alpha', taskId)).state === 'RUNNING', 30_000, 200)
  assert.ok(running, `task ${taskId} never ran`)
}

before(async () => {
  requireTestNamespace()
  await ensureTestImage()
  dir = await tempDir()
  const nodes = await initNodes(dir.path, ['alpha', 'beta'] as const)
  Object.assign(dataDirs, nodes.dataDirs)
  nodeIds.push(nodes.peerIds.alpha, nodes.peerIds.beta)
  await startNode('alpha')
  await startNode('beta')
  assert.ok(await seesBeta(), 'alpha never saw beta')
})

afterEach(async () => {
  if (daemons.beta?.child.exitCode != null || daemons.beta?.child.signalCode != null) {
    await startNode('beta')
    assert.ok(await seesBeta(), 'alpha never saw beta again')
  }
})

after(async () => {
  await daemons.alpha?.stop('SIGKILL')
  await daemons.beta?.stop('SIGKILL')
  await removeTaskContainers(nodeIds)
  await dir?.remove()
})

describe('tasks that outlive their watchers', () => {
  test('task --detach, then logs -f: the complete output, stdout and stderr apart, and the exit code', async () => {
    const taskId = await detach(COUNTING)
    const logs = await cli('alpha', ['logs', '-f', taskId.slice(0, 12)])
    assert.equal(logs.code, 3, logs.stderr)
    assert.equal(logs.stdout, EXPECTED_STDOUT)
    assert.match(logs.stderr, /^done$/m)
    assert.match(logs.stderr, /failed on beta|failed .*exit 3/)
    // The last two lines of the output, counted over both streams as `docker logs --tail` does.
    const tail = await cli('alpha', ['logs', taskId, '--tail', '2'])
    assert.equal(tail.code, 0, tail.stderr)
    assert.equal(tail.stdout, `line ${LINES}\n`)
    assert.match(tail.stderr, /^done$/m)
  })

  test('a master killed mid-task and restarted finds the task finished, with its whole output', async () => {
    const taskId = await detach(COUNTING)
    await untilRunning(taskId)
    await daemons.alpha!.stop('SIGKILL')
    // With the master down, its history is still readable from the store.
    const offline = await cli('alpha', ['tasks', '--json'])
    assert.equal(offline.code, 0, offline.stderr)
    assert.ok((JSON.parse(offline.stdout) as any[]).some(task => task.taskId === taskId))
    // The task ends on the worker while its master is down.
    assert.ok(await waitFor(async () => (await taskOn('beta', taskId)).state === 'FAILED', 30_000, 200), 'the task never ended on the worker')
    await startNode('alpha')
    const logs = await cli('alpha', ['logs', '-f', taskId])
    assert.equal(logs.code, 3, logs.stderr)
    assert.equal(logs.stdout, EXPECTED_STDOUT)
    const task = await taskOn('alpha', taskId)
    assert.equal(task.state, 'FAILED')
    assert.equal(task.exitCode, 3)
  })

  test('a worker killed mid-task and restarted within the deadline: the task ends SUCCEEDED with all its output, and both nodes agree', async () => {
    const following = spawnCli(['--data-dir', dataDirs.alpha, 'task', 'beta', IMAGE, '--', 'sh', '-c', `for i in $(seq 1 ${LINES}); do echo line $i; sleep 1; done`], { timeoutMs: BOUND_MS })
    assert.ok(await following.waitForStdout(out => out.includes('line 2\n'), 30_000), following.stderr())
    await daemons.beta!.stop('SIGKILL')
    assert.ok(await waitFor(() => following.stderr().includes('unreachable since'), 20_000), `the CLI never said the worker was unreachable:\n${following.stderr()}`)
    await startNode('beta')
    const code = await following.exited
    assert.equal(code, 0, following.stderr())
    assert.equal(following.stdout(), EXPECTED_STDOUT)
    assert.match(following.stderr(), /re-attached/)
    const taskId = /task (\S+) accepted/.exec(following.stderr())?.[1] ?? ''
    const onAlpha = await taskOn('alpha', taskId)
    const onBeta = await taskOn('beta', taskId)
    assert.equal(onAlpha.state, 'SUCCEEDED')
    assert.equal(onBeta.state, 'SUCCEEDED')
    assert.equal(onBeta.role, 'executed')
    assert.equal(onAlpha.logBytes.stdout, EXPECTED_STDOUT.length)
    assert.equal(onBeta.logBytes.stdout, EXPECTED_STDOUT.length)
  })

  test('a worker that stays down: UNREACHABLE, then LOST (exit 125 with the reason); when it returns, its copy is cancelled, not reported', async () => {
    // Stops at SIGTERM as a well-behaved task does, so that cancelling the stale copy does not wait for docker stop's 10 s grace.
    const following = spawnCli(['--data-dir', dataDirs.alpha, 'task', 'beta', IMAGE, '--', 'sh', '-c', 'trap "exit 143" TERM; echo started; sleep 120 & wait'], { timeoutMs: BOUND_MS })
    assert.ok(await following.waitForStdout(out => out.includes('started\n'), 30_000), following.stderr())
    const taskId = /task (\S+) accepted/.exec(following.stderr())?.[1] ?? ''
    const killedAt = Date.now()
    await daemons.beta!.stop('SIGKILL')
    const unreachable = await waitFor(async () => (await taskOn('alpha', taskId)).unreachableSince != null, 20_000, 200)
    assert.ok(unreachable, 'status never showed the worker as unreachable')
    const listed = await cli('alpha', ['tasks'])
    assert.match(listed.stdout, /UNREACHABLE since/)
    const code = await following.exited
    const lostAfterMs = Date.now() - killedAt
    assert.equal(code, 125, following.stderr())
    assert.match(following.stderr(), /lost .*unreachable since/i)
    assert.ok(lostAfterMs >= LOST_AFTER_S * 1000 && lostAfterMs < LOST_AFTER_S * 1000 + 20_000, `LOST after ${lostAfterMs} ms`)
    assert.equal((await taskOn('alpha', taskId)).state, 'LOST')

    await startNode('beta')
    const noted = await waitFor(async () => (await taskOn('alpha', taskId)).note != null, 30_000, 250)
    assert.ok(noted, 'the master never dealt with the stale copy')
    const onAlpha = await taskOn('alpha', taskId)
    assert.match(onAlpha.note, /stale copy .* cancelled/)
    assert.equal(onAlpha.state, 'LOST')
    const cancelled = await waitFor(async () => (await taskOn('beta', taskId)).state === 'CANCELLED', 30_000, 250)
    assert.ok(cancelled, `beta's copy ended ${(await taskOn('beta', taskId)).state}`)
    assert.ok(await waitFor(async () => (await taskContainers([nodeIds[1]])).length === 0, 20_000, 250), 'the stale container is still there')
  })

  test('cancel: a queued task leaves the queue, a running one ends CANCELLED within the grace period, a finished one says so', async () => {
    // A shell that stops at SIGTERM, as a well-behaved task does (a bare sleep as PID 1 ignores it and waits for SIGKILL).
    const polite = ['sh', '-c', 'trap "exit 143" TERM; sleep 60 & wait']
    const running = [await detach(polite), await detach(polite)]
    for (const taskId of running) await untilRunning(taskId)
    const queued = await detach(['sleep', '60'])
    assert.ok(await waitFor(async () => (await taskOn('alpha', queued)).state === 'QUEUED', 20_000, 200), 'the third task was not queued')

    const fromQueue = await cli('alpha', ['cancel', queued, '--json'])
    assert.equal(fromQueue.code, 0, fromQueue.stderr)
    assert.deepEqual(JSON.parse(fromQueue.stdout), { taskId: queued, state: 'CANCELLED', cancelled: true })

    const started = Date.now()
    const stopped = await cli('alpha', ['cancel', running[0]])
    assert.equal(stopped.code, 0, stopped.stderr)
    assert.match(stopped.stdout, new RegExp(`task ${running[0]} cancelled`))
    assert.ok(Date.now() - started < 20_000, `cancel took ${Date.now() - started} ms`)
    assert.equal((await taskOn('beta', running[0])).state, 'CANCELLED')
    const peers = JSON.parse((await cli('alpha', ['peers', '--json'])).stdout) as any[]
    assert.ok(await waitFor(async () => {
      const beta = (JSON.parse((await cli('alpha', ['peers', '--json'])).stdout) as any[]).find(peer => peer.name === 'beta')
      return beta?.allocated.cpu === 1
    }, 20_000, 250), `beta's reservation did not come back: ${JSON.stringify(peers.find(peer => peer.name === 'beta')?.allocated)}`)

    const again = await cli('alpha', ['cancel', running[0]])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /had already ended \(CANCELLED\)/)
    const rest = await cli('alpha', ['cancel', running[1], '--json'])
    assert.equal(JSON.parse(rest.stdout).state, 'CANCELLED')
    assert.ok(await waitFor(async () => (await taskContainers([nodeIds[1]])).length === 0, 20_000, 250), 'a cancelled task left its container')
  })

  test('unknown and ambiguous task names are errors that say what to do', async () => {
    const unknown = await cli('alpha', ['status', 'zzzz-nothing'])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /no task on this node has an id starting with "zzzz-nothing": "cloudai tasks" lists them/)
    const ids = [await detach(['true']), await detach(['true'])]
    let common = 0
    while (ids[0][common] === ids[1][common]) common++
    const ambiguous = await cli('alpha', ['logs', ids[0].slice(0, common)])
    assert.equal(ambiguous.code, 2, ambiguous.stderr)
    assert.match(ambiguous.stderr, /matches several tasks/)
    // The message names candidates (at most five: earlier tasks of this file may share the prefix).
    const named = ambiguous.stderr.match(/[a-z0-9]+-[0-9a-f]{12}/g) ?? []
    assert.ok(named.length >= 2 && named.every(id => id.startsWith(ids[0].slice(0, common))), ambiguous.stderr)
  })
})
