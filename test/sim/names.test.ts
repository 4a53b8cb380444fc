import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { writeApiFile } from '../../node/src/api/api-file.ts'
import { startApiServer, type ApiServer } from '../../node/src/api/server.ts'
import { AmbiguousPeerError } from '../../node/src/master/resolve-peer.ts'
import type { CloudaiNode } from '../../node/src/node.ts'
import { TaskState } from '../../node/src/protocol/task-messages.ts'
import { runCli } from '../helpers/cli.ts'
import { requireTestNamespace, waitFor } from '../helpers/env.ts'
import { workerOf } from '../helpers/internals.ts'
import { cluster, simNode, simTaskRequest, stopAll, taskEvents, type Cluster } from '../helpers/sim.ts'

/**
 * Names are not identities. A hostile member names itself after the end of
 * beta's peer ID, which is what `cloudai peers` shows of beta. A task sent by that suffix still
 * reaches beta; the hostile member's name is refused, and `peers` says so.
 */

/** The mesh converges in about a second here; loaded machines are slower. */
const CONVERGENCE_BOUND_MS = 20_000
/** One small task, start to finish. */
const TASK_BOUND_MS = 15_000

let mesh: Cluster
let alpha: CloudaiNode
let beta: CloudaiNode
let hostile: CloudaiNode
let api: ApiServer
/** The end of beta's peer ID, as `cloudai peers` shows it, and the hostile member's name. */
let betaSuffix: string
let betaStopped = false

before(async () => {
  requireTestNamespace()
  mesh = await cluster()
  const options = { mdnsTag: mesh.tag, mdnsIntervalMs: 2_000, refreshIntervalMs: 500 }
  alpha = await simNode(mesh.root, 'alpha', mesh.key, options)
  beta = await simNode(mesh.root, 'beta', mesh.key, options)
  betaSuffix = beta.peerId.toString().slice(-6)
  hostile = await simNode(mesh.root, 'hostile', mesh.key, { ...options, name: betaSuffix })
  await Promise.all([alpha, beta, hostile].map(async node => node.start()))
  api = await startApiServer(alpha, '127.0.0.1:0')
})

after(async () => {
  await api?.close()
  await stopAll([alpha, betaStopped ? undefined : beta, hostile].filter(node => node != null))
  await mesh?.remove()
})

function reachableFromAlpha (): string[] {
  return alpha.peers().filter(peer => peer.reachable).map(peer => peer.peerId)
}

test('a task sent to the end of beta\'s ID reaches beta, not the member that took it as its name', async () => {
  const joined = await waitFor(() => reachableFromAlpha().includes(beta.peerId.toString()) && reachableFromAlpha().includes(hostile.peerId.toString()), CONVERGENCE_BOUND_MS)
  assert.ok(joined, `alpha does not list beta and the hostile member: [${alpha.peers().map(peer => peer.name)}]`)

  const submitted = await alpha.tasks.submit(betaSuffix, simTaskRequest(['out:meant for beta', 'exit:0']))
  const whom = (peerId: string): string => peerId === beta.peerId.toString() ? 'beta' : peerId === hostile.peerId.toString() ? `the hostile member "${betaSuffix}"` : peerId
  assert.equal(submitted.peerId, beta.peerId.toString(), `the task sent to "${betaSuffix}" went to ${whom(submitted.peerId)}`)
  const events = await taskEvents(alpha, submitted.taskId, TASK_BOUND_MS)
  assert.equal(TaskState[events.at(-1)!.state], 'SUCCEEDED', JSON.stringify(events.at(-1)))
  assert.ok(workerOf(beta).get(submitted.taskId) != null, 'beta never ran the task')
  assert.equal(workerOf(hostile).get(submitted.taskId), undefined, 'the hostile member received the task')
})

test('alpha refuses the hostile member\'s name, says why in `peers`, and the name reaches no one', async () => {
  const listed = alpha.peers().find(peer => peer.peerId === hostile.peerId.toString())
  assert.ok(listed != null, 'alpha does not list the hostile member')
  assert.match(listed.nameRefused ?? '', new RegExp(`part of the peer ID of beta \\(${beta.peerId.toString()}\\)`), `nameRefused: ${listed.nameRefused}`)
  assert.equal(alpha.peers().find(peer => peer.peerId === beta.peerId.toString())?.nameRefused, undefined, 'beta\'s own name was refused')

  // What a user sees: `cloudai peers` against alpha's API.
  const client = join(mesh.root, 'client')
  await mkdir(client, { recursive: true, mode: 0o700 })
  await writeApiFile(client, { url: api.url, token: api.token, pid: process.pid })
  const printed = await runCli(['--data-dir', client, 'peers'])
  assert.equal(printed.code, 0, printed.stderr)
  assert.match(printed.stdout, new RegExp(`${betaSuffix} \\(name refused\\)`), printed.stdout)
  assert.ok(printed.stdout.split('\n').some(line => line.includes(betaSuffix) && line.includes(hostile.peerId.toString()) && line.includes(beta.peerId.toString())),
    `peers does not say whose ID the hostile member's name is part of:\n${printed.stdout}`)

  // With beta away, the suffix matches no reachable ID, and the refused name still picks no one.
  await beta.stop()
  betaStopped = true
  const gone = await waitFor(() => !reachableFromAlpha().includes(beta.peerId.toString()), CONVERGENCE_BOUND_MS)
  assert.ok(gone, 'alpha still lists beta as reachable after it stopped')
  const refused = await alpha.tasks.submit(betaSuffix, simTaskRequest(['exit:0'])).then(sent => sent, (thrown: unknown) => thrown)
  assert.ok(refused instanceof AmbiguousPeerError, `with beta away, the task sent to "${betaSuffix}" was ${refused instanceof Error ? `refused with ${refused.name}: ${refused.message}` : `sent to ${JSON.stringify(refused)}`}`)
  assert.ok(refused.message.includes(hostile.peerId.toString()) && refused.message.includes(beta.peerId.toString()), refused.message)
})
