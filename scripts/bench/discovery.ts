import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CloudaiNode } from '../../node/src/node.ts'
import { fullyConnected, makeClusterKey, simNode } from '../../test/helpers/sim.ts'
import type { BenchRow } from './report.ts'

/** A run that has not converged by then is reported as not converged. */
const CONVERGENCE_LIMIT_MS = 120_000

async function until (check: () => boolean, limitMs: number): Promise<number> {
  const started = performance.now()
  while (!check()) {
    if (performance.now() - started > limitMs) return Number.POSITIVE_INFINITY
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return performance.now() - started
}

/** Bare libp2p nodes with only mDNS: the time until each has discovered all others. */
async function bareMdns (count: number, tag: string): Promise<number> {
  const nodes: Libp2p[] = []
  const seen = new Map<Libp2p, Set<string>>()
  for (let i = 0; i < count; i++) {
    const node = await createLibp2p({
      start: false,
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery: [mdns({ serviceTag: tag })]
    })
    const set = new Set<string>()
    node.addEventListener('peer:discovery', evt => { set.add(evt.detail.id.toString()) })
    seen.set(node, set)
    nodes.push(node)
  }
  try {
    const started = performance.now()
    await Promise.all(nodes.map(async node => node.start()))
    const waited = await until(() => nodes.every(node => seen.get(node)!.size >= count - 1), CONVERGENCE_LIMIT_MS)
    // Past the limit: Infinity (shown as n/a), not the limit passed off as a time.
    return Number.isFinite(waited) ? performance.now() - started : waited
  } finally {
    await Promise.all(nodes.map(async node => node.stop()))
  }
}

/** cloudai nodes: the time until every node lists every other as a member with its status. */
async function cloudaiMesh (count: number, tag: string): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), 'cloudai-bench-'))
  const nodes: CloudaiNode[] = []
  try {
    const key = await makeClusterKey(root)
    for (let i = 0; i < count; i++) nodes.push(await simNode(root, `node-${i}`, key, { mdnsTag: tag }))
    const started = performance.now()
    await Promise.all(nodes.map(async node => node.start()))
    const waited = await until(() => fullyConnected(nodes), CONVERGENCE_LIMIT_MS)
    return Number.isFinite(waited) ? performance.now() - started : waited
  } finally {
    await Promise.all(nodes.map(async node => node.stop()))
    await rm(root, { recursive: true, force: true })
  }
}

export async function discoveryBench (counts: number[]): Promise<BenchRow[]> {
  const rows: BenchRow[] = []
  for (const count of counts) {
    const bare = await bareMdns(count, `bench-${randomBytes(4).toString('hex')}`)
    const ours = await cloudaiMesh(count, `bench-${randomBytes(4).toString('hex')}`)
    rows.push({
      name: `discovery, ${count} nodes in one process`,
      value: ours,
      unit: 'ms',
      baseline: 'bare libp2p + mDNS',
      baselineValue: bare,
      note: 'cloudai: every node lists all others with status; baseline: discovery events only'
    })
  }
  return rows
}
