import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { splitWords } from '../../cli/shell-words.ts'

test('shell lines split as a POSIX shell splits simple commands', () => {
  assert.deepEqual(splitWords(''), [])
  assert.deepEqual(splitWords('   '), [])
  assert.deepEqual(splitWords('task  beta\timg'), ['task', 'beta', 'img'])
  assert.deepEqual(splitWords(`task b img -- sh -c 'echo "hi there"; exit 3'`), ['task', 'b', 'img', '--', 'sh', '-c', 'echo "hi there"; exit 3'])
  assert.deepEqual(splitWords('a "b \\" c" d\\ e \'\' ""'), ['a', 'b " c', 'd e', '', ''])
  assert.deepEqual(splitWords('x"y"\'z\''), ['xyz'])
  assert.deepEqual(splitWords('"a\\nb"'), ['a\\nb'], 'only \\" and \\\\ are escapes inside double quotes')
})

test('an open quote is an error that says what to do', () => {
  for (const line of ['"abc', "it's", 'a "b\\"']) {
    assert.throws(() => splitWords(line), (err: Error) => err.name === 'UnclosedQuoteError' && /close it/.test(err.message), line)
  }
})

test('any line either splits or reports an open quote, and words quoted back split to themselves', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), line => {
    try {
      splitWords(line)
    } catch (err: any) {
      assert.equal(err?.name, 'UnclosedQuoteError')
    }
  }), { numRuns: 2000 })
  fc.assert(fc.property(fc.array(fc.string({ maxLength: 20 }), { maxLength: 10 }), words => {
    const quoted = words.map(word => `'${word.replaceAll("'", "'\\''")}'`).join(' ')
    assert.deepEqual(splitWords(quoted), words)
  }), { numRuns: 1000 })
})
