import assert from 'node:assert/strict'
import { test } from 'node:test'
import { colorsWanted, createColors } from '../../cli/colors.ts'

test('colours are codes around the text, and a nested style is opened again after its inner one closes', () => {
  const on = createColors(true)
  assert.equal(on.red('x'), '\x1b[31mx\x1b[39m')
  assert.equal(on.bold('a' + on.dim('b') + 'c'), '\x1b[1ma\x1b[2mb\x1b[22m\x1b[1mc\x1b[22m')
  assert.equal(on.yellow(`warn ${on.green('ok')} end`), '\x1b[33mwarn \x1b[32mok\x1b[39m\x1b[33m end\x1b[39m')
  const off = createColors(false)
  assert.equal(off.red('x'), 'x')
  assert.equal(off.bold(off.cyan('plain')), 'plain')
})

test('colour on a terminal unless NO_COLOR, --no-color or TERM=dumb; FORCE_COLOR, --color and CI force it', () => {
  assert.equal(colorsWanted({}, [], true), true)
  assert.equal(colorsWanted({}, [], false), false)
  assert.equal(colorsWanted({ NO_COLOR: '1' }, [], true), false)
  assert.equal(colorsWanted({ NO_COLOR: '' }, [], true), true)
  assert.equal(colorsWanted({}, ['--no-color'], true), false)
  assert.equal(colorsWanted({ TERM: 'dumb' }, [], true), false)
  assert.equal(colorsWanted({ FORCE_COLOR: '1' }, [], false), true)
  assert.equal(colorsWanted({}, ['--color'], false), true)
  assert.equal(colorsWanted({ CI: 'true' }, [], false), true)
  assert.equal(colorsWanted({ NO_COLOR: '1', FORCE_COLOR: '1' }, [], true), false)
})
