import { randomBytes } from 'node:crypto'
import { link, open, rename, unlink } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'

export interface WriteAtomicOptions {
  mode: number
  /** When false, fail with EEXIST instead of replacing an existing file. */
  overwrite?: boolean
}

/**
 * Write a file so that readers see either nothing or the whole content, with its
 * final mode from the first byte (a secret is never briefly world-readable).
 */
export async function writeFileAtomic (path: string, content: string | Uint8Array, options: WriteAtomicOptions): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(temp, 'wx', options.mode)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    if (options.overwrite === false) {
      // link() fails with EEXIST where rename() would silently replace.
      await link(temp, path)
      await unlink(temp)
    } else {
      await rename(temp, path)
    }
  } catch (err) {
    await unlink(temp).catch(() => {})
    throw err
  }
}
