import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { sharedDeadline } from '../../node/src/protocol/shared-deadline.ts'

test('deadlines of one duration asked for together share one signal; another duration gets its own', () => {
  const first = sharedDeadline(60_000)
  assert.equal(sharedDeadline(60_000), first)
  assert.notEqual(sharedDeadline(30_000), first)
  assert.equal(first.aborted, false)
})

test('a shared deadline aborts as a timeout, not before its duration has passed', async () => {
  const asked = Date.now()
  const signal = sharedDeadline(40)
  await once(signal, 'abort')
  // Timers count from the event loop's clock, read at the start of its turn: a few ms of slack.
  assert.ok(Date.now() - asked >= 35, `aborted after ${Date.now() - asked} ms`)
  assert.equal((signal.reason as Error).name, 'TimeoutError')
  // Once it has aborted, the next caller gets a deadline of its own.
  const next = sharedDeadline(40)
  assert.notEqual(next, signal)
  assert.equal(next.aborted, false)
})
