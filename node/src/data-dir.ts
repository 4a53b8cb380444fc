import { mkdir } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** `--data-dir`, else `$CLOUDAI_HOME`, else `~/.cloudai` (docs/architecture.md, "API and command line"). */
export function resolveDataDir (flag?: string): string {
  if (flag != null && flag !== '') return resolve(flag)
  const fromEnv = process.env.CLOUDAI_HOME
  if (fromEnv != null && fromEnv !== '') return resolve(fromEnv)
  return join(homedir(), '.cloudai')
}

/** Create the data dir (mode 0700: it holds the identity and the cluster key). */
export async function ensureDataDir (dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
}
