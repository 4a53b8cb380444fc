import type { Libp2p } from '@libp2p/interface'

/**
 * What the protocols need of libp2p, and no more: a serving side registers a handler, an
 * asking side opens a stream to a peer. A node passes its libp2p; a test may pass peers
 * joined by in-memory streams.
 */
export type StreamRegistrar = Pick<Libp2p, 'handle'>
export type StreamDialer = Pick<Libp2p, 'dialProtocol'>
