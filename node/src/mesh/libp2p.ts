import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { ConnectionGater, Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { createLibp2p } from 'libp2p'
import type { Registry } from 'prom-client'
import { libp2pLogger } from './quiet-logger.ts'
import {
  DEFAULT_INBOUND_CONNECTION_THRESHOLD,
  DIAL_TIMEOUT_MS,
  INBOUND_UPGRADE_TIMEOUT_MS,
  MAX_CONNECTIONS,
  MAX_INCOMING_PENDING_CONNECTIONS,
  MUXER_MAX_INBOUND_STREAMS,
  STREAM_MAX_READ_BUFFER_BYTES,
  STREAM_MAX_WRITE_BUFFER_BYTES,
  STREAM_WINDOW_BYTES
} from './limits.ts'
import { announceableAddresses } from './announce.ts'
import { coalescingTcp } from './coalescing-tcp.ts'
import { noiseCrypto } from './noise-crypto.ts'
import './frame-decoder-no-throw.ts'
import './yamux-window-updates.ts'
import { privateNetwork } from './private-network.ts'

export interface MeshInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on. */
  listen: string[]
  /** The cluster key's bytes; undefined runs an open mesh (`--open`). */
  psk?: Uint8Array
  /** The mDNS service tag; undefined disables mDNS (`--no-mdns`). */
  mdnsTag?: string
  /** How often mDNS queries the LAN, in ms (the library's default is 10 s). */
  mdnsIntervalMs?: number
  /** Quick dials accepted per second from one host; raised by tests that start many nodes on one host. */
  inboundConnectionThreshold?: number
  /**
   * The policy's `members`: when set, a connection to or from any other peer is closed once
   * encryption has shown who it is (the cluster key only says it holds the key).
   */
  isMember?: (peerId: string) => boolean
  /** Called when the gater refuses a peer, for the audit log. */
  onNotMember?: (peerId: string) => void
  /** Collect libp2p's own metrics into this registry (none are collected without it). */
  metrics?: Registry
}

export type Mesh = Libp2p<{ identify: ReturnType<ReturnType<typeof identify>> }>

function membersGater (isMember: (peerId: string) => boolean, onNotMember?: (peerId: string) => void): ConnectionGater {
  const deny = async (peerId: PeerId): Promise<boolean> => {
    if (isMember(peerId.toString())) return false
    onNotMember?.(peerId.toString())
    return true
  }
  return { denyInboundEncryptedConnection: deny, denyOutboundEncryptedConnection: deny }
}

/** Assemble (but do not start) the libp2p node: tcp, the cluster key (a proof per connection, noise's prologue), noise, yamux, identify, mDNS, limits. */
export async function createMesh (init: MeshInit): Promise<Mesh> {
  return createLibp2p({
    privateKey: init.privateKey,
    start: false,
    ...libp2pLogger(),
    addresses: { listen: init.listen, announceFilter: announceableAddresses },
    transports: [coalescingTcp()],
    ...(init.psk != null ? privateNetwork({ psk: init.psk }) : { connectionEncrypters: [noise({ crypto: noiseCrypto })] }),
    streamMuxers: [yamux({
      maxInboundStreams: MUXER_MAX_INBOUND_STREAMS,
      // Streams opened before libp2p has set the connection up are "early"; past yamux's
      // default of 10 the muxer resets them all while the connection still looks open.
      maxEarlyStreams: MUXER_MAX_INBOUND_STREAMS,
      streamOptions: {
        maxReadBufferLength: STREAM_MAX_READ_BUFFER_BYTES,
        maxWriteBufferLength: STREAM_MAX_WRITE_BUFFER_BYTES,
        initialStreamWindowSize: STREAM_WINDOW_BYTES,
        maxStreamWindowSize: STREAM_WINDOW_BYTES
      }
    })],
    peerDiscovery: init.mdnsTag != null
      ? [mdns({ serviceTag: init.mdnsTag, interval: init.mdnsIntervalMs })]
      : [],
    connectionGater: init.isMember != null ? membersGater(init.isMember, init.onNotMember) : undefined,
    connectionManager: {
      maxConnections: MAX_CONNECTIONS,
      maxIncomingPendingConnections: MAX_INCOMING_PENDING_CONNECTIONS,
      inboundConnectionThreshold: init.inboundConnectionThreshold ?? DEFAULT_INBOUND_CONNECTION_THRESHOLD,
      inboundUpgradeTimeout: INBOUND_UPGRADE_TIMEOUT_MS,
      dialTimeout: DIAL_TIMEOUT_MS
    },
    services: {
      // Served, not run on every connection: a member's first status tells its listen
      // addresses, and two identify streams per connection (a signed peer record each way)
      // cost as much CPU as the noise handshake when a mesh forms.
      identify: identify({ runOnConnectionOpen: false })
    },
    // Its own registry, never prom-client's global one, which the module would otherwise
    // clear (and fill) for every node in the process.
    ...(init.metrics != null ? { metrics: (await import('@libp2p/prometheus-metrics')).prometheusMetrics({ registry: init.metrics, preserveExistingMetrics: true, collectDefaultMetrics: false }) } : {})
  })
}
