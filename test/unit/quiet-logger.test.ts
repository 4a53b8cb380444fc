import assert from 'node:assert/strict'
import { test } from 'node:test'
import { libp2pLogger } from '../../node/src/mesh/quiet-logger.ts'

test('libp2p logs nothing (and makes no debug loggers per stream) unless DEBUG asks; then libp2p keeps its own', () => {
  for (const unset of [undefined, '', '  ']) {
    const { logger } = libp2pLogger(unset)
    assert.ok(logger != null, `DEBUG=${String(unset)}`)
    const log = logger.forComponent('libp2p:yamux')
    assert.equal(log.enabled, false)
    assert.equal(log.newScope('stream-1'), log, 'a scope is the same silent logger: nothing made per stream')
    assert.equal(log('a %s', 'message'), undefined)
    assert.equal(log.error('an error'), undefined)
    assert.equal(log.trace('a trace'), undefined)
  }
  assert.deepEqual(libp2pLogger('libp2p:*'), {}, 'DEBUG set: libp2p\'s debug loggers')
})
