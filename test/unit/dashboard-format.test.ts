import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { outputSetLine, parseDuration, parseSize, shortId, splitWords, transferLine } from '../../dashboard/format.ts'

describe('the dashboard\'s form parsing', () => {
  test('a command line splits into words as a shell would', () => {
    assert.deepEqual(splitWords('sh -c "echo a; printf \'x\\303\\n\'"'), ['sh', '-c', 'echo a; printf \'x\\303\\n\''])
    assert.deepEqual(splitWords('  a   b\tc '), ['a', 'b', 'c'])
    assert.deepEqual(splitWords('"" \'\''), ['', ''])
    assert.deepEqual(splitWords('a\\ b "c\\"d" \'e\\f\''), ['a b', 'c"d', 'e\\f'])
    assert.deepEqual(splitWords(''), [])
  })

  test('unbalanced quotes, a trailing backslash and long input end without throwing', () => {
    assert.deepEqual(splitWords('"open'), ['open'])
    assert.deepEqual(splitWords('a\\'), ['a\\'])
    assert.equal(splitWords('x '.repeat(50_000)).length, 50_000)
  })

  test('sizes and durations as the CLI writes them; anything else is not one', () => {
    assert.equal(parseSize('512m'), 512 * 2 ** 20)
    assert.equal(parseSize('1.5 GiB'), 1.5 * 2 ** 30)
    assert.equal(parseSize('100'), 100)
    for (const bad of ['', 'm', '-1g', '1x', '1e9', '1 g b', '0x10']) assert.equal(parseSize(bad), undefined, bad)
    assert.equal(parseDuration('30s'), 30_000)
    assert.equal(parseDuration('2h'), 7_200_000)
    assert.equal(parseDuration('5'), 5_000)
    for (const bad of ['', 's', '-1s', '1y']) assert.equal(parseDuration(bad), undefined, bad)
  })

  test('ids are shortened as the CLI shortens them', () => {
    assert.equal(shortId('12D3KooWFp7SddjsDfARWt1U179jim7gFEQKUknmWak9nj3d21Zw'), '12D3KooW…3d21Zw')
    assert.equal(shortId('short'), 'short')
  })
})

describe('the dashboard\'s task files', () => {
  test('transfers and kept outputs read as the CLI says them', () => {
    assert.equal(transferLine({ direction: 'inputs', doneBytes: 3 * 1024 * 1024, doneFiles: 12 }), 'inputs into the container: 3.0 MiB, 12 files')
    assert.equal(transferLine({ direction: 'outputs', doneBytes: 0, doneFiles: 1 }), 'outputs kept by the worker: 0 B, 1 file')
    const sha256 = 'ab'.repeat(32)
    assert.equal(outputSetLine({ path: '/out', bytes: 2048, files: 2, sha256, complete: true }), '/out: 2 files, 2.0 KiB, sha256 abababababababab…, complete')
    assert.equal(outputSetLine({ path: '/out', bytes: 10, files: 1, sha256, complete: false, note: 'over the output limit (1 MiB)' }), '/out: 1 file, 10 B, sha256 abababababababab…, incomplete: over the output limit (1 MiB)')
  })
})
