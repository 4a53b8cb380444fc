import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type DaemonProcess, initNodes, runCli, startDaemonProcess } from '../helpers/cli.ts'
import { ensureTestImage, IMAGE, removeTaskContainers, taskContainers } from '../helpers/docker.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'

/**
 * `task auto` on the real engine, with three daemons of 2 CPU as separate processes:
 * "alpha", "beta" (the only one labelled zone=x) and "gamma", none with a GPU. What is
 * asserted is what a user sees from the CLI: output, exit codes, and where the tasks ran.
 */

const BOUND_MS = 60_000
/** A placement nobody can take is refused from what the master knows, without waiting on anyone. */
const REFUSAL_BOUND_MS = 10_000
const TASK_ID = /^[a-z0-9]+-[0-9a-f]{12}$/

let dir: { path: string, remove: () => Promise<void> }
const tag = mdnsTag()
const dataDirs = { alpha: '', beta: '', gamma: '' }
const daemons: DaemonProcess[] = []
const nodeIds = { alpha: '', beta: '', gamma: '' }

type Node = 'alpha' | 'beta' | 'gamma'
const NODES: Node[] = ['alpha', 'beta', 'gamma']

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

/** Every daemon lists the others as reachable, with their capacity (what placement filters on). */
async function meshReady (): Promise<boolean> {
  return await waitFor(async () => {
    for (const node of NODES) {
      const peers = await cli(node, ['peers', '--json'])
      if (peers.code !== 0) return false
      const reachable = new Set((JSON.parse(peers.stdout) as any[]).filter(peer => peer.reachable === true).map(peer => peer.name))
      if (NODES.some(other => other !== node && !reachable.has(other))) return false
    }
    return true
  }, 30_000, 250)
}

before(async () => {
  requireTestNamespace()
  await ensureTestImage()
  dir = await tempDir()
  const nodes = await initNodes(dir.path, NODES)
  Object.assign(dataDirs, nodes.dataDirs)
  Object.assign(nodeIds, nodes.peerIds)
  const common = ['--mdns-tag', tag, '--cpu', '2', '--gpus', '0']
  daemons.push(await startDaemonProcess(dataDirs.alpha, ['--name', 'alpha', ...common]))
  daemons.push(await startDaemonProcess(dataDirs.beta, ['--name', 'beta', ...common, '--label', 'zone=x']))
  daemons.push(await startDaemonProcess(dataDirs.gamma, ['--name', 'gamma', ...common]))
  assert.ok(await meshReady(), 'the three daemons never all saw each other')
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
    for (const node of NODES) {
      assert.match(run.stderr, new RegExp(`^\\s*${node} \\(${nodeIds[node]}\\): the task needs 1 GPU, it has 0$`, 'm'), `no line for ${node}:\n${run.stderr}`)
    }
    assert.equal((await tasksOn('alpha')).length, before.length, 'a task that could not be placed is not in the history')
  })

  test('a constraint no peer meets fails the same way, each peer with its own reason', async () => {
    const run = await cli('alpha', ['task', 'auto', IMAGE, '--constraint', 'zone=y', '--', 'true'])
    assert.equal(run.code, 125, run.stderr)
    assert.match(run.stderr, new RegExp(`^\\s*alpha \\(${nodeIds.alpha}\\): it has no label zone \\(needs zone=y\\)$`, 'm'), run.stderr)
    assert.match(run.stderr, new RegExp(`^\\s*beta \\(${nodeIds.beta}\\): its label zone is x, not y$`, 'm'), run.stderr)
    assert.match(run.stderr, new RegExp(`^\\s*gamma \\(${nodeIds.gamma}\\): it has no label zone \\(needs zone=y\\)$`, 'm'), run.stderr)
  })

  test('--explain prints the candidates, their status and the choice, and sends nothing', async () => {
    const before = { alpha: await tasksOn('alpha'), beta: await tasksOn('beta'), gamma: await tasksOn('gamma') }
    const containers = await taskContainers(Object.values(nodeIds))
    const run = await cli('alpha', ['task', 'auto', IMAGE, '--explain', '--', 'true'])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /^Probed 3 candidate\(s\), best first \(spread\):$/m)
    for (const node of NODES) assert.match(run.stdout, new RegExp(`\\b${node}\\b`))
    assert.match(run.stdout, /Fits now/)
    const choice = /^Choice:\n\s+(alpha|beta|gamma) \(\S+\): (.+)$/m.exec(run.stdout)
    assert.ok(choice != null, `no choice line:\n${run.stdout}`)
    // The daemons share one engine: the choice may be one that advertises the image (auto prefers it).
    assert.match(choice[2], /^(?:holds the image already \(no transfer\), least loaded of [1-3] probed that fit now and hold it|least loaded of 3 probed that fit now) \(\d+% after placing\)(?:; none of them holds the image)?; all 3 eligible peers probed$/)
    assert.deepEqual(await tasksOn('alpha'), before.alpha, 'alpha recorded nothing')
    assert.deepEqual(await tasksOn('beta'), before.beta, 'beta received nothing')
    assert.deepEqual(await tasksOn('gamma'), before.gamma, 'gamma received nothing')
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
    assert.deepEqual(placement.excluded.sort((a: any, b: any) => a.name.localeCompare(b.name)), [
      { peerId: nodeIds.alpha, name: 'alpha', reason: 'it has no label zone (needs zone=x)' },
      { peerId: nodeIds.gamma, name: 'gamma', reason: 'it has no label zone (needs zone=x)' }
    ])
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

  test('--count 3 prints 3 task ids, exits 0, and spreads the copies over the three daemons', async () => {
    const run = await cli('alpha', ['task', 'auto', IMAGE, '--count', '3', '--', 'true'])
    assert.equal(run.code, 0, run.stderr)
    const ids = run.stdout.split('\n').filter(line => line !== '')
    assert.equal(ids.length, 3, run.stdout)
    for (const id of ids) assert.match(id, TASK_ID)
    assert.equal(new Set(ids).size, 3)
    const ranOn: Record<Node, string[]> = { alpha: [], beta: [], gamma: [] }
    for (const node of NODES) {
      for (const task of await tasksOn(node)) {
        if (ids.includes(task.taskId) && (task.role === 'executed' || task.role === 'both')) {
          assert.equal(task.state, 'SUCCEEDED', `${task.taskId} on ${node}`)
          ranOn[node].push(task.taskId)
        }
      }
    }
    assert.deepEqual(Object.values(ranOn).flat().sort(), [...ids].sort(), 'each copy ran once, on one of the daemons')
    // Three idle daemons of 2 CPU, three copies of 1 CPU, booked as they are placed: one on each.
    assert.deepEqual(NODES.map(node => ranOn[node].length), [1, 1, 1])
  })

  test('six 1-CPU tasks sent with task auto one after another land 2-2-2, none waiting; then --explain says every peer was probed and why it would queue', async () => {
    // They run on until the end of the file (the after hook removes their containers), so each holds its CPU while the next is placed.
    const ids: string[] = []
    for (let i = 0; i < 6; i++) {
      const run = await cli('alpha', ['task', 'auto', IMAGE, '--cpu', '1', '--detach', '--', 'sleep', '600'])
      assert.equal(run.code, 0, run.stderr)
      const id = run.stdout.trim()
      assert.match(id, TASK_ID, run.stdout)
      ids.push(id)
    }
    const sent = (await tasksOn('alpha')).filter(task => ids.includes(task.taskId))
    const landed = Object.fromEntries(NODES.map(node => [node, sent.filter(task => task.peerName === node).length]))
    assert.deepEqual(landed, { alpha: 2, beta: 2, gamma: 2 }, JSON.stringify(sent.map(task => [task.peerName, task.state])))
    // None waits next to room: each worker admitted its two at once (a queued task would stay QUEUED while the sleeps run).
    const executed = (await Promise.all(NODES.map(tasksOn))).flat().filter(task => ids.includes(task.taskId) && task.role !== 'submitted')
    assert.equal(executed.length, 6)
    for (const task of executed) assert.ok(['PULLING', 'STARTING', 'RUNNING'].includes(task.state), `${task.taskId} is ${task.state}`)

    const explained = await cli('alpha', ['task', 'auto', IMAGE, '--cpu', '1', '--explain', '--', 'true'])
    assert.equal(explained.code, 0, explained.stderr)
    assert.match(explained.stdout, /^Probed 3 candidate\(s\), best first \(spread\):$/m)
    assert.match(explained.stdout, /^Choice:\n\s+(alpha|beta|gamma) \(\S+\): no probed peer has room now; shortest queue of 3 probed \(0 waiting\); all 3 eligible peers probed$/m, explained.stdout)
  })
})
