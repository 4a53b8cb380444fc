import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, test } from 'node:test'
import { NoOutputsError, NotSubmitterError } from '../../node/src/errors.ts'
import { fetchInputsFromPeer, fetchOutputsFromPeer, registerFilesProtocol } from '../../node/src/protocol/files-protocol.ts'
import { startBareMesh, type TestMesh } from '../helpers/libp2p-pair.ts'

/**
 * The files protocol between two real libp2p nodes (TCP, Noise, Yamux on loopback): an
 * archive far larger than every buffer on the way arrives byte for byte at a reader that
 * stops and starts (flow control, not buffering), and each side serves only whom it may.
 */

const MiB = 1024 ** 2
const SIZE = 24 * MiB
let server: TestMesh
let client: TestMesh

function pattern (size: number): Readable {
  let sent = 0
  return new Readable({
    read () {
      if (sent >= size) { this.push(null); return }
      const chunk = Buffer.alloc(Math.min(64 * 1024, size - sent), sent % 251)
      sent += chunk.length
      this.push(chunk)
    }
  })
}


before(async () => {
  server = await startBareMesh()
  client = await startBareMesh()
  const clientId = client.libp2p.peerId.toString()
  await registerFilesProtocol(server.libp2p, {
    inputs: async (requester, taskId) => {
      if (requester !== clientId || taskId !== 'task-1') throw new NotSubmitterError(`the inputs of ${taskId} go only to its worker`)
      return pattern(SIZE)
    },
    outputs: async (_requester, taskId) => { throw new NoOutputsError(`no outputs of ${taskId} are kept`) }
  })
  await client.libp2p.dial(server.addr)
})

after(async () => {
  await client?.close()
  await server?.close()
})

test('a large archive crosses to a reader that pauses, byte for byte, in bounded memory', async () => {
  const expected = createHash('sha256')
  for await (const chunk of pattern(SIZE)) expected.update(chunk)
  const got = createHash('sha256')
  let bytes = 0
  let pauses = 0
  for await (const chunk of await fetchInputsFromPeer(client.libp2p, server.libp2p.peerId, 'task-1', 1)) {
    got.update(chunk)
    bytes += chunk.byteLength
    // A slow disk or engine on the reader's side: the sender must wait, not have the stream reset.
    if (bytes > (pauses + 1) * 8 * MiB && pauses < 2) { pauses++; await sleep(200) }
  }
  assert.equal(bytes, SIZE)
  assert.equal(got.digest('hex'), expected.digest('hex'))
})

test('refusals arrive as the asker\'s own errors', async () => {
  await assert.rejects(fetchInputsFromPeer(client.libp2p, server.libp2p.peerId, 'task-2', 1), NotSubmitterError)
  await assert.rejects(fetchOutputsFromPeer(client.libp2p, server.libp2p.peerId, 'task-1'), NoOutputsError)
})
