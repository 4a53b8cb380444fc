/**
 * Resource limits of the mesh layer (docs/architecture.md, "Mesh"). Each figure is a named
 * constant with the reason for its size.
 */

/** A LAN cluster has tens of machines, not thousands; this leaves room for transient duplicates. */
export const MAX_CONNECTIONS = 300

/** Connections still in the handshake: bounds the cost of a flood of half-open dials. */
export const MAX_INCOMING_PENDING_CONNECTIONS = 32

/** libp2p's default (5 per second per host); tests that start many nodes on one host raise it. */
export const DEFAULT_INBOUND_CONNECTION_THRESHOLD = 5

/** A handshake (cluster-key proof + noise + yamux) on a LAN takes milliseconds; a stalled one frees its slot after this. */
export const INBOUND_UPGRADE_TIMEOUT_MS = 5_000

/** Dial timeout: a LAN peer that cannot be reached in this time is treated as unreachable. */
export const DIAL_TIMEOUT_MS = 5_000

/** Bytes buffered per stream before the muxer resets it: a protocol frame is at most 1 MiB. */
export const STREAM_MAX_READ_BUFFER_BYTES = 2 * 1024 * 1024

/**
 * Yamux's window per stream, from the start and at most: the most a peer may send on a stream
 * before we acknowledge it. Its default starts at 256 KiB and grows to 16 MiB while a reader
 * keeps up: 256 KiB halved a bulk stream's throughput here (a window per round trip, and on
 * a busy machine a round trip takes milliseconds), and 16 MiB lets a peer overrun a reader
 * that paused (a file transfer waiting on a disk or the engine). Half the read buffer: yamux
 * acknowledges data as it arrives, not as it is read, so what arrived just before a pause can
 * come on top of a whole window. Protocols that stream bulk data also grant their own credit.
 */
export const STREAM_WINDOW_BYTES = STREAM_MAX_READ_BUFFER_BYTES / 2

/** Bytes we queue for a slow reader before resetting its stream (yamux has no limit by default). */
export const STREAM_MAX_WRITE_BUFFER_BYTES = 4 * 1024 * 1024

/**
 * Streams one peer may open to us at once, across all protocols: the node protocol's
 * (32 + 256, see node-protocol.ts), with room for the task streams (4), files (64) and image
 * (8) transfers beside it.
 */
export const MUXER_MAX_INBOUND_STREAMS = 544
