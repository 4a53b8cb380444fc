import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FairShare } from '../../node/src/protocol/fair-share.ts'
import { equalPieces, IMAGE_CHUNK_BYTES } from '../../node/src/protocol/image-protocol.ts'

/** Turns at a holder's outlet, fair among the transfers ready to send, counted in pieces and bytes (never timed). */

/** A sender that asks for its next turn as soon as its last piece is handed on (`handOn`), for `pieces` pieces. */
async function sender (share: FairShare, name: string, pieces: number, handOn: () => Promise<unknown>, log: string[]): Promise<void> {
  for (let piece = 0; piece < pieces; piece++) {
    await share.acquire(AbortSignal.timeout(10_000))
    log.push(name)
    try {
      await handOn()
    } finally {
      share.release()
    }
  }
}

test('two exports ready at once alternate piece by piece, though one hands its pieces on far faster than the other', async () => {
  const share = new FairShare()
  const log: string[] = []
  // "fast" hands a piece on within the same turn of the event loop (a stream with room);
  // "slow" needs a turn of the event loop each time. Without turns, fast would send all of
  // its pieces while slow sent its first few.
  await Promise.all([
    sender(share, 'fast', 200, async () => await Promise.resolve(), log),
    sender(share, 'slow', 200, async () => await new Promise(resolve => setImmediate(resolve)), log)
  ])
  assert.equal(log.length, 400)
  for (let i = 1; i < log.length; i++) assert.notEqual(log[i], log[i - 1], `turn ${i}: ${log.slice(Math.max(0, i - 5), i + 5).join(' ')}`)
})

test('an export that joins late waits behind one piece of the other, not its whole export', async () => {
  const share = new FairShare()
  const log: string[] = []
  const first = sender(share, 'first', 100, async () => await new Promise(resolve => setImmediate(resolve)), log)
  for (let turn = 0; turn < 20; turn++) await new Promise(resolve => setImmediate(resolve))
  const joinedAt = log.length
  assert.ok(joinedAt > 5 && joinedAt < 100, `${joinedAt} turns before the join`)
  await Promise.all([first, sender(share, 'late', 10, async () => await new Promise(resolve => setImmediate(resolve)), log)])
  const since = log.slice(joinedAt)
  assert.ok(since.indexOf('late') <= 1, since.join(' '))
  assert.deepEqual(since.slice(0, 20).filter(turn => turn === 'late').length, 10, since.join(' '))
})

test('a sender that gives up while waiting leaves the queue; the outlet goes on for the others', async () => {
  const share = new FairShare()
  await share.acquire(AbortSignal.timeout(1000))
  const quitter = new AbortController()
  const waiting = share.acquire(quitter.signal)
  const patient = share.acquire(AbortSignal.timeout(1000))
  quitter.abort(new Error('the asker went away'))
  await assert.rejects(waiting, /the asker went away/)
  share.release()
  await patient
  share.release()
  // Free again: a new sender goes at once.
  await share.acquire(AbortSignal.timeout(1000))
  // A sender whose asker went away before it even asked gets no turn, and holds up no one.
  const gone = new AbortController()
  gone.abort(new Error('gone before asking'))
  await assert.rejects(share.acquire(gone.signal), /gone before asking/)
  share.release()
  await share.acquire(AbortSignal.timeout(1000))
})

test('an export in chunks of any size becomes equal pieces with every byte in order', async () => {
  const bytes = Buffer.alloc(3 * IMAGE_CHUNK_BYTES + 12_345)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff
  for (const chunkBytes of [1000, 64 * 1024, IMAGE_CHUNK_BYTES, IMAGE_CHUNK_BYTES + 1, 2 * IMAGE_CHUNK_BYTES + 17]) {
    const source = (async function * () { for (let at = 0; at < bytes.length; at += chunkBytes) yield bytes.subarray(at, at + chunkBytes) })()
    const pieces: Uint8Array[] = []
    for await (const piece of equalPieces(source)) pieces.push(piece.subarray())
    assert.deepEqual(pieces.map(piece => piece.byteLength), [IMAGE_CHUNK_BYTES, IMAGE_CHUNK_BYTES, IMAGE_CHUNK_BYTES, 12_345], `chunks of ${chunkBytes}`)
    assert.ok(Buffer.concat(pieces).equals(bytes), `chunks of ${chunkBytes}`)
  }
})
