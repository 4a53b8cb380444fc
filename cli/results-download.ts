import { cp, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { ArchiveRefusedError, ResultsExistError } from '../node/src/errors.ts'
import { ChecksumMismatchError, extractArchive } from '../node/src/files/archive-extract.ts'
import { setDigest, type FileRecord } from '../node/src/files/files-digest.ts'
import type { OutputSetJson } from '../node/src/protocol/task-messages.ts'

/** A task's kept outputs on their way here. */
export interface OutputsStream {
  taskId: string
  sets: OutputSetJson[]
  archive: AsyncIterable<Uint8Array>
}

/** One output set as it landed. */
export interface LandedOutput extends OutputSetJson {
  /** Where it is on this machine; undefined when the worker kept nothing of it. */
  local?: string
}

/** Where a finished download's staging directory lives: beside the first destination, named by the task, so a later download finds and replaces it. */
export function stagingDir (taskId: string, destinations: string[]): string {
  return join(dirname(destinations[0] ?? '.'), `.cloudai-partial-${taskId}`)
}

/** Where each set lands when no place was given: `<dir>/<last component of its container path>`. */
export function defaultDestinations (sets: Array<{ path: string }>, dir: string): string[] {
  return sets.map(set => join(dir, basename(set.path)))
}

async function exists (path: string): Promise<boolean> {
  return await lstat(path).then(() => true, () => false)
}

/**
 * Download a task's outputs: every set into a staging directory beside the destinations,
 * each file checked against the digest the worker sent with it and each set against its
 * summary's digest; only then is each set moved to its destination. Nothing that exists is
 * overwritten (ResultsExistError, before a byte is fetched), and an interrupted download
 * leaves only the staging directory, which the next one replaces: a partial set never sits
 * where the results are expected.
 */
export async function downloadOutputs (stream: OutputsStream, destinations: string[], onProgress?: (bytes: number, totalBytes: number, files: number) => void): Promise<LandedOutput[]> {
  for (const destination of destinations) {
    if (await exists(destination)) throw new ResultsExistError(`${destination} exists already: results never overwrite anything; move it away, or give another place (--output PATH:LOCAL, or "cloudai results <task> DEST")`)
  }
  const staging = stagingDir(stream.taskId, destinations)
  await mkdir(dirname(staging), { recursive: true })
  await rm(staging, { recursive: true, force: true })
  await mkdir(staging, { mode: 0o700 })
  const totalBytes = stream.sets.reduce((sum, set) => sum + set.bytes, 0)
  const indexes = new Set(stream.sets.map((_set, index) => String(index)))
  const result = await extractArchive(stream.archive, staging, {
    // The worker said how much it kept: an archive holding more is not what it kept.
    maxBytes: totalBytes,
    what: 'the results',
    requireDigests: true,
    check: entry => {
      if (!indexes.has(entry.path.split('/')[0] ?? '')) throw new ArchiveRefusedError(`the results: "${entry.path.slice(0, 200)}" belongs to no output`)
    },
    onProgress: (bytes, files) => { onProgress?.(bytes, totalBytes, files) }
  })
  const landed: LandedOutput[] = []
  for (const [index, set] of stream.sets.entries()) {
    const prefix = `${index}/`
    const records: FileRecord[] = result.records.filter(record => record.path.startsWith(prefix)).map(record => ({
      ...record,
      path: record.path.slice(prefix.length),
      ...(record.kind === 'link' && record.linkTarget !== undefined ? { linkTarget: record.linkTarget.slice(prefix.length) } : {})
    }))
    if (set.sha256 !== '' && setDigest(records) !== set.sha256) {
      throw new ChecksumMismatchError(`the results of ${set.path} differ from what the worker kept (set digest ${setDigest(records)}, expected ${set.sha256}); fetch them again with "cloudai results ${stream.taskId}"`)
    }
    const tops = await readdir(join(staging, String(index))).catch(() => [])
    const destination = destinations[index]
    if (tops.length === 0 || destination === undefined) {
      landed.push({ ...set })
      continue
    }
    await mkdir(dirname(destination), { recursive: true })
    if (await exists(destination)) throw new ResultsExistError(`${destination} appeared while the results were downloading: nothing was overwritten; the results are in ${staging}`)
    await moveInto(join(staging, String(index), tops[0] as string), destination)
    landed.push({ ...set, local: destination })
  }
  await rm(staging, { recursive: true, force: true })
  return landed
}

/** Rename, or copy and remove where the two are on different filesystems. */
async function moveInto (from: string, to: string): Promise<void> {
  try {
    await rename(from, to)
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code !== 'EXDEV') throw err
    await cp(from, to, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true })
    await rm(from, { recursive: true, force: true })
  }
}
