import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import * as tar from 'tar-stream'
import { ArchiveRefusedError } from '../../node/src/errors.ts'
import { ChecksumMismatchError, extractArchive } from '../../node/src/files/archive-extract.ts'
import { packTrees } from '../../node/src/files/archive-pack.ts'
import { readArchive, SHA256_PAX_KEY } from '../../node/src/files/archive-reader.ts'
import { setDigest } from '../../node/src/files/files-digest.ts'
import { tarOf } from '../helpers/tar.ts'

const MiB = 1024 * 1024
const scratch = await mkdtemp(join(tmpdir(), 'cloudai-archive-'))
after(async () => { await rm(scratch, { recursive: true, force: true }) })
let dirs = 0
async function freshDir (): Promise<string> {
  const dir = join(scratch, `d${dirs++}`)
  await mkdir(dir)
  return dir
}

/** The bytes in chunks of the size a network or a disk gives. */
async function * once (bytes: Buffer): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += 64 * 1024) yield bytes.subarray(at, at + 64 * 1024)
}

const limits = { maxBytes: 16 * MiB, what: 'the inputs' }

async function refusal (bytes: Buffer | AsyncIterable<Uint8Array>, pattern: RegExp, dir?: string): Promise<void> {
  const target = dir ?? await freshDir()
  const source = Buffer.isBuffer(bytes) ? once(bytes) : bytes
  await assert.rejects(extractArchive(source, target, limits), (err: Error) => {
    assert.ok(err instanceof ArchiveRefusedError, `${err.constructor.name}: ${err.message}`)
    assert.match(err.message, pattern)
    return true
  })
}

test('files, directories, unicode names and links inside land byte for byte, with digests', async () => {
  const dir = await freshDir()
  const bytes = await tarOf([
    { name: 'in/', type: 'directory' },
    { name: 'in/données-✓.csv', content: 'a,b\n1,2\n' },
    { name: 'in/empty/', type: 'directory' },
    { name: 'in/alias', type: 'symlink', linkname: 'données-✓.csv' },
    { name: 'in/hard', type: 'link', linkname: 'in/données-✓.csv' }
  ])
  const result = await extractArchive(once(bytes), dir, limits)
  assert.equal(await readFile(join(dir, 'in/données-✓.csv'), 'utf8'), 'a,b\n1,2\n')
  assert.deepEqual(await readdir(join(dir, 'in/empty')), [])
  assert.equal(await readlink(join(dir, 'in/alias')), 'données-✓.csv')
  assert.equal(await readFile(join(dir, 'in/hard'), 'utf8'), 'a,b\n1,2\n')
  const file = result.records.find(record => record.path === 'in/données-✓.csv')
  assert.equal(file?.sha256, createHash('sha256').update('a,b\n1,2\n').digest('hex'))
  assert.equal(result.bytes, 8)
})

test('traversal and absolute names are refused, and nothing lands outside', async () => {
  const outer = await freshDir()
  const dir = join(outer, 'target')
  await mkdir(dir)
  await refusal(await tarOf([{ name: '../escaped', content: 'x' }]), /climbs out/, dir)
  await refusal(await tarOf([{ name: 'a/../../escaped', content: 'x' }]), /climbs out/, dir)
  await refusal(await tarOf([{ name: '/etc/escaped', content: 'x' }]), /absolute path/, dir)
  assert.deepEqual((await readdir(outer)).sort(), ['target'])
})

test('links that leave the target are refused; nothing is written through a link', async () => {
  const outer = await freshDir()
  const dir = join(outer, 'target')
  await mkdir(dir)
  await refusal(await tarOf([{ name: 'out', type: 'symlink', linkname: '/etc' }]), /absolute path/, dir)
  await refusal(await tarOf([{ name: 'a/out', type: 'symlink', linkname: '../../..' }]), /outside the target/, dir)
  await refusal(await tarOf([{ name: 'h', type: 'link', linkname: '../outside' }]), /climbs out/, dir)
  // A link inside the target, then a file "through" it: the link could be re-pointed by a later entry; nothing goes through links.
  const twoStep = await freshDir()
  await refusal(await tarOf([{ name: 'sub/', type: 'directory' }, { name: 'l', type: 'symlink', linkname: 'sub' }, { name: 'l/f', content: 'x' }]), /not a directory/, twoStep)
  assert.deepEqual(await readdir(join(twoStep, 'sub')), [])
  // A second entry with the same name never replaces the first.
  await refusal(await tarOf([{ name: 'f', content: 'one' }, { name: 'f', type: 'symlink', linkname: 'g' }]), /twice/)
  assert.deepEqual((await readdir(outer)).sort(), ['target'])
})

test('devices and fifos are skipped with a note', async () => {
  const dir = await freshDir()
  const result = await extractArchive(once(await tarOf([
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 },
    { name: 'pipe', type: 'fifo' },
    { name: 'ok', content: 'fine' }
  ])), dir, limits)
  assert.deepEqual(await readdir(dir), ['ok'])
  assert.equal(result.skipped.length, 2)
  assert.match(result.skipped[0] ?? '', /character device is never copied/)
})

test('a size bomb is refused from its header, before its content is read, with the numbers', async () => {
  const header = tar.pack()
  const chunks: Buffer[] = []
  const reading = (async () => { for await (const chunk of header) chunks.push(chunk as Buffer) })()
  // Declares 8 GiB and sends a little: the cap must hold on the declaration.
  const sink = header.entry({ name: 'bomb', size: 8 * 1024 ** 3 })
  sink.write(Buffer.alloc(1024))
  setTimeout(() => { header.destroy() }, 10)
  await reading.catch(() => {})
  await refusal(once(Buffer.concat(chunks)), /larger than the 16 MiB allowed: "bomb" \(8 GiB\) would bring them to 8 GiB/)
  // Many files that add up past the cap: the one that crosses it is named.
  const many = await tarOf(Array.from({ length: 5 }, (_, index) => ({ name: `f${index}`, content: Buffer.alloc(4 * MiB) })))
  await refusal(many, /"f4" \(4 MiB\) would bring them to 20 MiB/)
  await assert.rejects(readArchive(once(await tarOf([{ name: 'a' }, { name: 'b' }, { name: 'c' }])), { ...limits, maxEntries: 2 }, async () => {}), /more than 2 entries/)
})

test('a truncated archive is refused, and the half-written file is not left as if whole', async () => {
  const whole = await tarOf([{ name: 'first', content: 'complete' }, { name: 'big', content: Buffer.alloc(100_000, 7) }])
  const dir = await freshDir()
  await refusal(whole.subarray(0, 512 + 512 + 512 + 50_000), /malformed or cut short/, dir)
  assert.deepEqual(await readdir(dir), ['first'])
})

test('an endless stream is cut off, whether zeros or garbage', async () => {
  let sent = 0
  async function * endless (fill: number): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 100_000; i++) { sent += 64 * 1024; yield Buffer.alloc(64 * 1024, fill) }
  }
  await refusal(endless(0), /endless/)
  assert.ok(sent < 4 * MiB, `read ${sent} bytes of an endless stream`)
  await refusal(endless(0x41), /malformed/)
})

test('a recorded digest that does not match the bytes is refused; a missing one when digests are required', async () => {
  const wrong = await tarOf([{ name: 'f', content: 'hello', pax: { [SHA256_PAX_KEY]: 'ab'.repeat(32) } }])
  await assert.rejects(extractArchive(once(wrong), await freshDir(), limits), ChecksumMismatchError)
  const missing = await tarOf([{ name: 'f', content: 'hello' }])
  await assert.rejects(extractArchive(once(missing), await freshDir(), { ...limits, requireDigests: true }), /without its checksum/)
})

test('packing a tree and extracting it gives the same set digest; links are kept or skipped as asked', async () => {
  const source = await freshDir()
  await mkdir(join(source, 'data/empty'), { recursive: true })
  await writeFile(join(source, 'data/ü.txt'), 'unicode')
  await writeFile(join(source, 'data/big.bin'), Buffer.alloc(3 * MiB, 1))
  await symlink('ü.txt', join(source, 'data/link'))
  const notes: string[] = []
  const kept = await extractArchive(packTrees([{ diskPath: join(source, 'data'), archivePath: 'data' }], { symlinks: 'skip', onSkipped: note => notes.push(note) }), await freshDir(), limits)
  assert.equal(notes.length, 1)
  assert.match(notes[0] ?? '', /symbolic links are not copied/)
  assert.deepEqual(kept.records.map(record => record.path).sort(), ['data', 'data/big.bin', 'data/empty', 'data/ü.txt'])
  const digests = new Map(kept.records.map(record => [record.path, record.sha256]))
  const again = await freshDir()
  const second = await extractArchive(packTrees([{ diskPath: join(source, 'data'), archivePath: 'data' }], { symlinks: 'keep', digestOf: path => digests.get(path) }), again, { ...limits, requireDigests: false })
  assert.ok((await lstat(join(again, 'data/link'))).isSymbolicLink())
  assert.equal(setDigest(second.records.filter(record => record.kind !== 'symlink')), setDigest(kept.records))
})

test('a submitter\'s inputs reach the engine only under the task\'s targets, within the cap', async () => {
  const { engineInputs } = await import('../../node/src/files/engine-inputs.ts')
  const collect = async (bytes: Buffer, maxBytes = limits.maxBytes): Promise<{ names: string[], error?: Error }> => {
    const { archive, done } = engineInputs(once(bytes), { targets: ['/in/data'], maxBytes })
    const names: string[] = []
    const reading = readArchive(archive, limits, async entry => { names.push(entry.path) })
    const error = await done.then(() => undefined, (err: Error) => err)
    await reading.catch(() => {})
    return { names, ...(error !== undefined ? { error } : {}) }
  }
  const fine = await collect(await tarOf([{ name: 'in/', type: 'directory' }, { name: 'in/data/', type: 'directory', uid: 1000 }, { name: 'in/data/x.csv', content: 'a,b\n', uid: 1000 }]))
  assert.equal(fine.error, undefined)
  assert.deepEqual(fine.names, ['in/data', 'in/data/x.csv'])
  const outside = await collect(await tarOf([{ name: 'in/data/ok', content: 'x' }, { name: 'etc/passwd', content: 'root::0:0' }]))
  assert.ok(outside.error instanceof ArchiveRefusedError)
  assert.match(outside.error.message, /"etc\/passwd" is outside every input target \(\/in\/data\)/)
  const big = await collect(await tarOf([{ name: 'in/data/big', content: Buffer.alloc(2 * MiB) }]), MiB)
  assert.match(big.error?.message ?? '', /the inputs are larger than this worker accepts: 2 MiB or more, at most 1 MiB/)
})
