/** The mesh: this node and every member it knows, with health, load and resources. */
import type { Page } from './app.ts'
import { getJson, type MeshView } from './api.ts'
import { resourceBar } from './bars.ts'
import { el, replace } from './dom.ts'
import { ago, formatBytes, formatCores, shortId } from './format.ts'

type Member = MeshView['peers'][number] | (MeshView['self'] & { self: true })

function health (member: Member): { text: string, kind: 'ok' | 'bad' | 'warn', card: string } {
  if ('reachable' in member && !member.reachable) return { text: `unreachable${member.unreachableSince != null ? ` since ${ago(member.unreachableSince)}` : ''}`, kind: 'bad', card: 'unreachable' }
  if (!member.executorHealthy) return { text: 'engine down', kind: 'warn', card: 'engine-down' }
  return { text: 'healthy', kind: 'ok', card: '' }
}

/** A member this node has not reached itself yet has no latency of its own: say who told of it. */
function latency (peer: MeshView['peers'][number]): string {
  return peer.via != null ? `not measured yet (known via ${shortId(peer.via)})` : `${peer.latencyMs} ms`
}

function memberCard (member: Member): HTMLElement {
  const state = health(member)
  const isSelf = 'self' in member
  const labels = Object.entries(member.labels)
  return el('article', { class: `card ${state.card}`, 'data-peer': member.peerId, 'data-name': member.name, 'aria-label': `${member.name}${isSelf ? ' (this node)' : ''}: ${state.text}` },
    el('h2', {}, el('span', {}, member.name, isSelf ? el('span', { class: 'muted' }, ' (this node)') : null), el('span', { class: `badge ${state.kind}` }, state.text)),
    el('dl', { class: 'facts' },
      el('dt', {}, 'ID'), el('dd', { class: 'mono', title: member.peerId }, shortId(member.peerId)),
      el('dt', {}, 'Last seen'), el('dd', {}, isSelf ? 'now' : ago((member as MeshView['peers'][number]).lastSeen)),
      el('dt', {}, 'Latency'), el('dd', {}, isSelf ? '—' : latency(member as MeshView['peers'][number])),
      el('dt', {}, 'Tasks'), el('dd', {}, `${member.running} running, ${member.queued} queued`),
      !member.executorHealthy ? el('dt', {}, 'Engine') : null,
      !member.executorHealthy ? el('dd', { class: 'error' }, member.executorDetail) : null,
      el('dt', {}, 'Labels'), el('dd', {}, labels.length > 0 ? el('span', { class: 'chips' }, ...labels.map(([k, v]) => el('span', { class: 'chip' }, `${k}=${v}`))) : el('span', { class: 'muted' }, 'none'))),
    resourceBar('CPU', member.allocated.cpu, member.capacity.cpu, n => `${formatCores(n)} cores`),
    resourceBar('Memory', member.allocated.memoryBytes, member.capacity.memoryBytes, formatBytes),
    resourceBar('Storage', member.allocated.storageBytes, member.capacity.storageBytes, formatBytes),
    resourceBar('GPU', member.allocated.gpus, member.capacity.gpus, n => String(n)))
}

export const renderMesh: Page = ({ main, live }) => {
  const summary = el('p', { class: 'muted' }, 'Loading…')
  const cards = el('div', { class: 'cards', id: 'members' })
  replace(main, el('h1', {}, 'Mesh'), summary, cards)
  const draw = (view: MeshView): void => {
    // Trouble first: unreachable, then engine down, then the rest by name.
    const rank = (m: Member): number => ('reachable' in m && !m.reachable) ? 0 : (!m.executorHealthy ? 1 : 2)
    const peers = [...view.peers].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name))
    const down = view.peers.filter(p => !p.reachable).length
    summary.textContent = `${view.peers.length + 1} members (this node and ${view.peers.length} peer${view.peers.length === 1 ? '' : 's'})${down > 0 ? `, ${down} unreachable` : ''}.`
    replace(cards, memberCard({ ...view.self, self: true }), ...peers.map(memberCard))
  }
  if (live.lastMesh != null) draw(live.lastMesh)
  getJson<MeshView>('/v1/dashboard/mesh').then(draw, (err: Error) => { summary.textContent = err.message; summary.className = 'error' })
  return live.on('mesh', data => { draw(data as MeshView) })
}
