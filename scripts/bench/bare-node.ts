// A bare libp2p node process (tcp, noise, yamux, identify, mDNS), the baseline for the
// daemon's idle memory. Prints "ready" once listening; runs until SIGTERM.
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { mdns } from '@libp2p/mdns'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  peerDiscovery: [mdns({ serviceTag: process.argv[2] ?? 'bench-bare' })],
  services: { identify: identify() }
})
process.stdout.write('ready\n')
process.on('SIGTERM', () => { void Promise.resolve(node.stop()).then(() => process.exit(0)) })
