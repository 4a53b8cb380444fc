/**
 * The dashboard's entry: one page, routed by the URL's fragment (`#/mesh`, `#/tasks?…`,
 * `#/task/<id>`, `#/submit`), so the daemon serves a single document and the back button works.
 */
import { ApiFailure, getJson, LiveFeed } from './api.ts'
import { el, replace } from './dom.ts'
import { renderMesh } from './mesh-page.ts'
import { renderSubmit } from './submit-page.ts'
import { renderTask } from './task-page.ts'
import { renderTasks } from './tasks-page.ts'

/** What every page gets: the live feed, and where to draw. */
export interface PageContext {
  main: HTMLElement
  live: LiveFeed
  params: URLSearchParams
  /** Go to another page (a fragment route). */
  go: (route: string) => void
}

/** A page draws itself and returns how to stop its work (streams, timers, subscriptions) when left. */
export type Page = (ctx: PageContext, arg: string) => () => void

const ROUTES: Array<[RegExp, string, Page]> = [
  [/^\/mesh$/, 'mesh', renderMesh],
  [/^\/tasks$/, 'tasks', renderTasks],
  [/^\/task\/([^/]+)$/, 'tasks', renderTask],
  [/^\/submit$/, 'submit', renderSubmit]
]

const main = document.getElementById('main')!
const liveStatus = document.getElementById('live')!
const live = new LiveFeed(connected => {
  liveStatus.textContent = connected ? 'live' : 'reconnecting…'
  liveStatus.className = `live ${connected ? 'on' : 'off'}`
  // The feed also fails when the session has ended (the daemon restarted, or 12 hours passed): say so, once.
  if (!connected) {
    getJson('/v1/id').catch((err: unknown) => {
      if (err instanceof ApiFailure && err.status === 401) {
        live.stop()
        liveStatus.textContent = 'logged out'
        replace(main, el('p', { class: 'notice error', role: 'alert' }, err.message))
      }
    })
  }
})
let leave: (() => void) | undefined

function route (): void {
  const hash = location.hash.replace(/^#/, '') || '/mesh'
  const [path, query = ''] = hash.split('?', 2)
  leave?.()
  leave = undefined
  for (const [pattern, nav, page] of ROUTES) {
    const match = pattern.exec(path)
    if (match == null) continue
    for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
      if (link.dataset.page === nav) link.setAttribute('aria-current', 'page')
      else link.removeAttribute('aria-current')
    }
    replace(main)
    leave = page({ main, live, params: new URLSearchParams(query), go: target => { location.hash = target } }, decodeURIComponent(match[1] ?? ''))
    return
  }
  replace(main, el('p', {}, 'No such page. '), el('a', { href: '#/mesh' }, 'Go to the mesh'))
}

window.addEventListener('hashchange', route)
route()
live.start()
getJson<{ name: string, peerId: string }>('/v1/id').then(info => {
  document.getElementById('node-name')!.textContent = `${info.name}`
  document.title = `cloudai · ${info.name}`
}, () => {})
