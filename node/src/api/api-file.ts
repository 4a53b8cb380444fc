import { readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'

/** The file in the data dir that tells local clients where the API listens and its token. */
export const API_FILE = 'api'

export interface ApiEndpoint {
  /** Base URL, e.g. `http://127.0.0.1:7420`. */
  url: string
  token: string
  pid: number
}

export async function writeApiFile (dataDir: string, endpoint: ApiEndpoint): Promise<void> {
  // Loaded here: every CLI command reads this file, only the daemon writes it, and the
  // writer brings node:crypto, a few milliseconds of each command's start-up.
  const { writeFileAtomic } = await import('../files.ts')
  await writeFileAtomic(join(dataDir, API_FILE), JSON.stringify(endpoint) + '\n', { mode: 0o600 })
}

export async function readApiFile (dataDir: string): Promise<ApiEndpoint | undefined> {
  let text: string
  try {
    text = await readFile(join(dataDir, API_FILE), 'utf8')
  } catch (err: any) {
    if (err?.code === 'ENOENT') return undefined
    throw err
  }
  try {
    const parsed = JSON.parse(text)
    if (typeof parsed?.url === 'string' && typeof parsed?.token === 'string') {
      return { url: parsed.url, token: parsed.token, pid: Number(parsed.pid) }
    }
  } catch {}
  return undefined
}

/** Remove the API file, but only if it still describes this daemon (a newer daemon may own it). */
export async function removeApiFile (dataDir: string, token: string): Promise<void> {
  const current = await readApiFile(dataDir).catch(() => undefined)
  if (current?.token === token) await unlink(join(dataDir, API_FILE)).catch(() => {})
}
