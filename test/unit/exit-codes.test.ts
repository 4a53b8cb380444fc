import assert from 'node:assert/strict'
import { test } from 'node:test'
import { EXIT, taskExitCode } from '../../node/src/error-codes.ts'

test('a task exits with its container\'s code, or the code its error means', () => {
  assert.equal(taskExitCode({ exit: { code: 0 } }), 0)
  assert.equal(taskExitCode({ exit: { code: 3 } }), 3)
  assert.equal(taskExitCode({ error: { code: 'COMMAND_NOT_FOUND' } }), EXIT.NOT_FOUND)
  assert.equal(taskExitCode({ exit: { code: 137 }, error: { code: 'TIMEOUT' } }), 137)
  assert.equal(taskExitCode({ error: { code: 'LOST' } }), EXIT.NOT_RUN)
  assert.equal(taskExitCode(undefined), EXIT.NOT_RUN)
})

test('a task that ended with an error never exits 0, even when its container said 0 (a timeout as it exited, a failed output collection)', () => {
  assert.equal(taskExitCode({ exit: { code: 0 }, error: { code: 'TIMEOUT' } }), EXIT.FAILURE)
  assert.equal(taskExitCode({ exit: { code: 0 }, error: { code: 'SOMETHING_NEWER' } }), EXIT.FAILURE)
})
