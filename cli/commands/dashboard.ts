import { spawn } from 'node:child_process'
import { requireApi, type ClientOptions } from '../client.ts'
import { printJson, type Printer } from '../render.ts'

interface LoginUrl {
  url: string
  expiresAt: string
}

/** Start the system's URL opener, detached; whether it could be started. */
async function openInBrowser (url: string): Promise<boolean> {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
  return await new Promise<boolean>(resolve => {
    try {
      const child = spawn(opener, [url], { detached: true, stdio: 'ignore' })
      child.once('error', () => { resolve(false) })
      child.once('spawn', () => { child.unref(); resolve(true) })
    } catch {
      resolve(false)
    }
  })
}

/**
 * `cloudai dashboard`: ask the daemon for a single-use login URL. Opening it exchanges the
 * token for a session cookie and leaves the token behind (the browser is sent on to `/`).
 */
export async function dashboard (options: ClientOptions & { open?: boolean, json?: boolean }, print: Printer): Promise<void> {
  const client = await requireApi(options)
  const login = await client.request<LoginUrl>('POST', '/v1/dashboard/login')
  const opened = options.open === true ? await openInBrowser(login.url) : undefined
  if (options.json === true) {
    printJson(print, { ...login, ...(opened != null ? { opened } : {}) })
    return
  }
  print.out(login.url)
  print.err(`Open this URL in a browser on this machine: it logs in once (until ${login.expiresAt}).`)
  const port = new URL(login.url).port
  print.err(`From another machine: ssh -L ${port}:127.0.0.1:${port} <this host>, then open the same URL there.`)
  if (opened === false) print.err('Could not start a browser here (no xdg-open?): open the URL yourself.')
}
