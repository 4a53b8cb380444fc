import { chmod, mkdir, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { CloudaiError } from './errors.ts'

/** The identity, the cluster key and the whole task history live here: the node's user alone may enter. */
const DATA_DIR_MODE = 0o700

/** The data dir cannot be made private. */
export class DataDirError extends CloudaiError {
  override readonly code = 'DATA_DIR'
}

/** `--data-dir`, else `$CLOUDAI_HOME`, else `~/.cloudai` (docs/architecture.md, "API and command line"). */
export function resolveDataDir (flag?: string): string {
  if (flag != null && flag !== '') return resolve(flag)
  const fromEnv = process.env.CLOUDAI_HOME
  if (fromEnv != null && fromEnv !== '') return resolve(fromEnv)
  return join(homedir(), '.cloudai')
}

/**
 * Create the data dir with DATA_DIR_MODE, or make an existing one private: one made by hand
 * or by an earlier version may let others read the history. A shared directory (sticky, as
 * /tmp is) is refused rather than closed to the users who share it.
 */
export async function ensureDataDir (dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DATA_DIR_MODE })
  const { mode } = await stat(dir)
  if ((mode & 0o077) === 0) return
  if ((mode & 0o1000) !== 0) {
    throw new DataDirError(`${dir} is a shared directory (sticky, mode ${(mode & 0o7777).toString(8)}): give cloudai a directory of its own with --data-dir or CLOUDAI_HOME`)
  }
  try {
    await chmod(dir, DATA_DIR_MODE)
  } catch (err: any) {
    throw new DataDirError(`the data dir ${dir} can be read by other users and cannot be made private (${err?.message ?? err}): run "chmod 700 ${dir}" as its owner`)
  }
}
