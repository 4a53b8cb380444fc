import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { Page } from 'playwright-core'
import { readApiFile } from '../../node/src/api/api-file.ts'
import { artifact, launchBrowser, type TestBrowser } from '../helpers/browser.ts'
import { type DaemonProcess, initNodes, runCli, startDaemonProcess } from '../helpers/cli.ts'
import { docker, ensureTestImage, IMAGE, removeTaskContainers } from '../helpers/docker.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'
import { startPrometheus, type PrometheusServer } from '../helpers/prometheus.ts'

/**
 * The dashboard in a real browser (Debian's chromium, headless), on real daemons with the real
 * engine: "alpha" (whose dashboard is used) and "beta" (one CPU, so a second one-CPU task
 * queues there). A real Prometheus scrapes alpha's /metrics with its token throughout.
 * What is asserted is what a person sees in the pages, and what the API answers.
 */

const BOUND_MS = 30_000
const TASK_ID = /[a-z0-9]+-[0-9a-f]{12}/

let dir: { path: string, remove: () => Promise<void> }
const tag = mdnsTag()
const dataDirs = { alpha: '', beta: '' }
const nodeIds = { alpha: '', beta: '' }
const daemons: DaemonProcess[] = []
let api = { url: '', token: '' }
let browser: TestBrowser
let prometheus: PrometheusServer | undefined
/** Task ids the browser flow made, for the later checks. */
const made = { blocker: '', submitted: '' }

async function cli (node: 'alpha' | 'beta', args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await runCli(['--data-dir', dataDirs[node], ...args], { timeoutMs: BOUND_MS })
}

async function loginUrl (): Promise<string> {
  const printed = await cli('alpha', ['dashboard', '--json'])
  assert.equal(printed.code, 0, printed.stderr)
  const { url } = JSON.parse(printed.stdout) as { url: string }
  assert.match(url, new RegExp(`^${api.url}/login\\?token=[A-Za-z0-9_-]{43}$`))
  return url
}

async function stateOf (taskId: string): Promise<string> {
  const status = await cli('alpha', ['status', taskId, '--json'])
  return status.code === 0 ? (JSON.parse(status.stdout) as { state: string }).state : ''
}

before(async () => {
  requireTestNamespace()
  dir = await tempDir()
  // The browser starts while the daemons do; it may reach alpha's API once its address is known.
  const origins: string[] = []
  const launching = launchBrowser(join(dir.path, 'profile'), origins)
  const [nodes] = await Promise.all([initNodes(dir.path, ['alpha', 'beta'] as const), ensureTestImage()])
  Object.assign(dataDirs, nodes.dataDirs)
  Object.assign(nodeIds, nodes.peerIds)
  const [alpha, beta] = await Promise.all([
    // Status every second: the mesh page shows beta's load as soon as the next mesh view is sent.
    startDaemonProcess(dataDirs.alpha, ['--name', 'alpha', '--mdns-tag', tag, '--cpu', '2', '--status-interval', '1s', '--metrics-listen', '127.0.0.1:0']),
    startDaemonProcess(dataDirs.beta, ['--name', 'beta', '--mdns-tag', tag, '--cpu', '1', '--label', 'zone=x', '--status-interval', '1s'])
  ])
  daemons.push(alpha, beta)
  const file = await readApiFile(dataDirs.alpha)
  assert.ok(file != null)
  api = file
  origins.push(api.url)
  browser = await launching
  prometheus = await startPrometheus(dir.path, new URL(api.url).host, api.token)
  assert.ok(await waitFor(async () => {
    const peers = await cli('alpha', ['peers', '--json'])
    return peers.code === 0 && (JSON.parse(peers.stdout) as any[]).some(peer => peer.name === 'beta' && peer.reachable === true)
  }, BOUND_MS, 200), 'alpha never saw beta')
})

after(async () => {
  await browser?.close()
  await prometheus?.stop()
  for (const daemon of daemons) await daemon.stop('SIGKILL')
  await removeTaskContainers(Object.values(nodeIds).filter(id => id !== ''))
  await dir?.remove()
})

/** The badge on a task's page reaches `state` (the page is never reloaded: the live feed moves it). */
async function badge (page: Page, state: string): Promise<void> {
  await page.waitForSelector(`#task-state[data-state="${state}"]`, { timeout: BOUND_MS })
}

describe('the dashboard in Chromium', () => {
  let page: Page

  test('the printed URL logs the browser in once: a session cookie (HttpOnly, SameSite=Strict), and no token in the page or its address', async () => {
    const url = await loginUrl()
    page = await browser.context.newPage()
    const response = await page.goto(url)
    assert.equal(response?.status(), 200)
    assert.equal(page.url(), `${api.url}/`)
    const token = new URL(url).searchParams.get('token')!
    assert.ok(!(await page.content()).includes(token))
    const cookies = await browser.context.cookies(api.url)
    assert.equal(cookies.length, 1)
    assert.equal(cookies[0].httpOnly, true)
    assert.equal(cookies[0].sameSite, 'Strict')
    assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session')
    // The same URL again: refused, for this browser and any other.
    const again = await page.goto(url)
    assert.equal(again?.status(), 401)
    assert.match(await page.content(), /cloudai dashboard/)
    const elsewhere = await fetch(url, { redirect: 'manual' })
    assert.equal(elsewhere.status, 401)
    assert.equal(elsewhere.headers.get('set-cookie'), null)
    // Without --json: the URL alone on stdout (for scripts), how to use it on stderr.
    const port = new URL(api.url).port
    const human = await cli('alpha', ['dashboard'])
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, new RegExp(`^${api.url}/login\\?token=[A-Za-z0-9_-]{43}\n$`))
    assert.match(human.stderr, new RegExp(`ssh -L ${port}:127\\.0\\.0\\.1:${port} `))
  })

  test('mesh: the other daemon with its bars, load and labels', async () => {
    // A task holding beta's only CPU: beta's CPU bar is full and a second one-CPU task waits there.
    const blocker = await cli('alpha', ['task', 'beta', IMAGE, '--cpu', '1', '--memory', '64m', '--detach', '--', 'sh', '-c', 'trap "exit 143" TERM; echo holding the cpu; sleep 120 & wait'])
    assert.equal(blocker.code, 0, blocker.stderr)
    made.blocker = TASK_ID.exec(blocker.stdout + blocker.stderr)![0]
    assert.ok(await waitFor(async () => await stateOf(made.blocker) === 'RUNNING', BOUND_MS, 200), 'the blocker never ran')

    await page.goto(`${api.url}/#/mesh`)
    const beta = page.locator(`article[data-peer="${nodeIds.beta}"]`)
    await beta.locator('.badge.ok').waitFor({ timeout: BOUND_MS })
    // The mesh view arrives every 2 s over the live feed: wait for the one that shows the blocker.
    await beta.locator('[data-resource="cpu"][aria-valuenow="100"]').waitFor({ timeout: BOUND_MS })
    const text = await beta.innerText()
    assert.match(text, /^beta$/m)
    assert.match(text, /1 running, 0 queued/)
    assert.match(text, /zone=x/)
    assert.match(text, /1 cores \/ 1 cores/)
    assert.match(text, /64 MiB \/ /)
    for (const resource of ['cpu', 'memory', 'storage', 'gpu']) assert.equal(await beta.locator(`[data-resource="${resource}"]`).count(), 1)
    assert.match(await page.locator(`article[data-peer="${nodeIds.alpha}"]`).innerText(), /alpha \(this node\)/)
    await page.screenshot({ path: artifact('dashboard-mesh.png'), fullPage: true })

    // Dark when the system is; and on a phone's screen, nothing wider than the screen.
    const background = async (): Promise<string> => await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    const light = await background()
    await page.emulateMedia({ colorScheme: 'dark' })
    assert.notEqual(await background(), light)
    await page.setViewportSize({ width: 390, height: 844 })
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'the mesh page is wider than a phone')
    await page.screenshot({ path: artifact('dashboard-mesh-phone-dark.png'), fullPage: true })
    await page.setViewportSize({ width: 1280, height: 900 })
    await page.emulateMedia({ colorScheme: 'light' })
  })

  test('submit from the form: where auto would go, then QUEUED → RUNNING → SUCCEEDED live, output while it runs; cancel from a task\'s page', async () => {
    await page.goto(`${api.url}/#/submit`)
    await page.fill('#image', IMAGE)
    // Between its two lines the task waits for a file this test puts into its container: it is
    // seen running, with the first line shown, for as long as the test needs.
    await page.fill('#command', 'sh -c "echo first line; printf \'caf\\303\\251 \\t tab\\n\' >&2; until [ -e /tmp/go ]; do sleep 0.1; done; echo last line"')
    await page.fill('#timeout', '2m')
    await page.fill('#cpu', '1')
    await page.fill('#memory', '64m')
    // auto: the explanation names the candidate it would choose (alpha, whose CPUs are free).
    await page.waitForSelector('#explain-choice', { timeout: BOUND_MS })
    assert.match(await page.locator('#explain-choice').innerText(), /Would run on alpha/)
    await page.screenshot({ path: artifact('dashboard-submit.png'), fullPage: true })
    await page.selectOption('#peer', nodeIds.beta)
    await page.waitForFunction(() => document.querySelector('#explain')?.textContent?.includes('directly') === true)
    await page.evaluate(() => { (window as any).notReloaded = true })
    // By keyboard: Enter in a field sends the form.
    await page.focus('#command')
    await page.keyboard.press('Enter')
    await page.waitForURL(/#\/task\//, { timeout: BOUND_MS })
    made.submitted = decodeURIComponent(page.url().split('#/task/')[1])
    assert.match(made.submitted, TASK_ID)
    await badge(page, 'QUEUED')
    assert.match(await page.locator('#state-changes').innerText(), /position 1 in the queue/)

    // A second tab: the blocker's page, cancelled with its button.
    const other = await browser.context.newPage()
    await other.goto(`${api.url}/#/task/${made.blocker}`)
    await badge(other, 'RUNNING')
    await other.locator('#stdout').getByText('holding the cpu').waitFor({ timeout: BOUND_MS })
    await other.focus('#cancel')
    await other.keyboard.press('Enter')
    await badge(other, 'CANCELLED')
    assert.match(await other.locator('#notice').innerText(), /Cancelled/)
    assert.equal(await other.locator('#cancel').isDisabled(), true)
    await other.screenshot({ path: artifact('dashboard-task-cancelled.png'), fullPage: true })
    await other.close()

    // The queued task starts once the CPU is free; its first line shows while it still runs.
    await page.locator('#stdout').getByText('first line').waitFor({ timeout: BOUND_MS })
    assert.equal(await page.locator('#task-state').getAttribute('data-state'), 'RUNNING', 'the output appeared while the task ran')
    assert.equal(await page.locator('#stdout').evaluate(pre => pre.textContent), 'first line\n')
    await page.waitForFunction(() => document.querySelector('#stderr')?.textContent === 'café \t tab\n', undefined, { timeout: BOUND_MS })
    const status = await cli('alpha', ['status', made.submitted, '--json'])
    const containerId = (JSON.parse(status.stdout) as { events: Array<{ containerId?: string }> }).events.find(event => event.containerId != null)?.containerId
    assert.ok(containerId != null, status.stdout)
    await docker(['exec', containerId, 'touch', '/tmp/go'])
    await badge(page, 'SUCCEEDED')
    assert.equal(await page.evaluate(() => (window as any).notReloaded), true, 'the page was never reloaded')
    // Byte for byte, each stream apart (UTF-8 and a tab intact).
    assert.equal(await page.locator('#stdout').evaluate(pre => pre.textContent), 'first line\nlast line\n')
    assert.equal(await page.locator('#stderr').evaluate(pre => pre.textContent), 'café \t tab\n')
    const states = await page.locator('#state-changes tr[data-state]').evaluateAll(rows => rows.map(row => row.getAttribute('data-state')))
    assert.deepEqual(states.filter((s, i) => s !== states[i - 1]).filter(s => ['QUEUED', 'RUNNING', 'SUCCEEDED'].includes(s!)), ['QUEUED', 'RUNNING', 'SUCCEEDED'])
    await page.locator('[data-fact="exit-code"]').getByText('0').waitFor({ timeout: BOUND_MS })
    await page.screenshot({ path: artifact('dashboard-task.png'), fullPage: true })
  })

  test('tasks: newest first, filters by state, peer and image, search by id prefix, a timeline', async () => {
    // 600,000 bytes of output: three pages on its task page; and a result file it keeps.
    const local = await cli('alpha', ['task', 'self', IMAGE, '--cpu', '0.1', '--memory', '16m', '--json', '--output', `/out:${join(dir.path, 'results')}`, '--',
      'sh', '-c', 'mkdir -p /out && echo kept > /out/result.txt && head -c 600000 /dev/zero | tr "\\0" a'])
    assert.equal(local.code, 0, local.stderr)
    const localId = TASK_ID.exec(local.stdout)![0]
    await page.goto(`${api.url}/#/tasks`)
    const rows = page.locator('#task-rows tr[data-task]')
    await page.waitForFunction(() => document.querySelectorAll('#task-rows tr[data-task]').length === 3, undefined, { timeout: BOUND_MS })
    const ids = await rows.evaluateAll(list => list.map(row => row.getAttribute('data-task')))
    assert.equal(ids[1], made.submitted)
    assert.equal(ids[2], made.blocker)
    assert.equal(await page.locator('#timeline svg rect.tl').count(), 3)

    await page.selectOption('#filter-state', 'CANCELLED')
    await page.waitForFunction(id => [...document.querySelectorAll('#task-rows tr[data-task]')].map(r => r.getAttribute('data-task')).join() === id, made.blocker, { timeout: BOUND_MS })
    await page.selectOption('#filter-state', '')
    await page.selectOption('#filter-peer', 'beta')
    await page.waitForFunction(() => document.querySelectorAll('#task-rows tr[data-task]').length === 2, undefined, { timeout: BOUND_MS })
    await page.selectOption('#filter-peer', '')
    await page.fill('#filter-image', 'no-such-image')
    await page.waitForFunction(() => document.querySelectorAll('#task-rows tr[data-task]').length === 0, undefined, { timeout: BOUND_MS })
    await page.fill('#filter-image', 'busybox')
    await page.fill('#search', made.submitted.slice(0, 12))
    await page.waitForFunction(id => [...document.querySelectorAll('#task-rows tr[data-task]')].map(r => r.getAttribute('data-task')).join() === id, made.submitted, { timeout: BOUND_MS })
    assert.match(page.url(), new RegExp(`#/tasks\\?image=busybox&q=${made.submitted.slice(0, 12)}$`))
    await page.fill('#search', '')

    // Large output, a page at a time: the last page first, then earlier ones.
    await page.goto(`${api.url}/#/task/${localId}`)
    await badge(page, 'SUCCEEDED')
    const pager = page.locator('section[aria-label="stdout"] .pager')
    await pager.getByText('page 3 of 3').waitFor({ timeout: BOUND_MS })
    assert.match(await pager.innerText(), /586 KiB/)
    assert.equal(await page.locator('#stdout').evaluate(pre => pre.textContent), 'a'.repeat(600_000 - 2 * 256 * 1024))
    await pager.getByRole('button', { name: '← Earlier' }).click()
    await pager.getByText('page 2 of 3').waitFor({ timeout: BOUND_MS })
    assert.equal(await page.locator('#stdout').evaluate(pre => pre.textContent?.length), 256 * 1024)
    // Its results: what the worker kept, and how to fetch them.
    assert.match(await page.locator('#results [data-output="/out"]').innerText(), /^\/out: 1 file, 5 B, sha256 [0-9a-f]{16}…, complete$/)
    assert.match(await page.locator('#results').innerText(), new RegExp(`cloudai results ${localId}`))
    assert.equal(await readFile(join(dir.path, 'results', 'result.txt'), 'utf8'), 'kept\n')
    await page.goto(`${api.url}/#/tasks`)
    await page.waitForFunction(() => document.querySelectorAll('#task-rows tr[data-task]').length === 3, undefined, { timeout: BOUND_MS })

    // Live: a task sent from the CLI appears without a reload.
    const live = await cli('alpha', ['task', 'beta', IMAGE, '--cpu', '0.1', '--memory', '16m', '--detach', '--', 'true'])
    assert.equal(live.code, 0, live.stderr)
    const liveId = TASK_ID.exec(live.stdout + live.stderr)![0]
    await page.locator(`#task-rows tr[data-task="${liveId}"]`).waitFor({ timeout: BOUND_MS })
    await page.screenshot({ path: artifact('dashboard-tasks.png'), fullPage: true })
    assert.deepEqual(browser.refused, [], 'the pages asked for nothing beyond the daemon')
  })
})

describe('the API\'s guard', () => {
  const routes: Array<[string, string]> = [
    ['GET', '/'], ['GET', '/index.html'], ['GET', '/assets/app.js'], ['GET', '/assets/style.css'], ['GET', '/login'],
    ['GET', '/v1/id'], ['GET', '/v1/peers'], ['GET', '/v1/tasks'], ['GET', '/v1/tasks/x'], ['GET', '/v1/tasks/x/events'],
    ['GET', '/v1/dashboard/mesh'], ['GET', '/v1/dashboard/live'], ['GET', '/metrics'], ['GET', '/no-such-route'],
    ['POST', '/v1/tasks'], ['POST', '/v1/tasks/copies'], ['POST', '/v1/placement'], ['POST', '/v1/prune'], ['POST', '/v1/connect'],
    ['POST', '/v1/tasks/x/cancel'], ['POST', '/v1/dashboard/login']
  ]

  test('without the token or a session cookie, every API and dashboard route answers 401, with no CORS headers', async () => {
    for (const [method, path] of routes) {
      const variants: Array<Record<string, string>> = [{}, { cookie: `cloudai_session_${new URL(api.url).port}=forged` }, { authorization: 'Bearer wrong', origin: 'http://evil.example' }]
      for (const headers of variants) {
        const res = await fetch(api.url + path, { method, headers, redirect: 'manual' })
        assert.equal(res.status, 401, `${method} ${path} with ${JSON.stringify(headers)}`)
        assert.equal(res.headers.get('access-control-allow-origin'), null)
        await res.body?.cancel()
      }
    }
  })

  test('a wrong Host header is refused, even with the token; a browser session cannot be used from another origin', async () => {
    for (const host of ['evil.example', 'evil.example:80', 'localhost.evil.example', '127.0.0.1.evil.example', '[::2]:80']) {
      const status = await new Promise<number>((resolve, reject) => {
        // fetch sets Host itself: a raw request says what a rebinding page's browser would.
        const request = spawn('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Host: ${host}`, '-H', `authorization: Bearer ${api.token}`, `${api.url}/v1/id`])
        let out = ''
        request.stdout.on('data', chunk => { out += chunk })
        request.on('error', reject)
        request.on('close', () => { resolve(Number(out)) })
      })
      assert.equal(status, 421, `Host: ${host}`)
    }
    const [cookie] = await browser.context.cookies(api.url)
    const sessionHeader = `${cookie.name}=${cookie.value}`
    const fromElsewhere = await fetch(`${api.url}/v1/prune`, { method: 'POST', headers: { cookie: sessionHeader, origin: 'http://evil.example' }, body: '{}' })
    assert.equal(fromElsewhere.status, 403)
    const read = await fetch(`${api.url}/v1/id`, { headers: { cookie: sessionHeader } })
    assert.equal(read.status, 200)
  })

  test('/metrics passes promtool, carries no task ids, and a real Prometheus records the task counters moving', async () => {
    const res = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${api.token}` } })
    assert.equal(res.status, 200)
    const text = await res.text()
    const check = await new Promise<{ code: number | null, output: string }>(resolve => {
      const promtool = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
      let output = ''
      promtool.stdout.on('data', chunk => { output += chunk })
      promtool.stderr.on('data', chunk => { output += chunk })
      promtool.on('close', code => { resolve({ code, output }) })
      promtool.stdin.end(text)
    })
    assert.equal(check.code, 0, check.output)
    assert.doesNotMatch(text, TASK_ID)
    for (const family of ['cloudai_tasks{', 'cloudai_task_duration_seconds_bucket{', 'cloudai_queue_length ', 'cloudai_capacity_cpu ', 'cloudai_allocated_memory_bytes ',
      'cloudai_task_output_bytes_total{', 'cloudai_peers{health="reachable"} 1', 'cloudai_tasks_finished_total{role="submitted",state="SUCCEEDED"}', 'libp2p_']) {
      assert.ok(text.includes(family), `no ${family} in /metrics`)
    }
    // --metrics-listen: start said so loudly, and that address answers without a token.
    const output = daemons[0].output()
    assert.match(output, /WARNING: --metrics-listen: http:\/\/127\.0\.0\.1:\d+\/metrics answers ANYONE/)
    const openUrl = /WARNING: --metrics-listen: (\S+) answers/.exec(output)![1]
    const open = await fetch(openUrl)
    assert.equal(open.status, 200)
    assert.match(await open.text(), /^cloudai_tasks_finished_total\{role="submitted",state="SUCCEEDED"\} \d/m)
    assert.ok(prometheus != null)
    assert.ok(await prometheus.targetsUp(), 'Prometheus could not scrape the daemon with its token')
    const expr = 'sum(cloudai_tasks_finished_total{role="submitted"})'
    // What the daemon counted when this test began; Prometheus records it within a few scrapes.
    const counted = [...text.matchAll(/^cloudai_tasks_finished_total\{role="submitted",state="\w+"\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
    assert.ok(counted >= 3, `the daemon counted ${counted} finished tasks`)
    assert.ok(await waitFor(async () => Number((await prometheus!.query(expr))[0]?.value[1] ?? 0) >= counted, BOUND_MS, 250), 'Prometheus never recorded what the daemon counted')
    const series = await prometheus.range(expr, 120)
    assert.equal(series.length, 1, `no samples of ${expr}`)
    const values = series[0].values.map(([, value]) => Number(value))
    assert.ok(values.length >= 2, `too few samples: ${values.join(', ')}`)
    assert.ok(values[values.length - 1] > values[0], `the counter did not move while tasks ran: ${values.join(', ')}`)
  })
})

describe('a member that stops answering', () => {
  test('stands out on the mesh page: marked unreachable, first among the peers', async () => {
    const page = await browser.context.newPage()
    await page.goto(`${api.url}/#/mesh`)
    const beta = page.locator(`article[data-peer="${nodeIds.beta}"]`)
    await beta.locator('.badge.ok').waitFor({ timeout: BOUND_MS })
    await daemons[1].stop('SIGKILL')
    await page.locator(`article.unreachable[data-peer="${nodeIds.beta}"] .badge.bad`).waitFor({ timeout: BOUND_MS })
    assert.match(await beta.innerText(), /unreachable/)
    // This node's own card, then the peers in trouble before the rest.
    assert.equal(await page.locator('#members article').nth(1).getAttribute('data-peer'), nodeIds.beta, 'trouble comes first')
    await page.screenshot({ path: artifact('dashboard-mesh-unreachable.png'), fullPage: true })
    await page.close()
  })
})
