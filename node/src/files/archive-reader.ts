import { Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as tar from 'tar-stream'
import { ArchiveRefusedError, CloudaiError, toError } from '../errors.ts'
import { formatBytes } from '../units.ts'
import { entryPath, printable, symlinkTarget } from './archive-paths.ts'

/** The pax record that carries a file's SHA-256 in the archives cloudai writes. */
export const SHA256_PAX_KEY = 'CLOUDAI.sha256'
/** Entries in one archive, unless the caller says otherwise: ten times a large real tree, far below what would strain memory. */
export const DEFAULT_MAX_ENTRIES = 200_000
/**
 * What a tar may spend on headers per entry beyond its file content: a header block, a pax
 * or long-name block with its content (tar-stream refuses one past 1 MiB by itself), the
 * padding. An archive that goes on sending past its entries' content plus this is endless.
 */
const HEADER_ALLOWANCE_BYTES = 64 * 1024
/**
 * Slack on top: the raw bytes are counted as they arrive, a little ahead of the parser (the
 * streams' buffers between them), and a tar may end in padding (tar's own end is 2 blocks;
 * some writers pad to 10 KiB).
 */
const TRAILER_ALLOWANCE_BYTES = 1024 * 1024
/** Chunks the raw count may be ahead of the parser: the one arriving, one in each stream buffer between them, one being parsed. */
const CHUNKS_AHEAD = 4

export interface ArchiveLimits {
  /** The most file content the archive may hold, in bytes. */
  maxBytes: number
  /** The most entries it may hold. */
  maxEntries?: number
  /** What the archive is, for messages: "the inputs", "the outputs of /out". */
  what: string
  /** The error a breach of `maxBytes` throws (a caller that keeps a partial set gives its own). */
  tooLarge?: (declaredBytes: number, maxBytes: number, path: string) => Error
}

export type EntryKind = 'file' | 'directory' | 'symlink' | 'link'

/** One entry that passed the rules. */
export interface ArchiveEntry {
  /** Relative to the archive's root, normalized ('' for the root directory). */
  path: string
  kind: EntryKind
  /** Content bytes (files only). */
  size: number
  /** Permission bits only (no set-id, no sticky). */
  mode: number
  mtime: Date
  /** For a symlink, the target as written; for a hard link, the (normalized) path it names. */
  linkTarget?: string
  /** The digest the writer recorded, when it did (SHA256_PAX_KEY). */
  sha256?: string
  /** A file's content: read it all (or leave it: it is skipped) before the next entry comes. */
  content: AsyncIterable<Uint8Array>
}

export interface ArchiveSummary {
  entries: number
  bytes: number
  /** Entries skipped and why (devices, fifos, unknown kinds): each a line for the user. */
  skipped: string[]
}

const SKIPPED_KINDS = new Set(['character-device', 'block-device', 'fifo'])

/**
 * Counts every byte of the raw archive: past the content its entries declared plus the
 * allowances for their headers, the stream is endless (zeros, or headers that never lead
 * to an entry) and is cut off.
 */
class RawBudget extends Transform {
  private received = 0
  /**
   * The largest chunk seen: a chunk is counted whole as it arrives, while the parser may not
   * have read the headers that declare its content yet, and the streams between them hold a
   * few chunks. Large reads (a disk's 1 MiB) would otherwise look like a stream running past
   * its entries.
   */
  private largestChunk = 0
  declaredBytes = 0
  entries = 0
  private readonly what: string

  constructor (what: string) {
    super()
    this.what = what
  }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.received += chunk.byteLength
    this.largestChunk = Math.max(this.largestChunk, chunk.byteLength)
    const allowed = this.declaredBytes + (this.entries + 1) * HEADER_ALLOWANCE_BYTES + TRAILER_ALLOWANCE_BYTES + CHUNKS_AHEAD * this.largestChunk
    if (this.received > allowed) {
      done(new ArchiveRefusedError(`${this.what}: the archive goes on past its entries (${formatBytes(this.received)} sent for ${this.entries} entries of ${formatBytes(this.declaredBytes)}): refused as endless`))
      return
    }
    done(null, chunk)
  }
}

function padded (size: number): number {
  return Math.ceil(size / 512) * 512
}

/**
 * Read a tar from `source` as a stream, entry by entry, applying the rules to each before
 * `onEntry` sees it: names stay inside the root (no absolute paths, no `..`), links point
 * inside it, content stays within `maxBytes` (checked against each header before its
 * content is read), entries within `maxEntries`, and the stream ends where the archive
 * does. Devices and fifos are skipped with a note; a truncated or malformed archive is
 * refused. Every breach is an ArchiveRefusedError (or `tooLarge`'s error) naming the entry.
 */
export async function readArchive (
  source: AsyncIterable<Uint8Array> | Readable,
  limits: ArchiveLimits,
  onEntry: (entry: ArchiveEntry) => Promise<void>
): Promise<ArchiveSummary> {
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES
  const budget = new RawBudget(limits.what)
  const extract = tar.extract()
  const summary: ArchiveSummary = { entries: 0, bytes: 0, skipped: [] }
  const input = source instanceof Readable ? source : Readable.from(source, { objectMode: false })
  const feeding = pipeline(input, budget, extract as unknown as NodeJS.WritableStream).catch((err: unknown) => {
    // A failure here ends the entry iteration below as well; keep the first cause.
    ;(extract as unknown as { destroy: (err: Error) => void }).destroy(toError(err))
    throw err
  })
  feeding.catch(() => {})
  try {
    for await (const source of extract) {
      const header = source.header
      const stream = contentOf(source as unknown as AsyncIterable<Uint8Array>, limits.what)
      summary.entries++
      if (summary.entries > maxEntries) throw new ArchiveRefusedError(`${limits.what}: more than ${maxEntries} entries`)
      budget.entries = summary.entries
      const path = entryPath(header.name)
      const size = header.size ?? 0
      budget.declaredBytes += padded(size)
      const entry = await classify(header, path, size, stream, summary, limits)
      if (entry === undefined) {
        await drain(stream)
        continue
      }
      if (entry.kind === 'file') {
        if (summary.bytes + size > limits.maxBytes) {
          throw limits.tooLarge?.(summary.bytes + size, limits.maxBytes, path) ??
            new ArchiveRefusedError(`${limits.what} are larger than the ${formatBytes(limits.maxBytes)} allowed: "${printable(path)}" (${formatBytes(size)}) would bring them to ${formatBytes(summary.bytes + size)}`)
        }
        summary.bytes += size
      }
      try {
        await onEntry(entry)
      } catch (err) {
        throw new ConsumerFailure(err)
      }
      // A consumer that did not read a file's content leaves it to be skipped here.
      await drain(stream)
    }
    await feeding
  } catch (err) {
    input.destroy()
    if (err instanceof ConsumerFailure) throw err.cause
    const error = toError(err)
    if (error instanceof CloudaiError) throw error
    // tar-stream's own errors (a cut-off or malformed archive) are plain Errors.
    throw new ArchiveRefusedError(`${limits.what}: the archive is malformed or cut short (${error.message})`, { cause: error })
  }
  return summary
}

async function classify (header: tar.Header, path: string, size: number, content: AsyncIterable<Uint8Array>, summary: ArchiveSummary, limits: ArchiveLimits): Promise<ArchiveEntry | undefined> {
  const base = { path, size: 0, mode: (header.mode ?? 0o644) & 0o777, mtime: header.mtime ?? new Date(0), content }
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      return { ...base, kind: 'file', size, ...digestOf(header) }
    case 'directory':
      return { ...base, kind: 'directory' }
    case 'symlink':
      symlinkTarget(path, header.linkname ?? '')
      return { ...base, kind: 'symlink', linkTarget: header.linkname ?? '' }
    case 'link': {
      const target = entryPath(header.linkname ?? '')
      if (target === '') throw new ArchiveRefusedError(`${limits.what}: hard link "${printable(path)}" names the root`)
      return { ...base, kind: 'link', linkTarget: target }
    }
    default:
      summary.skipped.push(`skipped "${printable(path)}": a ${SKIPPED_KINDS.has(header.type ?? '') ? (header.type ?? '').replace('-', ' ') : `entry of kind ${printable(String(header.type))}`} is never copied`)
      return undefined
  }
}

/** An entry's content; the archive ending inside it is the archive's fault, not the reader's. */
async function * contentOf (stream: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk
  } catch (err) {
    const error = toError(err)
    if (error instanceof CloudaiError) throw error
    throw new ArchiveRefusedError(`${what}: the archive is malformed or cut short (${error.message})`, { cause: error })
  }
}

function digestOf (header: tar.Header): { sha256?: string } {
  const pax = header.pax as Record<string, unknown> | null | undefined
  const digest = pax?.[SHA256_PAX_KEY]
  return typeof digest === 'string' ? { sha256: digest } : {}
}

/** What `onEntry` threw: passed on as it is, never taken for a malformed archive. */
class ConsumerFailure {
  readonly cause: unknown
  constructor (cause: unknown) {
    this.cause = cause
  }
}

async function drain (stream: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of stream) void chunk
}
