import { peerIdFromString } from '@libp2p/peer-id'

/**
 * Names are what peers say about themselves: any member may advertise any name, so a name is
 * never an identity. A name that could be taken for another target is refused: the peer stays
 * reachable by its peer ID (or a unique part of it), never by that name.
 */

/** A prefix or suffix of a peer ID shorter than this matches too much by chance to be meant. */
export const MIN_ID_FRAGMENT = 4

/** Targets that mean something other than a peer name (`cloudai task <target>`). */
const TARGET_WORDS = new Set(['self', 'auto'])
/** No peer ID is written shorter (a SHA-256 multihash in base58, "Qm…", is 46): shorter names need no parsing. */
const SHORTEST_PEER_ID = 46

export interface NamedPeer {
  peerId: string
  name: string
}

/** Whether `text` is a prefix or suffix of `peerId` long enough to pick it out. */
export function isIdFragment (text: string, peerId: string): boolean {
  return text.length >= MIN_ID_FRAGMENT && (peerId.startsWith(text) || peerId.endsWith(text))
}

function isPeerId (text: string): boolean {
  if (text.length < SHORTEST_PEER_ID) return false
  try {
    peerIdFromString(text)
    return true
  } catch {
    return false
  }
}

function whyRefused (member: NamedPeer, self: NamedPeer, everyone: NamedPeer[], holders: Map<string, string[]>): string | undefined {
  const { name } = member
  if (TARGET_WORDS.has(name)) return `"${name}" is a target word`
  // A full peer ID of a peer not (yet) known would otherwise fall through to names.
  if (isPeerId(name)) return 'it is a peer ID'
  const owner = everyone.find(peer => peer.peerId !== member.peerId && isIdFragment(name, peer.peerId))
  if (owner != null) return `it is part of the peer ID of ${owner.name} (${owner.peerId})`
  if (name === self.name) return `it is the name of this node (${self.peerId})`
  const twins = (holders.get(name) ?? []).filter(peerId => peerId !== member.peerId)
  if (twins.length === 1) return `${twins[0]} advertises it too`
  if (twins.length > 1) return `${twins[0]} and ${twins.length - 1} more advertise it too`
  return undefined
}

/**
 * The members whose advertised name is refused, each with the reason: a target word, a peer
 * ID, part of another peer's ID (this node's included), this node's name, or a name another
 * member advertises too (refused for both: whichever came first is no more genuine). This
 * node keeps its own name.
 */
export function nameRefusals (self: NamedPeer, members: NamedPeer[]): Map<string, string> {
  const everyone = [self, ...members]
  const holders = new Map<string, string[]>()
  for (const member of members) holders.set(member.name, [...(holders.get(member.name) ?? []), member.peerId])
  const refusals = new Map<string, string>()
  for (const member of members) {
    const reason = whyRefused(member, self, everyone, holders)
    if (reason != null) refusals.set(member.peerId, reason)
  }
  return refusals
}
