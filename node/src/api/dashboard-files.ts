import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/**
 * The dashboard's static files: its page and style sheet from `dashboard/` in the source tree,
 * and its scripts as `npm run build` compiled them (plain ES modules in `dist/dashboard/`).
 * Read once, kept in memory (tens of KiB), served by name from an allowlist: a request's path
 * is only ever a key into this map, never a path on disk.
 */
export interface DashboardFile {
  body: Buffer
  contentType: string
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml'
}
/** Names a file may have to be served: no dots but the extension's, no slashes. */
const SERVABLE = /^[a-z0-9-]{1,64}\.(html|css|js|svg)$/

const SOURCE_DIR = fileURLToPath(new URL('../../../../dashboard/', import.meta.url))
const BUILT_DIR = fileURLToPath(new URL('../../../dashboard/', import.meta.url))

async function readServable (dir: string, extensions: string[], into: Map<string, DashboardFile>): Promise<void> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return
  }
  for (const name of names) {
    const extension = name.slice(name.lastIndexOf('.'))
    if (!SERVABLE.test(name) || !extensions.includes(extension)) continue
    into.set(name, { body: await readFile(dir + name), contentType: CONTENT_TYPES[extension] })
  }
}

/** Every file the dashboard serves, by name (`index.html`, `style.css`, `app.js`, …). */
export async function loadDashboardFiles (): Promise<Map<string, DashboardFile>> {
  const files = new Map<string, DashboardFile>()
  await readServable(SOURCE_DIR, ['.html', '.css', '.svg'], files)
  await readServable(BUILT_DIR, ['.js'], files)
  return files
}
