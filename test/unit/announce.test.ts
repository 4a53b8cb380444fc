import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { test } from 'node:test'
import { announceableAddresses } from '../../node/src/mesh/announce.ts'

const strings = (addrs: ReturnType<typeof multiaddr>[]): string[] => addrs.map(addr => addr.toString())

test('a node with a LAN address does not tell peers its loopback addresses', () => {
  const addrs = ['/ip4/127.0.0.1/tcp/7421', '/ip4/10.77.0.3/tcp/7421', '/ip6/::1/tcp/7421'].map(a => multiaddr(a))
  assert.deepEqual(strings(announceableAddresses(addrs)), ['/ip4/10.77.0.3/tcp/7421'])
})

test('a node with only loopback keeps it (one machine, tests)', () => {
  const addrs = ['/ip4/127.0.0.1/tcp/7421', '/ip6/::1/tcp/7421'].map(a => multiaddr(a))
  assert.deepEqual(strings(announceableAddresses(addrs)), ['/ip4/127.0.0.1/tcp/7421', '/ip6/::1/tcp/7421'])
})
