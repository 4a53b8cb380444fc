import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type DaemonProcess, initNodes, runCli, startDaemonProcess } from '../helpers/cli.ts'
import { ensureTestImage, IMAGE, removeTaskContainers, taskContainers } from '../helpers/docker.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'

/**
 * `task auto` on the real engine, with two daemons as separate processes: "alpha"
 * and "beta" (the only one labelled zone=x), neither with a GPU. What is asserted is what a
 * user sees from the CLI: output, exit codes, and where the tasks ran.
 */

const BOUND_MS = 60_000
/** A placement nobody can take is refused from what the master knows, without waiting on anyone. */
const REFUSAL_BOUND_MS = 10_000
const TASK_ID = /^[a-z0-9]+-[0-9a-f]{12}$/

let dir: { path: string, remove: () => Promise<void> }
const tag = mdnsTag()
const dataDirs = { alpha: '', beta: '' }
const daemons: DaemonProcess[] = []
const nodeIds = { alpha: '', beta: '' }

type Node = 'alpha' | 'beta'

async function cli (node: Node, args: string[], timeoutMs = BOUND_MS): Promise<{ code: number | null, stdout: string, stderr: string, ms: number }> {
  const started = Date.now()
  const result = await runCli(['--data-dir', dataDirs[node], ...args], { timeoutMs })
  return { ...result, ms: Date.now() - started }
}

async function tasksOn (node: Node): Promise<any[]> {
  const listed = await cli(node, ['tasks', '--json'])
  assert.equal(listed.code, 0, listed.stderr)
  return JSON.parse(listed.stdout) as any[]
}

/** Both daemons list each other as reachable, with their capacity (what placement filters on). */
async function meshReady (): Promise<boolean> {
  return await waitFor(async () => {
    for (const [node, other] of [['alpha', 'beta'], ['beta', 'alpha']] as const) {
      const peers = await cli(node, ['peers', '--json'])
      if (peers.code !== 0 || !(JSON.parse(peers.stdout) as any[]).some(peer => peer.name === other && peer.reachable === true)) return false
    }
    return true
  }, 30_000, 250)
}

before(async () => {
  requireTestNamespace()
  await ensureTestImage()
  dir = await tempDir()
  const nodes = await initNodes(dir.path, ['alpha', 'beta'] as const)
  Object.assign(dataDirs, nodes.dataDirs)
  Object.assign(nodeIds, nodes.peerIds)
  const common = ['--mdns-tag', tag, '--cpu', '2', '--gpus', '0']
  daemons.push(await startDaemonProcess(dataDirs.alpha, ['--name', 'alpha', ...common]))
  daemons.push(await startDaemonProcess(dataDirs.beta, ['--name', 'beta', ...common, '--label', 'zone=x']))
  assert.ok(await meshReady(), 'alpha and beta never saw each other')
})

after(async () => {
  for (const daemon of daemons) await daemon.stop('SIGKILL')
  await removeTaskContainers(Object.values(nodeIds).filter(id => id !== ''))
  await dir?.remove()
})

describe('task auto', () => {
  test('a GPU task on a mesh without GPUs fails at once: exit 125 and each peer with its reason; nothing is recorded', async t => {
    const before = await tasksOn('alpha')
    const run = await cli('alpha', ['task', 'auto', IMAGE, '--gpus', '1', '--', 'true'])
    assert.equal(run.code, 125, run.stderr)
    assert.ok(run.ms < REFUSAL_BOUND_MS, `took ${run.ms} ms`)
    t.diagnostic(`refused in ${run.ms} ms (the CLI's start included)`)
    assert.equal(run.stdout, '')
    assert.match(run.stderr, /no peer can run this task/)
    for (const node of ['alpha', 'beta'] as const) {
      assert.match(run.stderr, new RegExp(`^\\s*${node} \\(${nodeIds[node]}\\): the task needs 1 GPU, it has 0$`, 'm'), `no line for ${node}:\n${run.stderr}`)
    }
    assert.equal((await tasksOn('alpha')).length, before.length, 'a task that could not be placed is not in the history')
  })

  test('a constraint no peer meets fails the same way, each peer with its own reason', async () => {
    const run = await cli('alpha', ['task', 'auto', IMAGE, '--constraint', 'zone=y', '--', 'true'])
    assert.equal(run.code, 125, run.stderr)
    assert.match(run.stderr, new RegExp(`^\\s*alpha \\(${nodeIds.alpha}\\): it has no label zone \\(needs zone=y\\)$`, 'm'), run.stderr)
    assert.match(run.stderr, new RegExp(`^\\s*beta \\(${nodeIds.beta}\\): its label zone is x, not y$`, 'm'), run.stderr)
  })

  test('--explain prints the candidates, their status and the choice, and sends nothing', async () => {
    const before = { alpha: await tasksOn('alpha'), beta: await tasksOn('beta') }
    const containers = await taskContainers(Object.values(nodeIds))
    const run = await cli('alpha', ['task', 'auto', IMAGE, '--explain', '--', 'true'])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /^Probed 2 candidate\(s\), best first \(spread\):$/m)
    assert.match(run.stdout, /\balpha\b/)
    assert.match(run.stdout, /\bbeta\b/)
    assert.match(run.stdout, /Fits now/)
    const choice = /^Choice:\n\s+(alpha|beta) \(\S+\): (.+)$/m.exec(run.stdout)
    assert.ok(choice != null, `no choice line:\n${run.stdout}`)
    assert.match(choice[2], /^least loaded of 2 probed that fit now \(\d+% after placing\)$/)
    assert.deepEqual(await tasksOn('alpha'), before.alpha, 'alpha recorded nothing')
    assert.deepEqual(await tasksOn('beta'), before.beta, 'beta received nothing')
    assert.deepEqual(await taskContainers(Object.values(nodeIds)), containers, 'no container was created')
  })

  test('--explain --json prints one object with the choices, the probed candidates and those left out', async () => {
    const run = await cli('alpha', ['task', 'auto', IMAGE, '--explain', '--json', '--constraint', 'zone=x', '--', 'true'])
    assert.equal(run.code, 0, run.stderr)
    const placement = JSON.parse(run.stdout)
    assert.deepEqual(Object.keys(placement).sort(), ['choices', 'excluded', 'probed'])
    assert.deepEqual(placement.choices.map((c: any) => [c.name, c.peerId]), [['beta', nodeIds.beta]])
    assert.equal(typeof placement.choices[0].reason, 'string')
    assert.deepEqual(placement.probed.map((p: any) => p.name), ['beta'])
    const beta = placement.probed[0]
    assert.equal(beta.peerId, nodeIds.beta)
    assert.equal(beta.capacity.cpu, 2)
    assert.equal(beta.capacity.gpus, 0)
    assert.deepEqual(beta.labels, { zone: 'x' })
    assert.equal(beta.fitsNow, true)
    assert.equal(typeof beta.score, 'number')
    assert.deepEqual(placement.excluded, [{ peerId: nodeIds.alpha, name: 'alpha', reason: 'it has no label zone (needs zone=x)' }])
  })

  test('--constraint zone=x runs the task on the daemon started with --label zone=x', async () => {
    for (let i = 0; i < 2; i++) {
      const run = await cli('alpha', ['task', 'auto', IMAGE, '--constraint', 'zone=x', '--', 'sh', '-c', 'echo placed'])
      assert.equal(run.code, 0, run.stderr)
      assert.equal(run.stdout, 'placed\n')
      const taskId = /task (\S+) accepted/.exec(run.stderr)?.[1] ?? ''
      assert.match(taskId, TASK_ID, run.stderr)
      const sent = (await tasksOn('alpha')).find(task => task.taskId === taskId)
      assert.equal(sent?.peerName, 'beta', JSON.stringify(sent))
      assert.equal(sent?.state, 'SUCCEEDED')
      const ran = (await tasksOn('beta')).find(task => task.taskId === taskId)
      assert.equal(ran?.role, 'executed', JSON.stringify(ran))
      assert.equal(ran?.state, 'SUCCEEDED')
    }
  })

  test('--count 4 prints 4 task ids, exits 0, and spreads the copies over both daemons', async () => {
    const run = await cli('alpha', ['task', 'auto', IMAGE, '--count', '4', '--', 'true'])
    assert.equal(run.code, 0, run.stderr)
    const ids = run.stdout.split('\n').filter(line => line !== '')
    assert.equal(ids.length, 4, run.stdout)
    for (const id of ids) assert.match(id, TASK_ID)
    assert.equal(new Set(ids).size, 4)
    const ranOn = { alpha: [] as string[], beta: [] as string[] }
    for (const node of ['alpha', 'beta'] as const) {
      for (const task of await tasksOn(node)) {
        if (ids.includes(task.taskId) && (task.role === 'executed' || task.role === 'both')) {
          assert.equal(task.state, 'SUCCEEDED', `${task.taskId} on ${node}`)
          ranOn[node].push(task.taskId)
        }
      }
    }
    assert.deepEqual([...ranOn.alpha, ...ranOn.beta].sort(), [...ids].sort(), 'each copy ran once, on one of the daemons')
    assert.ok(ranOn.alpha.length >= 1 && ranOn.beta.length >= 1, `the copies were not spread: alpha ran ${ranOn.alpha.length}, beta ${ranOn.beta.length}`)
    // Two idle daemons of 2 CPU, four copies of 1 CPU, booked as they are placed: two on each.
    assert.deepEqual([ranOn.alpha.length, ranOn.beta.length], [2, 2])
  })
})
