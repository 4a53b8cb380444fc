import { chromium, type BrowserContext } from 'playwright-core'
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'

/** Debian's chromium (scripts/ensure-browser.sh installs it); never a browser playwright downloads. */
export const CHROMIUM = '/usr/bin/chromium'
/** Screenshots the browser tests save, for a person to look at (gitignored). */
export const ARTIFACTS = resolve(import.meta.dirname, '../../../test-artifacts')

export interface TestBrowser {
  context: BrowserContext
  /** Every request the pages tried outside the allowed origins (each was refused). */
  refused: string[]
  close(): Promise<void>
}

/**
 * A headless Chromium with a fresh profile in `profileDir`, whose pages may reach only
 * `origins` (the daemons' loopback APIs; read at each request, so they may be added once
 * known): any other request is aborted and recorded, and
 * host names resolve to nothing, so the dashboard is seen to fetch nothing from elsewhere.
 */
export async function launchBrowser (profileDir: string, origins: string[]): Promise<TestBrowser> {
  await mkdir(ARTIFACTS, { recursive: true })
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    // Playwright's own default is 3 minutes: a browser that cannot start says so sooner.
    timeout: 30_000,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost']
  })
  const refused: string[] = []
  await context.route('**/*', async route => {
    const url = route.request().url()
    if (origins.some(origin => url === origin || url.startsWith(`${origin}/`))) await route.continue()
    else {
      refused.push(url)
      await route.abort('blockedbyclient')
    }
  })
  return { context, refused, close: async () => { await context.close() } }
}

export function artifact (name: string): string {
  return join(ARTIFACTS, name)
}
