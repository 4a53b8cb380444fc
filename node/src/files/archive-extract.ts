import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { link, lstat, mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ArchiveRefusedError } from '../errors.ts'
import { printable } from './archive-paths.ts'
import { readArchive, type ArchiveEntry, type ArchiveLimits, type ArchiveSummary } from './archive-reader.ts'
import type { FileRecord } from './files-digest.ts'

/** Files up to this size are read whole and written in one call (bounded: one at a time). */
const SMALL_FILE_BYTES = 64 * 1024

/**
 * What may queue for a file's disk writes: while one write is under way the chunks behind it
 * gather, and go in one writev, where the default (16 KiB) would hold the archive back for
 * each chunk's own write.
 */
const WRITE_BUFFER_BYTES = 1024 * 1024

/** A file's recorded digest differs from the bytes that arrived. */
export class ChecksumMismatchError extends ArchiveRefusedError {}

export interface ExtractOptions extends ArchiveLimits {
  /** Every file must carry its writer's SHA-256, and the bytes must match it. */
  requireDigests?: boolean
  /** Bytes of file content written so far, as they land (for progress). */
  onProgress?: (bytes: number, files: number) => void
  /** Called with each entry's path before it is written; a caller may refuse it by throwing. */
  check?: (entry: ArchiveEntry) => void
  /** Where to record each entry as it lands (also what landed before a failure); a new list when not given. */
  records?: FileRecord[]
}

export interface ExtractResult extends ArchiveSummary {
  records: FileRecord[]
}

/**
 * Write an archive's entries under `dir` (which must exist and be this caller's alone),
 * hashing every file as it lands. On top of the reader's rules: no entry is written
 * through a symbolic link (each parent is checked to be a real directory), nothing that
 * exists is overwritten (files are created exclusively), hard links may name only files
 * extracted before them, and modes keep permission bits only. On any failure the entry
 * being written is removed; what landed before it stays, for the caller to keep or delete.
 */
export async function extractArchive (source: AsyncIterable<Uint8Array> | Readable, dir: string, options: ExtractOptions): Promise<ExtractResult> {
  const records: FileRecord[] = options.records ?? []
  const realDirs = new Set<string>([''])
  const files = new Map<string, FileRecord>()
  let written = 0

  async function parentOf (path: string): Promise<void> {
    const parts = path.split('/').slice(0, -1)
    let current = ''
    for (const part of parts) {
      current = current === '' ? part : `${current}/${part}`
      if (realDirs.has(current)) continue
      const full = join(dir, current)
      const info = await lstat(full).catch(() => undefined)
      if (info === undefined) await mkdir(full, { mode: 0o755 })
      else if (!info.isDirectory()) throw new ArchiveRefusedError(`${options.what}: "${printable(path)}" would be written through "${printable(current)}", which is not a directory`)
      realDirs.add(current)
    }
  }

  const summary = await readArchive(source, options, async entry => {
    options.check?.(entry)
    if (entry.path === '') return
    await parentOf(entry.path)
    const full = join(dir, entry.path)
    switch (entry.kind) {
      case 'directory': {
        const info = await lstat(full).catch(() => undefined)
        if (info === undefined) await mkdir(full, { mode: 0o755 })
        else if (!info.isDirectory()) throw new ArchiveRefusedError(`${options.what}: "${printable(entry.path)}" is in the archive twice`)
        realDirs.add(entry.path)
        records.push({ path: entry.path, kind: 'directory', size: 0 })
        return
      }
      case 'symlink':
        await symlink(entry.linkTarget ?? '', full).catch(err => { throw existing(err, entry.path, options.what) })
        records.push({ path: entry.path, kind: 'symlink', size: 0, linkTarget: entry.linkTarget })
        return
      case 'link': {
        const target = files.get(entry.linkTarget ?? '')
        if (target === undefined) throw new ArchiveRefusedError(`${options.what}: hard link "${printable(entry.path)}" names "${printable(entry.linkTarget ?? '')}", which is not a file extracted before it`)
        await link(join(dir, target.path), full).catch(err => { throw existing(err, entry.path, options.what) })
        records.push({ path: entry.path, kind: 'link', size: 0, sha256: target.sha256, linkTarget: target.path })
        return
      }
      case 'file': {
        if (options.requireDigests === true && entry.sha256 === undefined) throw new ArchiveRefusedError(`${options.what}: "${printable(entry.path)}" arrived without its checksum`)
        const hash = createHash('sha256')
        const hashing = new Transform({
          transform (chunk: Buffer, _encoding, done) {
            hash.update(chunk)
            written += chunk.byteLength
            options.onProgress?.(written, files.size)
            done(null, chunk)
          }
        })
        try {
          const mode = (entry.mode & 0o755) | 0o600
          if (entry.size <= SMALL_FILE_BYTES) {
            // Most files of a large tree are small: one write each, not a pipeline of streams.
            const chunks: Uint8Array[] = []
            for await (const chunk of entry.content) { hash.update(chunk); chunks.push(chunk); written += chunk.byteLength }
            await writeFile(full, Buffer.concat(chunks), { flag: 'wx', mode })
          } else {
            await pipeline(Readable.from(entry.content), hashing, createWriteStream(full, { flags: 'wx', mode, highWaterMark: WRITE_BUFFER_BYTES }))
          }
        } catch (err) {
          if ((err as NodeJS.ErrnoException)?.code !== 'EEXIST') await rm(full, { force: true })
          throw existing(err, entry.path, options.what)
        }
        const sha256 = hash.digest('hex')
        if (entry.sha256 !== undefined && entry.sha256 !== sha256) {
          await rm(full, { force: true })
          throw new ChecksumMismatchError(`${options.what}: "${printable(entry.path)}" arrived with SHA-256 ${sha256}, not the ${printable(entry.sha256)} it was sent with`)
        }
        const record: FileRecord = { path: entry.path, kind: 'file', size: entry.size, sha256 }
        files.set(entry.path, record)
        records.push(record)
        options.onProgress?.(written, files.size)
      }
    }
  })
  return { ...summary, records }
}

function existing (err: unknown, path: string, what: string): unknown {
  if ((err as NodeJS.ErrnoException)?.code === 'EEXIST') return new ArchiveRefusedError(`${what}: "${printable(path)}" is in the archive twice`)
  return err
}
