import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as tar from 'tar-stream'
import { batched } from './batched.ts'
import { ArchiveRefusedError, toError } from '../errors.ts'
import { formatBytes } from '../units.ts'
import { isWithin, printable } from './archive-paths.ts'
import { readArchive, type ArchiveEntry, type ArchiveSummary } from './archive-reader.ts'

/** Files up to this size are gathered whole (one at a time) and packed in one call. */
const SMALL_FILE_BYTES = 64 * 1024

export interface EngineInputsOptions {
  /** The spec's input targets (absolute container paths). */
  targets: string[]
  maxBytes: number
  onProgress?: (bytes: number, files: number) => void
}

/**
 * A submitter's input archive, re-written for the engine's archive upload as it streams
 * through: only entries under the task's input targets pass (and the directories above
 * them), each under the archive rules and the input cap, owned by root with permission bits
 * only; nothing else the submitter put in the archive reaches the engine. `done` settles
 * when the whole input was read: rejected with the reason when it broke a rule.
 */
export function engineInputs (source: AsyncIterable<Uint8Array> | Readable, options: EngineInputsOptions): { archive: Readable, done: Promise<ArchiveSummary> } {
  const roots = options.targets.map(target => target.slice(1))
  const pack = tar.pack()
  let bytes = 0
  let files = 0
  const add = async (entry: ArchiveEntry): Promise<void> => {
    const inside = roots.some(root => isWithin(entry.path, root))
    const above = roots.some(root => entry.path === '' || root.startsWith(`${entry.path}/`))
    if (!inside) {
      if (above && entry.kind === 'directory') return // the engine makes the directories above a target
      throw new ArchiveRefusedError(`the inputs: "${printable(entry.path)}" is outside every input target (${options.targets.join(', ')})`)
    }
    const header = { name: entry.path, mode: entry.mode, mtime: entry.mtime, uid: 0, gid: 0 }
    switch (entry.kind) {
      case 'directory':
        await entryDone(pack, { ...header, type: 'directory' })
        return
      case 'symlink':
        await entryDone(pack, { ...header, type: 'symlink', linkname: entry.linkTarget })
        return
      case 'link':
        await entryDone(pack, { ...header, type: 'link', linkname: entry.linkTarget })
        return
      case 'file': {
        if (entry.size <= SMALL_FILE_BYTES) {
          const chunks: Uint8Array[] = []
          for await (const chunk of entry.content) chunks.push(chunk)
          await entryDone(pack, { ...header, type: 'file', size: entry.size }, Buffer.concat(chunks))
          bytes += entry.size
          files++
          options.onProgress?.(bytes, files)
          return
        }
        const sink = pack.entry({ ...header, type: 'file', size: entry.size })
        const counted = Readable.from(entry.content)
        counted.on('data', (chunk: Uint8Array) => { bytes += chunk.byteLength; options.onProgress?.(bytes, files) })
        await pipeline(counted, sink as unknown as NodeJS.WritableStream)
        files++
        options.onProgress?.(bytes, files)
      }
    }
  }
  const done = readArchive(source, {
    maxBytes: options.maxBytes,
    what: 'the inputs',
    tooLarge: (declared, max) => new ArchiveRefusedError(`the inputs are larger than this worker accepts: ${formatBytes(declared)} or more, at most ${formatBytes(max)} (its policy's maxInput)`)
  }, add).then(summary => {
    pack.finalize()
    return summary
  }, (err: unknown) => {
    pack.destroy(toError(err))
    throw err
  })
  done.catch(() => {})
  return { archive: Readable.from(batched(pack as AsyncIterable<Buffer>), { objectMode: false }), done }
}

async function entryDone (pack: tar.Pack, header: Parameters<tar.Pack['entry']>[0], content?: Uint8Array): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error | null): void => { if (err != null) reject(err); else resolve() }
    if (content !== undefined) pack.entry(header, content, done)
    else pack.entry(header, done)
  })
}
