import { createHash } from 'node:crypto'

/** One entry of a set of files, as both ends record it. */
export interface FileRecord {
  /** Relative to the set's root. */
  path: string
  kind: 'file' | 'directory' | 'symlink' | 'link'
  size: number
  /** Files and hard links: the content's SHA-256 (hex). */
  sha256?: string
  /** Symlinks: the target as written; hard links: the path they name. */
  linkTarget?: string
}

/**
 * One digest for a whole set: over every entry's path, kind and content digest (or link
 * target), in path order. The worker computes it from what it kept, the submitter from what
 * landed: equal digests mean the same tree, file for file, byte for byte.
 */
export function setDigest (records: Iterable<FileRecord>): string {
  // A hard link is its file's content under another name: the receiving end, reading the
  // tree back from disk, sees a plain file there, so both count it as one.
  const lines = [...records].map(record => `${record.kind === 'link' ? 'file' : record.kind}\0${record.path}\0${record.sha256 ?? record.linkTarget ?? ''}\n`)
  lines.sort()
  const hash = createHash('sha256')
  for (const line of lines) hash.update(line)
  return hash.digest('hex')
}

/** Bytes and files of a set, as summaries show them. */
export function setTotals (records: Iterable<FileRecord>): { bytes: number, files: number } {
  let bytes = 0
  let files = 0
  for (const record of records) {
    if (record.kind === 'file') { bytes += record.size; files++ }
  }
  return { bytes, files }
}
