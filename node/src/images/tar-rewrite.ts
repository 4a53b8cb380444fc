import { createHash } from 'node:crypto'

const BLOCK = 512
/** Zeros to pad an entry to its block, and the archive's end mark (two zero blocks). */
const ZEROS = new Uint8Array(2 * BLOCK)
/** A pax or GNU long-name record, which only renames or resizes the entry after it, is this small in any archive an engine writes. */
const MAX_META_ENTRY_BYTES = 64 * 1024
const TYPES: Record<number, TarEntryType> = {
  0: 'file', 48: 'file', 49: 'link', 50: 'symlink', 51: 'character-device', 52: 'block-device',
  53: 'directory', 54: 'fifo', 55: 'contiguous-file', 120: 'pax-header', 103: 'pax-global-header',
  76: 'gnu-long-path', 75: 'gnu-long-link-path'
}
const TYPE_FLAGS: Record<string, number> = { file: 48, link: 49, symlink: 50, 'character-device': 51, 'block-device': 52, directory: 53, fifo: 54, 'contiguous-file': 55 }

export type TarEntryType = 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo' | 'contiguous-file' | 'pax-header' | 'pax-global-header' | 'gnu-long-path' | 'gnu-long-link-path' | 'unknown'

/** One entry's header as read (a pax or GNU long name already applied to it). */
export interface TarHeader {
  name: string
  type: TarEntryType
  size: number
  mode: number
  mtime: number
  linkname: string
}

/**
 * What to do with one entry of an archive being rewritten, decided from its header: pass it
 * through (`digest`: and hand its sha256 to `passed`), leave it out, or read it whole.
 */
export type EntryPlan = 'pass' | 'digest' | 'drop' | { read: number }

export interface TarRewriter {
  /** Pass the entry through, leave it out, or read it whole (at most `read` bytes) and hand it to `rewrite`. Throw to fail the archive. */
  plan(header: TarHeader): EntryPlan
  /** An entry read whole: the bytes to write in its place, or undefined to leave it out. Throw to fail the archive. */
  rewrite?(header: TarHeader, body: Buffer): Buffer | undefined
  /** An entry planned as `digest` has passed through whole: its sha256, in hex. Throw to fail the archive. */
  passed?(header: TarHeader, sha256: string): void
  /** After the last entry: throw to fail the archive (the output fails instead of ending). */
  finish?(): void
}

/** An archive that is not a well-formed tar (cut short, a bad header, data after its end), or an entry larger than its plan allows. */
export class TarFormatError extends Error {}

/** The bytes of `source` as it is read, a block or an entry's body at a time, without copying what passes through. */
class ByteReader {
  private readonly chunks: AsyncIterator<Uint8Array>
  private current: Uint8Array = new Uint8Array(0)
  private at = 0
  /** The source has ended. */
  ended = false

  constructor (source: AsyncIterable<Uint8Array>) {
    this.chunks = source[Symbol.asyncIterator]()
  }

  /** Whether bytes are left; reads the next chunk when the current one is used up. */
  async more (): Promise<boolean> {
    while (this.at >= this.current.byteLength) {
      if (this.ended) return false
      const next = await this.chunks.next()
      if (next.done === true) {
        this.ended = true
        return false
      }
      this.current = next.value
      this.at = 0
    }
    return true
  }

  /** Up to `max` bytes, as a view of the chunk they arrived in; undefined at the source's end. */
  async take (max: number): Promise<Uint8Array | undefined> {
    if (!await this.more()) return undefined
    const view = this.current.subarray(this.at, this.at + Math.min(max, this.current.byteLength - this.at))
    this.at += view.byteLength
    return view
  }

  /** Exactly `bytes` bytes in one buffer (a header; a small entry read whole), or undefined when the source ends first. */
  async exactly (bytes: number): Promise<Buffer | undefined> {
    const out = Buffer.allocUnsafe(bytes)
    let filled = 0
    while (filled < bytes) {
      const view = await this.take(bytes - filled)
      if (view === undefined) return undefined
      out.set(view, filled)
      filled += view.byteLength
    }
    return out
  }

  async stop (): Promise<void> {
    await this.chunks.return?.(undefined)
  }
}

function text (block: Uint8Array, offset: number, length: number): string {
  let end = offset
  while (end < offset + length && block[end] !== 0) end++
  return Buffer.from(block.buffer, block.byteOffset + offset, end - offset).toString('utf8')
}

/** A numeric field: octal digits (spaces and NULs around them), or GNU base-256 for large values. */
function numeric (block: Uint8Array, offset: number, length: number, what: string): number {
  if ((block[offset] & 0x80) !== 0) {
    if (block[offset] !== 0x80) throw new TarFormatError(`the archive's ${what} field is negative or too large`)
    let value = 0
    for (let index = offset + 1; index < offset + length; index++) value = value * 256 + block[index]
    if (!Number.isSafeInteger(value)) throw new TarFormatError(`the archive's ${what} field is too large`)
    return value
  }
  const digits = text(block, offset, length).trim()
  if (digits === '') return 0
  if (!/^[0-7]+$/.test(digits)) throw new TarFormatError(`the archive's ${what} field is not a number`)
  return parseInt(digits, 8)
}

function checksumOf (block: Uint8Array): number {
  let sum = 0
  for (let index = 0; index < BLOCK; index++) sum += index >= 148 && index < 156 ? 32 : block[index]
  return sum
}

function isZero (block: Uint8Array): boolean {
  for (let index = 0; index < BLOCK; index++) if (block[index] !== 0) return false
  return true
}

/** A header block read: its checksum, format (ustar or GNU, as tar-stream accepts) and fields. */
function parseHeader (block: Buffer): TarHeader {
  if (numeric(block, 148, 8, 'checksum') !== checksumOf(block)) throw new TarFormatError('an archive header\'s checksum is wrong: the archive is corrupt')
  const magic = block.toString('latin1', 257, 265)
  const ustar = magic === 'ustar\u000000'
  if (!ustar && magic !== 'ustar  \u0000') throw new TarFormatError('an archive header is of an unknown format (neither ustar nor GNU)')
  const name = text(block, 0, 100)
  const prefix = ustar ? text(block, 345, 155) : ''
  return {
    name: prefix !== '' ? `${prefix}/${name}` : name,
    type: TYPES[block[156]] ?? 'unknown',
    size: numeric(block, 124, 12, 'size'),
    mode: numeric(block, 100, 8, 'mode'),
    mtime: numeric(block, 136, 12, 'mtime'),
    linkname: text(block, 157, 100)
  }
}

/** The pax records that rename or resize the next entry ("<length> <key>=<value>\n" each). */
function paxOverrides (body: Buffer): { path?: string, size?: number } {
  const overrides: { path?: string, size?: number } = {}
  let at = 0
  while (at < body.byteLength) {
    const space = body.indexOf(0x20, at)
    const length = space > at ? Number(body.toString('latin1', at, space)) : NaN
    if (!Number.isSafeInteger(length) || length <= 0 || at + length > body.byteLength) throw new TarFormatError('a pax record of the archive is malformed')
    const record = body.toString('utf8', space + 1, at + length - 1)
    const equals = record.indexOf('=')
    if (equals > 0) {
      const key = record.slice(0, equals)
      const value = record.slice(equals + 1)
      if (key === 'path') overrides.path = value
      if (key === 'size') {
        if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new TarFormatError('a pax size of the archive is not a number')
        overrides.size = Number(value)
      }
    }
    at += length
  }
  return overrides
}

function writeNumeric (block: Buffer, offset: number, length: number, value: number): void {
  if (value < 8 ** (length - 1)) {
    block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1')
    return
  }
  // GNU base-256, which Go's archive/tar (the engine's) and tar-stream read.
  block[offset] = 0x80
  let rest = value
  for (let index = offset + length - 1; index > offset; index--) {
    block[index] = rest % 256
    rest = Math.floor(rest / 256)
  }
}

/**
 * A plain ustar header of our own for an entry: the engine reads exactly the name, type and
 * size that were checked, whatever pax records or odd fields the peer's header carried.
 */
export function encodeHeader (header: TarHeader, size: number): Buffer {
  const block = Buffer.alloc(BLOCK)
  let name = header.name
  let prefix = ''
  if (Buffer.byteLength(name) !== name.length) throw new TarFormatError(`the archive's entry name "${name.slice(0, 120)}" is not ASCII`)
  if (name.length > 100) {
    const cut = name.lastIndexOf('/', 155)
    if (cut <= 0 || name.length - cut - 1 > 100) throw new TarFormatError(`the archive's entry name "${name.slice(0, 120)}" is too long`)
    prefix = name.slice(0, cut)
    name = name.slice(cut + 1)
  }
  if (Buffer.byteLength(header.linkname) > 100) throw new TarFormatError('an archive entry\'s link name is too long')
  block.write(name, 0, 100, 'latin1')
  writeNumeric(block, 100, 8, header.mode & 0o7777)
  writeNumeric(block, 108, 8, 0)
  writeNumeric(block, 116, 8, 0)
  writeNumeric(block, 124, 12, size)
  writeNumeric(block, 136, 12, Math.max(0, Math.floor(header.mtime)))
  block[156] = TYPE_FLAGS[header.type] ?? TYPE_FLAGS.file
  block.write(header.linkname, 157, 100, 'utf8')
  block.write('ustar\u000000', 257, 8, 'latin1')
  block.write(prefix, 345, 155, 'latin1')
  block.write(`${checksumOf(block).toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1')
  return block
}

function padding (size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK
}

/**
 * Reads a tar archive from `source` and yields it again as `rewriter` says, entry by entry:
 * each entry under a header of our own (`encodeHeader`), the bodies that pass through as
 * views of the chunks they arrived in (no copy, no stream machinery per chunk), then the
 * end mark. It reads `source` only as fast as it is read: nothing is staged beyond one
 * header and an entry read whole, which its plan bounds. A malformed archive (a bad
 * checksum or format, cut short, data after its end mark) is a TarFormatError; a failure
 * of the source or the rewriter is thrown as it is; either way the output never ends as if
 * complete.
 */
export async function * rewriteTar (source: AsyncIterable<Uint8Array>, rewriter: TarRewriter): AsyncGenerator<Uint8Array> {
  const input = new ByteReader(source)
  try {
    let rename: { path?: string, size?: number } = {}
    while (true) {
      const block = await input.exactly(BLOCK)
      if (block === undefined) throw new TarFormatError('the archive ends without its end mark: it was cut short')
      if (isZero(block)) break
      const parsed = parseHeader(block)
      const header = { ...parsed, name: rename.path ?? parsed.name, size: rename.size ?? parsed.size }
      rename = {}
      const bodyPadding = padding(header.size)
      if (header.type === 'pax-header' || header.type === 'gnu-long-path' || header.type === 'pax-global-header' || header.type === 'gnu-long-link-path') {
        if (header.size > MAX_META_ENTRY_BYTES) throw new TarFormatError(`an archive's ${header.type} entry is larger than ${MAX_META_ENTRY_BYTES} bytes`)
        const body = await input.exactly(header.size + bodyPadding)
        if (body === undefined) throw new TarFormatError('the archive ends inside an entry: it was cut short')
        const content = body.subarray(0, header.size)
        // A global header or a long link name changes nothing this archive's reader needs: left out.
        if (header.type === 'pax-header') rename = paxOverrides(content)
        if (header.type === 'gnu-long-path') rename = { path: text(content, 0, content.byteLength) }
        continue
      }
      const plan = rewriter.plan(header)
      if (typeof plan === 'object') {
        if (header.size > plan.read) throw new TarFormatError(`the archive's entry "${header.name.slice(0, 120)}" is larger than ${plan.read} bytes`)
        const body = await input.exactly(header.size + bodyPadding)
        if (body === undefined) throw new TarFormatError('the archive ends inside an entry: it was cut short')
        const replaced = rewriter.rewrite?.(header, body.subarray(0, header.size))
        if (replaced === undefined) continue
        yield encodeHeader(header, replaced.byteLength)
        if (replaced.byteLength > 0) yield replaced
        if (padding(replaced.byteLength) > 0) yield ZEROS.subarray(0, padding(replaced.byteLength))
        continue
      }
      const keep = plan !== 'drop'
      const hash = plan === 'digest' ? createHash('sha256') : undefined
      if (keep) yield encodeHeader(header, header.size)
      let left = header.size + bodyPadding
      while (left > 0) {
        const view = await input.take(left)
        if (view === undefined) throw new TarFormatError('the archive ends inside an entry: it was cut short')
        // The body's own bytes, not the peer's padding (ours is written below).
        const inBody = Math.max(0, Math.min(view.byteLength, left - bodyPadding))
        if (inBody > 0) {
          const data = inBody === view.byteLength ? view : view.subarray(0, inBody)
          hash?.update(data)
          if (keep) yield data
        }
        left -= view.byteLength
      }
      if (keep && bodyPadding > 0) yield ZEROS.subarray(0, bodyPadding)
      if (hash !== undefined) rewriter.passed?.(header, hash.digest('hex'))
    }
    // After the end mark only zeros may follow (an engine's reader stops at the mark; data hidden past it is not an archive we check).
    while (true) {
      const view = await input.take(64 * 1024)
      if (view === undefined) break
      for (let index = 0; index < view.byteLength; index++) if (view[index] !== 0) throw new TarFormatError('the archive has data after its end mark')
    }
    rewriter.finish?.()
    yield ZEROS
  } finally {
    await input.stop()
  }
}
