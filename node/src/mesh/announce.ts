import { isLoopback } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * The addresses a node tells others (mDNS answers, identify, and so peer exchange): without
 * loopback ones when it has any other, because a peer on another machine that dials an
 * advertised 127.0.0.1 reaches itself. A node with only loopback (tests, one machine) keeps them.
 */
export function announceableAddresses (addrs: Multiaddr[]): Multiaddr[] {
  const reachable = addrs.filter(addr => !isLoopback(addr))
  return reachable.length > 0 ? reachable : addrs
}
