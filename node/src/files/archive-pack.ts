import { createReadStream } from 'node:fs'
import { lstat, readdir, readFile, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as tar from 'tar-stream'
import { batched } from './batched.ts'
import { SHA256_PAX_KEY } from './archive-reader.ts'

/** Files up to this size are read whole (one at a time): a syscall or two instead of a stream. */
const SMALL_FILE_BYTES = 64 * 1024
/**
 * Larger files are read in blocks of this size: each block passes every stage after it
 * (batching, framing) without being gathered or copied, and a block is one allocation, where
 * the stream's default 64 KiB would be sixteen (each buffer's allocation counts towards V8's
 * next full collection, which at hundreds of MiB/s comes every few MiB).
 */
const LARGE_FILE_READ_BYTES = 1024 * 1024

/** A file or directory on disk and the name it takes in the archive (relative, no leading slash). */
export interface PackSource {
  diskPath: string
  archivePath: string
}

export interface PackOptions {
  /** What to do with a symbolic link: keep it as a link (a tree the archive rules produced), or skip it with a note (a user's tree, whose links may lead anywhere). */
  symlinks: 'keep' | 'skip'
  /** The digest to record with a file (SHA256_PAX_KEY), by its archive path. */
  digestOf?: (archivePath: string) => string | undefined
  /** A note for each entry left out (sockets, fifos, devices, skipped links). */
  onSkipped?: (note: string) => void
  /** Bytes of file content packed so far. */
  onProgress?: (bytes: number) => void
}

/**
 * A tar of `sources`, built as it is read: directories are walked one at a time and each
 * file is read from disk while it is packed, so memory holds a directory listing and a
 * chunk, never the data. Owners are root, modes keep permission bits only.
 */
export function packTrees (sources: PackSource[], options: PackOptions): Readable {
  const pack = tar.pack()
  let packed = 0
  const fill = async (): Promise<void> => {
    for (const source of sources) {
      const pending: PackSource[] = [source]
      for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
        const info = await lstat(next.diskPath)
        const header = { name: next.archivePath, mode: info.mode & 0o755, mtime: info.mtime, uid: 0, gid: 0 }
        if (info.isDirectory()) {
          await addEntry(pack, { ...header, type: 'directory' })
          const children = (await readdir(next.diskPath)).sort().reverse()
          for (const child of children) pending.push({ diskPath: join(next.diskPath, child), archivePath: `${next.archivePath}/${child}` })
        } else if (info.isFile()) {
          const digest = options.digestOf?.(next.archivePath)
          const fileHeader = { ...header, type: 'file' as const, size: info.size, ...(digest !== undefined ? { pax: { [SHA256_PAX_KEY]: digest } } : {}) }
          if (info.size <= SMALL_FILE_BYTES) {
            // Most files of a large tree are small: read whole, one entry call, no stream pipeline.
            const content = await readFile(next.diskPath)
            if (content.byteLength !== info.size) throw new Error(`${next.diskPath} changed while it was being sent`)
            await addEntry(pack, fileHeader, content)
            packed += content.byteLength
            options.onProgress?.(packed)
            continue
          }
          const sink = pack.entry(fileHeader)
          const counted = createReadStream(next.diskPath, { highWaterMark: LARGE_FILE_READ_BYTES })
          counted.on('data', chunk => { packed += chunk.length; options.onProgress?.(packed) })
          await pipeline(counted, sink as unknown as NodeJS.WritableStream)
        } else if (info.isSymbolicLink() && options.symlinks === 'keep') {
          await addEntry(pack, { ...header, type: 'symlink', linkname: await readlink(next.diskPath) })
        } else {
          options.onSkipped?.(`skipped ${next.diskPath}: ${info.isSymbolicLink() ? 'symbolic links are not copied (copy what they point to instead)' : 'not a regular file or directory'}`)
        }
      }
    }
    pack.finalize()
  }
  fill().catch((err: unknown) => { pack.destroy(err as Error) })
  return Readable.from(batched(pack as AsyncIterable<Buffer>), { objectMode: false })
}

async function addEntry (pack: tar.Pack, header: Parameters<tar.Pack['entry']>[0], content?: Uint8Array): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error | null): void => { if (err != null) reject(err); else resolve() }
    if (content !== undefined) pack.entry(header, content, done)
    else pack.entry(header, done)
  })
}
