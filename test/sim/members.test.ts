import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import assert from 'node:assert/strict'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { AUDIT_FILE } from '../../node/src/audit.ts'
import { IDENTITY_FILE, loadOrCreateIdentity } from '../../node/src/mesh/identity.ts'
import type { CloudaiNode } from '../../node/src/node.ts'
import { TaskState } from '../../node/src/protocol/task-messages.ts'
import { parsePolicy } from '../../node/src/worker/policy-file.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'
import { makeClusterKey, simNode, simTaskRequest, taskEvents } from '../helpers/sim.ts'
import { workerOf } from '../helpers/internals.ts'

/**
 * Membership: four nodes hold the same cluster key. A, B and D list A, B and D as
 * the policy's `members`; C holds the key but is listed nowhere. B also accepts tasks only
 * from A (`submitters`). C must get nowhere (no connection, no submission, a clear reason);
 * D is a member that B does not take tasks from.
 */

/** The mesh converges in about a second here; loaded machines are slower. */
const CONVERGENCE_BOUND_MS = 20_000
/** After the members found each other, how long C is watched for (it must never show up). */
const WATCH_MS = 4_000
/** One small task, start to finish. */
const TASK_BOUND_MS = 15_000
const REFRESH_MS = 300

interface AuditLine { time: string, peer: string, action: string, code: string, reason: string, taskId?: string }

let dir: { path: string, remove: () => Promise<void> }
const ids: Record<'A' | 'B' | 'C' | 'D', string> = { A: '', B: '', C: '', D: '' }
const nodes: Partial<Record<'A' | 'B' | 'C' | 'D', CloudaiNode>> = {}
const tag = mdnsTag()

function node (name: 'A' | 'B' | 'C' | 'D'): CloudaiNode {
  const found = nodes[name]
  assert.ok(found != null, `node ${name} did not start`)
  return found
}

/** The peer IDs a node lists, reachable or not. */
function listed (name: 'A' | 'B' | 'C' | 'D'): string[] {
  return node(name).peers().map(peer => peer.peerId)
}

function reachable (name: 'A' | 'B' | 'C' | 'D'): string[] {
  return node(name).peers().filter(peer => peer.reachable).map(peer => peer.peerId)
}

function nameOf (peerId: string): string {
  return Object.entries(ids).find(([, id]) => id === peerId)?.[0] ?? peerId
}

async function auditLines (name: 'A' | 'B' | 'C' | 'D'): Promise<AuditLine[]> {
  const text = await readFile(join(dir.path, name, AUDIT_FILE), 'utf8').catch((err: any) => {
    if (err?.code === 'ENOENT') return ''
    throw err
  })
  return text.split('\n').filter(line => line !== '').map(line => JSON.parse(line) as AuditLine)
}

before(async () => {
  requireTestNamespace()
  dir = await tempDir()
  const key = await makeClusterKey(dir.path)
  // The identities first: the policies name the peer IDs.
  for (const name of ['A', 'B', 'C', 'D'] as const) {
    await mkdir(join(dir.path, name), { recursive: true, mode: 0o700 })
    const { key: privateKey } = await loadOrCreateIdentity(join(dir.path, name, IDENTITY_FILE))
    ids[name] = peerIdFromPrivateKey(privateKey).toString()
  }
  const members = [ids.A, ids.B, ids.D]
  const policies = {
    A: parsePolicy(JSON.stringify({ members })),
    B: parsePolicy(JSON.stringify({ members, submitters: [ids.A] })),
    C: undefined,
    D: parsePolicy(JSON.stringify({ members }))
  }
  for (const name of ['A', 'B', 'C', 'D'] as const) {
    nodes[name] = await simNode(dir.path, name, key, {
      mdnsTag: tag,
      mdnsIntervalMs: 2_000,
      refreshIntervalMs: REFRESH_MS,
      ...(policies[name] != null ? { policy: policies[name] } : {})
    })
    assert.equal(node(name).peerId.toString(), ids[name], `${name} did not use the identity made for it`)
  }
  await Promise.all(Object.values(nodes).map(async n => n.start()))
})

after(async () => {
  await Promise.all(Object.values(nodes).map(async n => n.stop()))
  await dir?.remove()
})

test('members list each other and never the key holder left out of members; it lists none of them', async () => {
  const converged = await waitFor(() =>
    reachable('A').includes(ids.B) && reachable('A').includes(ids.D) &&
    reachable('B').includes(ids.A) && reachable('B').includes(ids.D) &&
    reachable('D').includes(ids.A) && reachable('D').includes(ids.B), CONVERGENCE_BOUND_MS)
  assert.ok(converged, `the members did not find each other: A lists [${listed('A').map(nameOf)}], B lists [${listed('B').map(nameOf)}], D lists [${listed('D').map(nameOf)}]`)

  // mDNS keeps announcing C to everyone, and C keeps trying: watch for a while.
  const seen: string[] = []
  const deadline = Date.now() + WATCH_MS
  while (Date.now() < deadline) {
    for (const name of ['A', 'B', 'D'] as const) {
      if (listed(name).includes(ids.C)) seen.push(`${name} lists C`)
    }
    const cSees = reachable('C').filter(id => id === ids.A || id === ids.B || id === ids.D)
    if (cSees.length > 0) seen.push(`C lists ${cSees.map(nameOf).join(', ')} as reachable`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  assert.deepEqual([...new Set(seen)], [], 'C got into the mesh')
  assert.deepEqual(listed('A').map(nameOf).sort(), ['B', 'D'])
  assert.deepEqual(listed('B').map(nameOf).sort(), ['A', 'D'])
  assert.deepEqual(reachable('C'), [], 'C lists a reachable member')

  // Nor does any member keep a connection to C open.
  for (const name of ['A', 'B', 'D'] as const) {
    const open = node(name).libp2p.getConnections().filter(connection => connection.remotePeer.toString() === ids.C && connection.status === 'open')
    assert.equal(open.length, 0, `${name} holds ${open.length} open connection(s) to C`)
  }
})

test('the left-out key holder cannot connect, and the error says why', async () => {
  const addr = node('A').libp2p.getMultiaddrs()[0]
  assert.ok(addr != null, 'A has no address')
  const started = performance.now()
  const outcome = await node('C').connect(addr.toString()).then(peer => peer, (err: unknown) => err)
  const elapsedMs = performance.now() - started
  assert.ok(outcome instanceof Error, `C connected to A: ${JSON.stringify(outcome)}`)
  assert.ok(elapsedMs < 10_000, `connect took ${Math.round(elapsedMs)} ms to fail`)
  assert.ok(!reachable('C').includes(ids.A), 'C lists A after the failed connect')
  // "not a member of this mesh", not a guess about another program.
  assert.match(outcome.message, /member/i, `C's connect failed with ${outcome.name}: "${outcome.message}", which does not say that A leaves C out of its members`)
})

test('the left-out key holder cannot submit: UnknownPeerError naming the refused handshake', async () => {
  // By now C has been refused by every member several times (mDNS, the connect above).
  const refusedBy = (): string[] => node('C').refused().map(peer => peer.peerId)
  const noticed = await waitFor(() => refusedBy().includes(ids.A), 5_000)
  const err = await node('C').tasks.submit('A', simTaskRequest(['out:should never run', 'exit:0'])).then(() => undefined, (thrown: unknown) => thrown)
  assert.ok(err instanceof Error, 'C submitted a task to A')
  assert.equal(err.name, 'UnknownPeerError', `${err.name}: ${err.message}`)
  assert.match(err.message, /refused the handshake/, `C's refusals: [${refusedBy().map(nameOf)}] (A noticed: ${noticed}); message: ${err.message}`)
  assert.match(err.message, /members/, err.message)
  assert.ok(workerOf(node('A')).active().length === 0 && node('A').status().queued === 0, 'A runs something')
})

test('each member\'s audit log names the left-out key holder with NOT_MEMBER', async () => {
  for (const name of ['A', 'B'] as const) {
    const lines = await auditLines(name)
    const notMember = lines.filter(line => line.code === 'NOT_MEMBER')
    assert.ok(notMember.length > 0, `${name}'s audit log has no NOT_MEMBER line (${lines.length} lines)`)
    assert.ok(notMember.some(line => line.peer === ids.C), `${name}'s NOT_MEMBER lines name [${[...new Set(notMember.map(line => nameOf(line.peer)))]}], not C`)
    assert.deepEqual([...new Set(notMember.map(line => line.peer))], [ids.C], `${name} refused a member`)
    assert.ok(notMember.every(line => line.action === 'connect' && !Number.isNaN(Date.parse(line.time)) && line.reason.length > 0), JSON.stringify(notMember[0]))
  }
})

test('a submitter the worker accepts runs its task; a member outside submitters is REJECTED with POLICY and audited', async () => {
  const fromA = await node('A').tasks.submit('B', simTaskRequest(['out:from A', 'exit:0']))
  const eventsA = await taskEvents(node('A'), fromA.taskId, TASK_BOUND_MS)
  assert.equal(TaskState[eventsA.at(-1)!.state], 'SUCCEEDED', JSON.stringify(eventsA.at(-1)))
  assert.equal(workerOf(node('B')).get(fromA.taskId)?.submitter, ids.A)

  const fromD = await node('D').tasks.submit('B', simTaskRequest(['out:from D', 'exit:0']))
  assert.equal(fromD.peerId, ids.B)
  const eventsD = await taskEvents(node('D'), fromD.taskId, TASK_BOUND_MS)
  const last = eventsD.at(-1)!
  assert.equal(TaskState[last.state], 'REJECTED', JSON.stringify(last))
  assert.equal(last.error?.code, 'POLICY', JSON.stringify(last))
  assert.match(last.error?.message ?? '', new RegExp(ids.D), 'the reason names the submitter')
  assert.ok(!eventsD.some(event => event.log != null), 'a refused task wrote output')
  // Nothing runs, nothing is reserved on B.
  assert.equal(node('B').status().running, 0)
  assert.deepEqual(node('B').status().allocated, { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 })

  const lines = await auditLines('B')
  const refusal = lines.find(line => line.taskId === fromD.taskId)
  assert.ok(refusal != null, `B's audit log has no line for D's task (${lines.length} lines: ${[...new Set(lines.map(line => `${line.action}/${line.code}`))]})`)
  assert.equal(refusal.peer, ids.D)
  assert.equal(refusal.action, 'submit')
  assert.equal(refusal.code, 'POLICY')
  assert.ok(!lines.some(line => line.taskId === fromA.taskId), 'A\'s accepted task is in the audit log')
})
