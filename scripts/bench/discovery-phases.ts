// Where membership's time goes, per pair of nodes (run by hand, after a build, inside a
// network namespace as scripts/bench.sh makes one: `node_modules/.bin/node
// dist/scripts/bench/discovery-phases.js 10`): for each ordered pair, when the node
// heard of the other (mDNS or a hint), started its first dial or stream to it, had a connection
// open, listed it as a reachable member of its own, and first showed it in `peers` (sooner
// when another member's hint told of it); and how many connections opened in all.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CloudaiNode } from '../../node/src/node.ts'
import { fullyConnected, makeClusterKey, simNode } from '../../test/helpers/sim.ts'

interface PairTimes { heard?: number, dial?: number, open?: number, listed?: number, shown?: number }

function quantiles (values: number[]): string {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (sorted.length === 0) return 'n/a'
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  return `p50 ${at(0.5).toFixed(0)} p90 ${at(0.9).toFixed(0)} max ${sorted[sorted.length - 1].toFixed(0)} (n=${sorted.length})`
}

const count = Number(process.argv[2] ?? 10)
const root = await mkdtemp(join(tmpdir(), 'cloudai-phases-'))
const nodes: CloudaiNode[] = []
const tag = `phases-${randomBytes(4).toString('hex')}`
const pairs = new Map<string, PairTimes>()
let opened = 0
let closed = 0
let started = 0
const pair = (a: string, b: string): PairTimes => {
  const key = `${a}>${b}`
  let times = pairs.get(key)
  if (times == null) pairs.set(key, times = {})
  return times
}
try {
  const key = await makeClusterKey(root)
  for (let i = 0; i < count; i++) nodes.push(await simNode(root, `node-${i}`, key, { mdnsTag: tag }))
  for (const node of nodes) {
    const self = node.peerId.toString()
    const libp2p = node.libp2p as any
    libp2p.addEventListener('peer:discovery', (evt: any) => { pair(self, evt.detail.id.toString()).heard ??= performance.now() - started })
    libp2p.addEventListener('connection:open', (evt: any) => {
      opened++
      pair(self, evt.detail.remotePeer.toString()).open ??= performance.now() - started
    })
    libp2p.addEventListener('connection:close', () => { closed++ })
    for (const method of ['dial', 'dialProtocol']) {
      const original = libp2p[method].bind(libp2p)
      libp2p[method] = async (peer: any, ...rest: unknown[]) => {
        const remote = typeof peer?.toString === 'function' && peer.getComponents == null ? peer.toString() : peer.getComponents?.().find((c: any) => c.name === 'p2p')?.value
        if (remote != null) pair(self, remote).dial ??= performance.now() - started
        return await original(peer, ...rest)
      }
    }
  }
  started = performance.now()
  await Promise.all(nodes.map(async node => node.start()))
  const startedAll = performance.now() - started
  let checkMs = 0
  let checks = 0
  for (;;) {
    const now = performance.now() - started
    for (const node of nodes) {
      for (const member of (node as any).membership.list()) {
        if (member.reachable) pair(node.peerId.toString(), member.peerId.toString()).listed ??= now
      }
      for (const peer of node.peers()) if (peer.reachable) pair(node.peerId.toString(), peer.peerId).shown ??= now
    }
    const t = performance.now()
    const done = fullyConnected(nodes)
    checkMs += performance.now() - t
    checks++
    if (done || now > 120_000) break
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  const total = performance.now() - started
  const times = [...pairs.values()]
  const gap = (from: keyof PairTimes, to: keyof PairTimes): number[] => times.map(t => (t[to] ?? NaN) - (t[from] ?? NaN))
  console.log(`${count} nodes: all list all at ${total.toFixed(0)} ms (start() done at ${startedAll.toFixed(0)} ms); connections opened ${opened} (ends: 2 per connection; ideal ${count * (count - 1)}), closed ${closed}; fullyConnected: ${checks} checks, ${(checkMs / checks).toFixed(2)} ms each`)
  console.log(`heard        ${quantiles(times.map(t => t.heard ?? NaN))}`)
  console.log(`heard→dial   ${quantiles(gap('heard', 'dial'))}`)
  console.log(`heard→open   ${quantiles(gap('heard', 'open'))}`)
  console.log(`dial→open    ${quantiles(gap('dial', 'open'))}`)
  console.log(`open→listed  ${quantiles(gap('open', 'listed'))}`)
  console.log(`listed       ${quantiles(times.map(t => t.listed ?? NaN))}`)
  console.log(`shown        ${quantiles(times.map(t => t.shown ?? NaN))}`)
  console.log(`never heard (listed anyway): ${times.filter(t => t.heard == null && t.listed != null).length}; dialed ${times.filter(t => t.dial != null).length} of ${times.length} ordered pairs`)
} finally {
  await Promise.all(nodes.map(async node => node.stop()))
  await rm(root, { recursive: true, force: true })
}
process.exit(0)
