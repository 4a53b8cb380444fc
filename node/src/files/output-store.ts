import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { CloudaiError, toError } from '../errors.ts'
import { extractArchive } from './archive-extract.ts'
import { packTrees } from './archive-pack.ts'
import { setDigest, setTotals, type FileRecord } from './files-digest.ts'
import { OutputLimitError } from './output-limit.ts'

/** One output path as the worker kept it. */
export interface OutputSet {
  path: string
  bytes: number
  files: number
  sha256: string
  /** False: part of it was not kept (`note` says why); never passed off as the whole. */
  complete: boolean
  note: string
}

interface StoredSet extends OutputSet {
  records: FileRecord[]
}

interface Manifest {
  sets: StoredSet[]
}

const MANIFEST = 'manifest.json'

export interface CollectOptions {
  /** The container paths, in the spec's order. */
  paths: string[]
  limitBytes: number
  /** A tar of one path from the container, or undefined when it has no such path. */
  get: (path: string) => Promise<NodeJS.ReadableStream | undefined>
  onProgress?: (bytes: number, files: number) => void
}

/**
 * The outputs a worker kept, one directory per task attempt under `root`
 * (`<task>/<attempt>/<index>/…` and a manifest with every file's digest). Each is written
 * through the archive rules (what a container wrote is as untrusted as any archive), kept
 * with the task's history and deleted with it.
 */
export class OutputStore {
  readonly root: string

  constructor (root: string) {
    this.root = root
  }

  private dirOf (taskId: string, attempt: number): string {
    return join(this.root, taskId, String(attempt))
  }

  /**
   * Collect a finished container's outputs, within `limitBytes` together: each path is
   * extracted and hashed; past the limit, what fit is kept and the set says it is
   * incomplete. A collection that was cut short (the node went down) starts over.
   */
  async collect (taskId: string, attempt: number, options: CollectOptions): Promise<OutputSet[]> {
    const dir = this.dirOf(taskId, attempt)
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const sets: StoredSet[] = []
    let used = 0
    let files = 0
    let limitReached = false
    for (const [index, path] of options.paths.entries()) {
      const records: FileRecord[] = []
      const set = (complete: boolean, note: string): StoredSet => ({ path, ...setTotals(records), sha256: setDigest(records), complete, note, records })
      if (limitReached) {
        sets.push(set(false, 'not collected: the outputs before it reached --output-limit'))
        continue
      }
      const target = join(dir, String(index))
      await mkdir(target)
      let note = ''
      let complete = true
      try {
        const archive = await options.get(path)
        if (archive === undefined) {
          complete = false
          note = 'the container has no such path'
        } else {
          const base = used
          const result = await extractArchive(archive as Readable, target, {
            maxBytes: options.limitBytes - used,
            what: `the outputs of ${path}`,
            records,
            tooLarge: (declared, _max, entry) => OutputLimitError.crossing(base + declared, options.limitBytes, entry, path),
            onProgress: (bytes, count) => { options.onProgress?.(base + bytes, files + count) }
          })
          if (result.skipped.length > 0) note = result.skipped.slice(0, 5).join('; ') + (result.skipped.length > 5 ? `; and ${result.skipped.length - 5} more` : '')
        }
      } catch (err) {
        const error = toError(err)
        complete = false
        note = error instanceof CloudaiError ? error.message : `could not collect: ${error.message}`
        if (error instanceof OutputLimitError) limitReached = true
      }
      const stored = set(complete, note)
      used += stored.bytes
      files += stored.files
      sets.push(stored)
    }
    const manifest: Manifest = { sets }
    await writeFile(join(dir, `${MANIFEST}.tmp`), JSON.stringify(manifest), { mode: 0o600 })
    await rename(join(dir, `${MANIFEST}.tmp`), join(dir, MANIFEST))
    return sets.map(({ records, ...summary }) => summary)
  }

  /** What was kept of an attempt's outputs, or undefined when nothing is (none asked, not collected yet, or pruned). */
  async sets (taskId: string, attempt: number): Promise<OutputSet[] | undefined> {
    const manifest = await this.manifest(taskId, attempt)
    return manifest?.sets.map(({ records, ...summary }) => summary)
  }

  private async manifest (taskId: string, attempt: number): Promise<Manifest | undefined> {
    const text = await readFile(join(this.dirOf(taskId, attempt), MANIFEST), 'utf8').catch(() => undefined)
    return text === undefined ? undefined : JSON.parse(text) as Manifest
  }

  /**
   * The kept outputs as one tar, each set under its index (`0/out/…`), every file with
   * its digest, read from disk as it is sent.
   */
  async archive (taskId: string, attempt: number): Promise<{ sets: OutputSet[], archive: Readable } | undefined> {
    const manifest = await this.manifest(taskId, attempt)
    if (manifest === undefined) return undefined
    const digests = new Map<string, string>()
    const sources: Array<{ diskPath: string, archivePath: string }> = []
    const dir = this.dirOf(taskId, attempt)
    for (const [index, set] of manifest.sets.entries()) {
      for (const record of set.records) if (record.kind === 'file' && record.sha256 !== undefined) digests.set(`${index}/${record.path}`, record.sha256)
      const tops = await readdir(join(dir, String(index))).catch(() => [])
      for (const top of tops.sort()) sources.push({ diskPath: join(dir, String(index), top), archivePath: `${index}/${top}` })
    }
    return {
      sets: manifest.sets.map(({ records, ...summary }) => summary),
      archive: packTrees(sources, { symlinks: 'keep', digestOf: path => digests.get(path) })
    }
  }

  /** Forget every attempt's outputs of a task (it left the history). */
  async remove (taskId: string): Promise<void> {
    await rm(join(this.root, taskId), { recursive: true, force: true })
  }

  /** Task ids with outputs kept. */
  async taskIds (): Promise<string[]> {
    return await readdir(this.root).catch(() => [])
  }

  /** Bytes of file content kept for one task (all attempts). */
  async bytesOf (taskId: string): Promise<number> {
    let total = 0
    const attempts = await readdir(join(this.root, taskId)).catch(() => [])
    for (const attempt of attempts) {
      const manifest = await this.manifest(taskId, Number(attempt))
      for (const set of manifest?.sets ?? []) total += set.bytes
    }
    return total
  }

  /** Whether anything is kept for a task, by a quick look at its directory. */
  async has (taskId: string): Promise<boolean> {
    return await stat(join(this.root, taskId)).then(() => true, () => false)
  }
}
