import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import { extract as tarExtract, pack as tarPack } from 'tar-stream'
import { encodeHeader, rewriteTar, TarFormatError, type TarRewriter } from '../../node/src/images/tar-rewrite.ts'

/**
 * The archive rewriting both sides of an image transfer use: what passes, what is left
 * out or replaced, and every way a hostile archive can be malformed (cut short, corrupt,
 * oversized, endless, data after its end).
 */

async function packed (entries: Array<{ name: string, body?: Buffer, type?: 'file' | 'directory' | 'symlink', linkname?: string }>): Promise<Buffer> {
  const pack = tarPack()
  for (const entry of entries) {
    if (entry.type === 'directory' || entry.type === 'symlink') pack.entry({ name: entry.name, type: entry.type, linkname: entry.linkname })
    else pack.entry({ name: entry.name, size: entry.body!.byteLength }, entry.body!)
  }
  pack.finalize()
  const parts: Buffer[] = []
  for await (const chunk of pack) parts.push(chunk as Buffer)
  return Buffer.concat(parts)
}

async function * chunksOf (bytes: Buffer, size = 1000): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size)
}

async function collect (output: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = []
  for await (const part of output) parts.push(part)
  return parts
}

/** The entries of an archive as tar-stream reads it: what an engine's reader sees. */
async function entriesOf (archive: Buffer): Promise<Array<{ name: string, type: string, body: Buffer }>> {
  const extract = tarExtract()
  const entries: Array<{ name: string, type: string, body: Buffer }> = []
  const reading = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = []
      for await (const chunk of entry) parts.push(chunk as Buffer)
      entries.push({ name: entry.header.name, type: entry.header.type ?? 'file', body: Buffer.concat(parts) })
    }
  })()
  extract.end(archive)
  await reading
  return entries
}

const passAll: TarRewriter = { plan: () => 'pass' }

/** A ustar header by hand, with any field set (the checksum computed unless given). */
function header (fields: { name: string, size: number, type?: string, magic?: string, checksum?: string, prefix?: string }): Buffer {
  const block = Buffer.alloc(512)
  block.write(fields.name, 0, 100, 'latin1')
  block.write('0000644\0', 100, 8, 'latin1')
  block.write(`${fields.size.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1')
  block.write('00000000000\0', 136, 12, 'latin1')
  block.write(fields.type ?? '0', 156, 1, 'latin1')
  block.write(fields.magic ?? 'ustar\u000000', 257, 8, 'latin1')
  if (fields.prefix != null) block.write(fields.prefix, 345, 155, 'latin1')
  block.write('        ', 148, 8, 'latin1')
  let sum = 0
  for (const byte of block) sum += byte
  block.write(fields.checksum ?? `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1')
  return block
}

function padded (body: Buffer): Buffer {
  return Buffer.concat([body, Buffer.alloc((512 - body.byteLength % 512) % 512)])
}

const END = Buffer.alloc(1024)

describe('tar rewriting: an honest archive', () => {
  test('every entry passes under a header of our own, the bodies as views of the chunks they came in', async () => {
    const body = randomBytes(70_000)
    const archive = await packed([{ name: 'dir/', type: 'directory' }, { name: 'dir/a', body }, { name: 'b', body: Buffer.from('hello') }])
    const input = Buffer.from(archive)
    const parts = await collect(rewriteTar(chunksOf(input, 4096), passAll))
    const output = Buffer.concat(parts)
    assert.deepEqual((await entriesOf(output)).map(entry => [entry.name, entry.type, entry.body.toString('hex')]), [
      ['dir/', 'directory', ''], ['dir/a', 'file', body.toString('hex')], ['b', 'file', Buffer.from('hello').toString('hex')]
    ])
    // Not copied: the body's bytes are views of the input.
    assert.ok(parts.some(part => part.buffer === input.buffer && part.byteLength > 1000), 'the body passed as views of the input')
  })

  test('an entry left out, one replaced, one digested; finish runs at the end', async () => {
    const layer = randomBytes(5000)
    const archive = await packed([{ name: 'drop-me', body: Buffer.from('x'.repeat(3000)) }, { name: 'manifest.json', body: Buffer.from('[1]') }, { name: 'layer.tar', body: layer }])
    const digests: string[] = []
    let finished = false
    const output = Buffer.concat(await collect(rewriteTar(chunksOf(archive, 777), {
      plan: h => h.name === 'drop-me' ? 'drop' : h.name === 'manifest.json' ? { read: 100 } : 'digest',
      rewrite: (_h, body) => Buffer.from(`${body.toString()}+rewritten`),
      passed: (_h, sha256) => { digests.push(sha256) },
      finish: () => { finished = true }
    })))
    assert.deepEqual((await entriesOf(output)).map(entry => [entry.name, entry.body.toString('latin1')]), [['manifest.json', '[1]+rewritten'], ['layer.tar', layer.toString('latin1')]])
    assert.deepEqual(digests, [createHash('sha256').update(layer).digest('hex')])
    assert.equal(finished, true)
  })

  test('a pax path and size and a GNU long name apply to the entry after them; a header of our own has neither', async () => {
    const long = `${'d'.repeat(120)}/file`
    const record = (key: string, value: string): string => {
      const line = ` ${key}=${value}\n`
      let length = line.length + 1
      while (`${length}${line}`.length !== length) length++
      return `${length}${line}`
    }
    const pax = Buffer.from(record('path', long) + record('size', '5'))
    const archive = Buffer.concat([
      header({ name: 'PaxHeader', size: pax.byteLength, type: 'x' }), padded(pax),
      header({ name: 'short', size: 999 }), padded(Buffer.from('12345')),
      header({ name: '././@LongLink', size: 9, type: 'L', magic: 'ustar  \u0000' }), padded(Buffer.from('gnu/named')),
      header({ name: 'x', size: 2, magic: 'ustar  \u0000' }), padded(Buffer.from('ok')),
      END
    ])
    const output = Buffer.concat(await collect(rewriteTar(chunksOf(archive), passAll)))
    assert.deepEqual((await entriesOf(output)).map(entry => [entry.name, entry.body.toString()]), [[long, '12345'], ['gnu/named', 'ok']])
  })

  test('sizes of 8 GiB and more are written in base-256, which Go\'s and tar-stream\'s readers take', () => {
    const block = encodeHeader({ name: 'big', type: 'file', size: 0, mode: 0o644, mtime: 0, linkname: '' }, 9 * 2 ** 30)
    assert.equal(block[124], 0x80)
    assert.equal(block.readUIntBE(130, 6), 9 * 2 ** 30)
  })
})

describe('tar rewriting: hostile archives fail, never end as if complete', () => {
  const rejects = async (archive: Buffer | AsyncIterable<Uint8Array>, pattern: RegExp, rewriter: TarRewriter = passAll): Promise<void> => {
    await assert.rejects(collect(rewriteTar(Buffer.isBuffer(archive) ? chunksOf(archive) : archive, rewriter)), (err: Error) => {
      assert.ok(err instanceof TarFormatError, `${err.name}: ${err.message}`)
      assert.match(err.message, pattern)
      return true
    })
  }

  test('cut short: inside a header, inside a body, before the end mark', async () => {
    const archive = await packed([{ name: 'a', body: randomBytes(3000) }])
    await rejects(archive.subarray(0, 300), /cut short/)
    await rejects(archive.subarray(0, 2000), /cut short/)
    await rejects(archive.subarray(0, 512 + 3072), /cut short/)
  })

  test('a corrupt header: a wrong checksum, an unknown format, a size that is not a number', async () => {
    await rejects(Buffer.concat([header({ name: 'a', size: 0, checksum: '0000001\0' }), END]), /checksum/)
    await rejects(Buffer.concat([header({ name: 'a', size: 0, magic: 'notatar\0' }), END]), /unknown format/)
    const bad = header({ name: 'a', size: 0 })
    bad.write('9x9', 124, 3, 'latin1')
    let sum = 0
    bad.write('        ', 148, 8, 'latin1')
    for (const byte of bad) sum += byte
    bad.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1')
    await rejects(Buffer.concat([bad, END]), /size field is not a number/)
  })

  test('data hidden after the end mark', async () => {
    const archive = await packed([{ name: 'a', body: Buffer.from('x') }])
    await rejects(Buffer.concat([archive, header({ name: 'hidden', size: 0 })]), /after its end mark/)
    // Zeros after it are only padding.
    assert.ok((await collect(rewriteTar(chunksOf(Buffer.concat([archive, Buffer.alloc(10_240)])), passAll))).length > 0)
  })

  test('an entry to read whole that is larger than its plan fails at its header, before its body is read', async () => {
    let produced = 0
    const endless = (async function * () {
      yield header({ name: 'manifest.json', size: 2 ** 32 })
      while (true) { produced += 65536; yield Buffer.alloc(65536) }
    })()
    await rejects(endless, /larger than 1024 bytes/, { plan: () => ({ read: 1024 }) })
    assert.equal(produced, 0)
  })

  test('an oversized pax record, and a malformed one', async () => {
    const big = Buffer.alloc(70_000, 0x41)
    await rejects(Buffer.concat([header({ name: 'p', size: big.byteLength, type: 'x' }), padded(big), END]), /larger than 65536/)
    const bad = Buffer.from('99 path=x\n')
    await rejects(Buffer.concat([header({ name: 'p', size: bad.byteLength, type: 'x' }), padded(bad), header({ name: 'a', size: 0 }), END]), /pax record/)
  })

  test('an endless entry that passes is read only as fast as the output is; stopping the output stops the source', async () => {
    let produced = 0
    let stopped = false
    const source = (async function * () {
      try {
        yield header({ name: 'layer.tar', size: 2 ** 40 })
        while (true) { produced++; yield Buffer.alloc(65536) }
      } finally {
        stopped = true
      }
    })()
    const output = rewriteTar(source, passAll)
    let taken = 0
    for await (const part of output) {
      if (part.byteLength === 65536) taken++
      if (taken === 10) break
    }
    assert.ok(produced <= 11, `${produced} chunks produced for 10 taken`)
    assert.equal(stopped, true)
  })
})
