import { CloudaiError } from '../errors.ts'
import { isIdFragment } from '../mesh/peer-names.ts'

/** The target names no known peer. */
export class UnknownPeerError extends CloudaiError {
  override readonly code = 'UNKNOWN_PEER'
}
/** The target matches more than one peer. */
export class AmbiguousPeerError extends CloudaiError {
  override readonly code = 'AMBIGUOUS_PEER'
}

export interface PeerCandidate {
  peerId: string
  name: string
  /** Why membership refused the name this peer advertises (it could be taken for another target). */
  nameRefused?: string
}

function describe (peers: PeerCandidate[]): string {
  return peers.map(peer => `  ${peer.name}  ${peer.peerId}${peer.nameRefused != null ? `  (name refused: ${peer.nameRefused})` : ''}`).join('\n')
}

/**
 * Find the peer a user means: `self`, a full peer ID, a unique prefix or suffix of one, or a
 * node name, in that order: names are what peers say about themselves, so none can take a
 * target that an ID decides. A name membership refused picks no one. Errors list the
 * candidates by name and full ID, so the user can pick one.
 */
export function resolvePeer (target: string, self: PeerCandidate, peers: PeerCandidate[]): PeerCandidate {
  const everyone = [self, ...peers.filter(peer => peer.peerId !== self.peerId)]
  if (target === 'self') return self
  const exact = everyone.find(peer => peer.peerId === target)
  if (exact != null) return exact
  const fragments = everyone.filter(peer => isIdFragment(target, peer.peerId))
  if (fragments.length === 1) return fragments[0]
  if (fragments.length > 1) throw new AmbiguousPeerError(`"${target}" matches more than one peer ID; give more characters:\n${describe(fragments)}`)
  const named = everyone.filter(peer => peer.name === target)
  if (named.length === 1 && named[0].nameRefused == null) return named[0]
  if (named.length > 1) throw new AmbiguousPeerError(`more than one peer is named "${target}"; use a peer ID:\n${describe(named)}`)
  if (named.length === 1) throw new AmbiguousPeerError(`"${target}" is a name this node refused; use a peer ID:\n${describe(named)}`)
  const known = peers.length > 0 ? `known peers:\n${describe(peers)}` : 'no peers are known yet (see "cloudai peers")'
  throw new UnknownPeerError(`no peer matches "${target}" (a peer ID, a unique part of one, a name, or "self"); ${known}`)
}

/** Machines that refused this node's handshake, as `explainUnknownPeer` describes them. */
export interface RefusingMachine {
  addrs: string[]
}

/**
 * Add to an UnknownPeerError what the node saw of machines it could not join: the usual
 * reason a peer the user can see is "unknown" is a wrong cluster key.
 */
export function explainUnknownPeer (err: Error, refused: RefusingMachine[]): Error {
  if (!(err instanceof UnknownPeerError) || refused.length === 0) return err
  const where = refused.slice(0, 5).map(peer => peer.addrs.find(addr => !addr.includes('/127.')) ?? peer.addrs[0] ?? 'an unknown address').join(', ')
  return new UnknownPeerError(`${err.message}\n${refused.length} machine(s) on this LAN refused the handshake (${where}${refused.length > 5 ? ', …' : ''}): ` +
    'wrong cluster key? They hold a different cluster key than this node (or none), leave this node out of their policy\'s members, or do not run cloudai; copy swarm.key from a machine of the mesh')
}
