/**
 * The dashboard, measured in a real browser (Debian's chromium, headless) on two daemons with
 * the real engine: "alpha" (whose dashboard is open) sends tasks to "beta".
 *
 * - First contentful paint of the dashboard (the mesh page), against that of a static page
 *   from the same server (the "not logged in" page: no script, no data), in the same browser.
 * - The delay from a state change on the worker (the event's time, stamped by beta) to its
 *   appearance on alpha's task page in the browser (the badge's change, seen by a
 *   MutationObserver), median of 20 tasks; against the same event's arrival at a plain API
 *   client of alpha (the NDJSON stream the CLI reads), read at the same time in this process.
 *   Both clocks are this machine's.
 * - alpha's resident set with the dashboard open (the tasks page, following the live feed)
 *   against closed.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { readApiFile } from '../../node/src/api/api-file.ts'
import { launchBrowser } from '../../test/helpers/browser.ts'
import { initNodes, runCli, startDaemonProcess, type DaemonProcess } from '../../test/helpers/cli.ts'
import { tempDir, waitFor } from '../../test/helpers/env.ts'
import { isQuick } from './quick.ts'
import type { BenchRow } from './report.ts'
import { BENCH_IMAGE, median } from './task-latency.ts'
import { rssMiB } from './daemon-usage.ts'

/** Tasks whose state change is timed (`--quick`: fewer; read when the benchmark runs, after run.ts has set it). */
const tasksTimed = (): number => isQuick() ? 5 : 20
/** A task's life after RUNNING: long enough for its page to be open before it ends. */
const TASK_SECONDS = 1
const LIMIT_MS = 30_000
/** Before each RSS reading (`--quick`: shorter; both readings wait the same). */
const settleMs = (): number => isQuick() ? 2_000 : 5_000

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

export async function dashboardBench (): Promise<BenchRow[]> {
  const dir = await tempDir('cloudai-bench-dashboard-')
  const daemons: DaemonProcess[] = []
  const tag = `bench-${randomBytes(4).toString('hex')}`
  let close = async (): Promise<void> => {}
  try {
    const { dataDirs } = await initNodes(dir.path, ['alpha', 'beta'] as const)
    daemons.push(await startDaemonProcess(dataDirs.alpha, ['--name', 'alpha', '--mdns-tag', tag]))
    daemons.push(await startDaemonProcess(dataDirs.beta, ['--name', 'beta', '--mdns-tag', tag]))
    const api = (await readApiFile(dataDirs.alpha))!
    const ready = await waitFor(async () => {
      const peers = await runCli(['--data-dir', dataDirs.alpha, 'peers', '--json'])
      return peers.code === 0 && (JSON.parse(peers.stdout) as any[]).some(peer => peer.name === 'beta' && peer.reachable === true)
    }, LIMIT_MS, 200)
    if (!ready) throw new Error('alpha never saw beta')
    const alphaPid = daemons[0].child.pid!
    await sleep(settleMs())
    const rssClosed = await rssMiB(alphaPid)

    const browser = await launchBrowser(join(dir.path, 'profile'), [api.url])
    close = browser.close
    const page = await browser.context.newPage()
    // Every change of a task page's state badge, with when it happened.
    await page.addInitScript(() => {
      const seen: Record<string, number> = {}
      ;(window as any).seen = seen
      new MutationObserver(records => {
        for (const record of records) {
          const target = record.target as HTMLElement
          if (target.id === 'task-state' && target.dataset.state != null) seen[`${location.hash}|${target.dataset.state}`] ??= Date.now()
        }
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] })
    })

    // First paint: the static page (no session yet), then the dashboard after logging in.
    const paint = async (): Promise<number> => await page.evaluate(async () => await new Promise<number>(resolve => {
      new PerformanceObserver(list => {
        const entry = list.getEntries().find(e => e.name === 'first-contentful-paint')
        if (entry != null) resolve(entry.startTime)
      }).observe({ type: 'paint', buffered: true })
    }))
    await page.goto(`${api.url}/`)
    const staticPaint = await paint()
    const login = await runCli(['--data-dir', dataDirs.alpha, 'dashboard'])
    await page.goto(login.stdout.trim())
    await page.waitForSelector('#members article')
    const dashboardPaint = await paint()

    // State changes on beta, seen by the browser and by an API client.
    const timed = tasksTimed()
    const browserDelays: number[] = []
    const apiDelays: number[] = []
    for (let i = 0; i < timed; i++) {
      const res = await fetch(`${api.url}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ target: 'beta', image: BENCH_IMAGE, command: ['sleep', String(TASK_SECONDS)], resources: { cpu: 0.1, memoryBytes: 16 * 2 ** 20, storageBytes: 2 ** 20, gpus: 0 } }),
        signal: AbortSignal.timeout(LIMIT_MS)
      })
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
      let buffered = ''
      let taskId = ''
      let ended: { time: number, arrived: number } | undefined
      while (ended == null) {
        const { done, value } = await reader.read()
        if (done) break
        const arrived = Date.now()
        buffered += value
        let newline: number
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = JSON.parse(buffered.slice(0, newline))
          buffered = buffered.slice(newline + 1)
          if (line.accepted != null) {
            taskId = line.accepted.taskId
            await page.evaluate(id => { location.hash = `#/task/${id}` }, taskId)
          }
          if (line.event?.state === 'SUCCEEDED') ended = { time: Date.parse(line.event.time), arrived }
        }
      }
      await reader.cancel().catch(() => {})
      if (ended == null) throw new Error(`task ${taskId} did not succeed`)
      const key = `#/task/${taskId}|SUCCEEDED`
      await page.waitForFunction(k => (window as any).seen[k] != null, key, { timeout: LIMIT_MS })
      browserDelays.push(await page.evaluate(k => (window as any).seen[k] as number, key) - ended.time)
      apiDelays.push(ended.arrived - ended.time)
    }

    await page.evaluate(() => { location.hash = '#/tasks' })
    await page.waitForSelector('#task-rows tr[data-task]')
    await sleep(settleMs())
    const rssOpen = await rssMiB(alphaPid)

    return [
      { name: 'dashboard first contentful paint', value: dashboardPaint, unit: 'ms', baseline: 'a static page from the same server', baselineValue: staticPaint },
      { name: `worker state change → submitter's task page (median of ${timed})`, value: median(browserDelays), unit: 'ms', baseline: 'the same event at an API client (NDJSON)', baselineValue: median(apiDelays) },
      { name: 'daemon RSS with the dashboard open', value: rssOpen, unit: 'MiB', baseline: 'closed', baselineValue: rssClosed }
    ]
  } finally {
    await close()
    for (const daemon of daemons) await daemon.stop()
    await dir.remove()
  }
}
