import { posix } from 'node:path'
import { ArchiveRefusedError } from '../errors.ts'

/** Longest entry path we accept: far past what real trees use, small enough to bound every name we hold. */
export const MAX_ENTRY_PATH_LENGTH = 4096

/**
 * An archive entry's name as a relative path inside the archive's root ('' for the root
 * itself), or ArchiveRefusedError: absolute names, `..` components and NUL bytes never
 * become paths, whatever the writer meant.
 */
export function entryPath (name: string): string {
  if (name.length > MAX_ENTRY_PATH_LENGTH) throw new ArchiveRefusedError(`an entry's name is longer than ${MAX_ENTRY_PATH_LENGTH} characters`)
  if (name.includes('\0')) throw new ArchiveRefusedError(`entry "${printable(name)}" has a NUL byte in its name`)
  if (name.startsWith('/')) throw new ArchiveRefusedError(`entry "${printable(name)}" has an absolute path: entries must stay inside the target`)
  const parts = name.split('/').filter(part => part !== '' && part !== '.')
  if (parts.includes('..')) throw new ArchiveRefusedError(`entry "${printable(name)}" climbs out with "..": entries must stay inside the target`)
  return parts.join('/')
}

/** Where a symbolic link at `path` points, inside the root; ArchiveRefusedError when it leaves it. */
export function symlinkTarget (path: string, target: string): string {
  if (target === '' || target.includes('\0')) throw new ArchiveRefusedError(`symbolic link "${printable(path)}" has an empty or NUL-bearing target`)
  if (target.startsWith('/')) throw new ArchiveRefusedError(`symbolic link "${printable(path)}" points to the absolute path "${printable(target)}", outside the target`)
  const resolved = posix.normalize(posix.join(posix.dirname(path), target))
  if (resolved === '..' || resolved.startsWith('../')) throw new ArchiveRefusedError(`symbolic link "${printable(path)}" points to "${printable(target)}", outside the target`)
  return resolved
}

/** A name from an archive, safe to put in a message (control characters escaped, bounded). */
export function printable (text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.slice(0, 200).replace(/[\x00-\x1f\x7f]/g, char => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** Whether `path` is `root` or lies under it (both relative, normalized). */
export function isWithin (path: string, root: string): boolean {
  return root === '' || path === root || path.startsWith(`${root}/`)
}
