import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { formatBytes, parseCores, parseCount, parseSize } from '../../node/src/units.ts'

test('sizes parse with binary units, and bare numbers use the default unit', () => {
  assert.equal(parseSize('512m'), 512 * 1024 ** 2)
  assert.equal(parseSize('1.5g'), 1.5 * 1024 ** 3)
  assert.equal(parseSize('2GiB'), 2 * 1024 ** 3)
  assert.equal(parseSize('1048576'), 1048576)
  assert.equal(parseSize('1.0', 'g'), 1024 ** 3, 'the original -mem 1.0 means 1 GB')
  assert.equal(parseSize('64k'), 65536)
})

test('bad sizes are refused with a message that shows the accepted form', () => {
  for (const text of ['', 'abc', '-1g', '1x', '1.2.3m', 'g', '1e3m', '9'.repeat(30)]) {
    assert.throws(() => parseSize(text), (err: any) => err.name === 'InvalidValueError' && /512m|unit|too large/.test(err.message), text)
  }
})

test('cores and counts', () => {
  assert.equal(parseCores('0.5'), 0.5)
  assert.equal(parseCount('3', 'GPU count'), 3)
  for (const text of ['', '-1', 'NaN', 'Infinity', 'two']) assert.throws(() => parseCores(text), { name: 'InvalidValueError' }, text)
  for (const text of ['', '1.5', '-1', 'x']) assert.throws(() => parseCount(text, 'GPU count'), { name: 'InvalidValueError' }, text)
})

test('formatBytes is readable', () => {
  assert.equal(formatBytes(512 * 1024 ** 2), '512 MiB')
  assert.equal(formatBytes(1.5 * 1024 ** 3), '1.5 GiB')
  assert.equal(formatBytes(100), '100 B')
})

test('any string either parses to a safe non-negative integer or is refused by name', () => {
  fc.assert(fc.property(fc.string(), text => {
    try {
      const bytes = parseSize(text)
      return Number.isSafeInteger(bytes) && bytes >= 0
    } catch (err: any) {
      return err.name === 'InvalidValueError'
    }
  }))
})
