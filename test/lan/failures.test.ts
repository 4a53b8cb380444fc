/**
 * The LAN in a box (docs/architecture.md): hosts as network namespaces on a bridge,
 * the mesh they form and a task sent by name; then machines that die and links that break:
 * one daemon per host, the CLI typed on host 1 (the master of every task here), host daemons
 * killed with SIGKILL and restarted on the same data dir, a host's cable pulled at the bridge,
 * and a fifth machine that holds another cluster key. Also measures how fast the mesh forms
 * (4 and 8 hosts) and how fast a killed host is noticed. Needs root.
 */
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import { containersOfTask, ensureTestImage, removeTaskContainers } from '../helpers/docker.ts'
import { waitFor } from '../helpers/env.ts'
import { createLan, lanUnavailable, peerJoinTimes, type Lan } from '../helpers/lan.ts'

const IMAGE = '127.0.0.1:5000/cloudai/busybox:1'
/** The master's loss deadline in the LOST test: short, so that the test sees it. */
const LOST_AFTER_S = 5
/** How long host 3 stays down in the kill-and-restart test (the issue's 5 seconds). */
const DOWN_MS = 5_000
/** How long host 2's link stays cut. */
const CUT_MS = 10_000

interface PeerView { name: string, peerId: string, reachable: boolean, unreachableSince?: string, addrs: string[] }

/** A task that prints `line 1` … `line n`, one a second: complete output is easy to check. */
function counting (n: number): string[] {
  return ['sh', '-c', `for i in $(seq 1 ${n}); do echo line $i; sleep 1; done`]
}
function countingOutput (n: number): string {
  return Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join('')
}

/** Which lines are missing, repeated or out of order, for a message that says what went wrong. */
function describeLines (stdout: string, n: number): string {
  const got = stdout.split('\n').filter(line => line !== '')
  const missing = Array.from({ length: n }, (_, i) => `line ${i + 1}`).filter(line => !got.includes(line))
  const repeated = [...new Set(got.filter((line, i) => got.indexOf(line) !== i))]
  return `missing: [${missing.join(', ')}], repeated: [${repeated.join(', ')}], got ${got.length} lines`
}

async function peersOf (lan: Lan, host: number): Promise<PeerView[]> {
  const result = await lan.cli(host, ['peers', '--json'], { timeoutMs: 10_000 })
  if (result.code !== 0) return []
  try { return JSON.parse(result.stdout) } catch { return [] }
}

async function statusOn (lan: Lan, host: number, taskId: string): Promise<any> {
  const result = await lan.cli(host, ['status', taskId, '--json'], { timeoutMs: 10_000 })
  assert.equal(result.code, 0, `status ${taskId} on host ${host}: exit ${result.code}\n${result.stderr}`)
  return JSON.parse(result.stdout)
}

/** The hosts' names except `host`'s, among hosts 1..n. */
function othersOf (host: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `host-${i + 1}`).filter(name => name !== `host-${host}`)
}

/** Wait (bounded) until `host` lists `name` as reachable (or, with `reachable` false, as unreachable). */
async function untilListed (lan: Lan, host: number, name: string, reachable = true, timeoutMs = 20_000): Promise<boolean> {
  return await waitFor(async () => (await peersOf(lan, host)).some(peer => peer.name === name && peer.reachable === reachable), timeoutMs, 250)
}

/**
 * Start daemons on hosts 1..n at once and measure, from the last one's spawn, until every
 * host lists every other as reachable: by polling `peers --json` (an upper bound, each poll
 * spawns a CLI inside a namespace) and from the daemons' own "peer joined" log lines.
 */
async function formMesh (lan: Lan, n: number, boundMs: number): Promise<{ polledMs: number, joinedMs: number, complete: boolean }> {
  const hosts = lan.hosts.slice(0, n)
  await Promise.all(hosts.map(async h => await lan.startDaemon(h.index)))
  const lastStart = Math.max(...hosts.map(h => h.daemon!.startedAt))
  const lastReady = Math.max(...hosts.map(h => h.daemon!.readyAt))
  const seenAt = new Map<number, number>()
  const complete = await waitFor(async () => {
    await Promise.all(hosts.filter(h => !seenAt.has(h.index)).map(async h => {
      const names = (await peersOf(lan, h.index)).filter(p => p.reachable).map(p => p.name).sort()
      if (names.join(',') === othersOf(h.index, n).sort().join(',')) seenAt.set(h.index, Date.now())
    }))
    return seenAt.size === n
  }, boundMs, 100)
  const polledMs = complete ? Math.max(...seenAt.values()) - lastStart : NaN
  const joins = hosts.map(h => peerJoinTimes(h.daemon!.output()))
  const allJoined = joins.every((j, i) => othersOf(i + 1, n).every(name => j.has(name)))
  const lastJoin = allJoined ? Math.max(...joins.flatMap(j => [...j.values()])) : NaN
  console.log(`# lan: ${n} hosts all list each other: ${complete ? `${polledMs} ms` : `NEVER (${boundMs / 1000} s)`} after the last daemon's spawn by polling peers --json; ` +
    `last "peer joined" logged ${lastJoin - lastStart} ms after the last spawn, ${lastJoin - lastReady} ms after the last API came up ` +
    `(daemons took ${lastReady - lastStart} ms from the last spawn to the last API)`)
  if (!complete) {
    for (const h of hosts) {
      const names = (await peersOf(lan, h.index)).map(p => `${p.name}${p.reachable ? '' : '(unreachable)'}`).sort()
      assert.ok(seenAt.has(h.index), `${h.name} lists ${names.join(',')}, not ${othersOf(h.index, n).join(',')}`)
    }
  }
  return { polledMs, joinedMs: lastJoin - lastStart, complete }
}

/**
 * After SIGKILL of `worker` at `killedAt`: when host 1's `status` of the task first shows
 * `unreachableSince`, and when its `peers` first shows the worker unreachable. Both polled
 * (upper bounds) and, exactly, from the `unreachableSince` the status carries and from host
 * 1's "peer unreachable" log line.
 */
async function detection (lan: Lan, worker: string, taskId: string, killedAt: number): Promise<{ statusMs: number, peersMs: number, statusExactMs: number, peersExactMs: number }> {
  let statusAt = NaN
  let statusSince = NaN
  let peersAt = NaN
  let peersSince = NaN
  await Promise.all([
    waitFor(async () => {
      const result = await lan.cli(1, ['status', taskId, '--json'], { timeoutMs: 10_000 })
      const task = result.code === 0 ? JSON.parse(result.stdout) : {}
      if (task.unreachableSince == null) return false
      statusAt = Date.now()
      statusSince = Date.parse(task.unreachableSince)
      return true
    }, 20_000, 100),
    waitFor(async () => {
      const peer = (await peersOf(lan, 1)).find(p => p.name === worker)
      if (peer == null || peer.reachable) return false
      peersAt = Date.now()
      peersSince = Date.parse(peer.unreachableSince ?? '')
      return true
    }, 20_000, 100)
  ])
  return { statusMs: statusAt - killedAt, peersMs: peersAt - killedAt, statusExactMs: statusSince - killedAt, peersExactMs: peersSince - killedAt }
}

function acceptedId (stderr: string): string {
  const taskId = /task (\S+) accepted/.exec(stderr)?.[1]
  assert.ok(taskId != null, `the CLI never said the task was accepted:\n${stderr}`)
  return taskId
}

describe('4 hosts (and a fifth with another cluster key): killed daemons, a cut link, a stranger', () => {
  const HOSTS = 4
  let lan: Lan | undefined
  const nodeIds: string[] = []
  const detections: string[] = []

  before(async () => {
    const why = lanUnavailable()
    if (why != null) throw new Error(`cannot run the LAN suite: ${why}`)
    await ensureTestImage()
    // Host 5 is on the bridge from the start; it gets its own key and runs nothing until the last tests.
    lan = await createLan(HOSTS + 1)
  })

  after(async () => {
    if (detections.length > 0) console.log(`# lan: detection of a killed host (SIGKILL -> host-1 sees it): ${detections.join('; ')}`)
    try {
      await lan?.teardown()
    } finally {
      // SIGKILLed daemons leave their containers running: remove whatever a failed test left.
      await removeTaskContainers(nodeIds).catch(() => {})
    }
  })

  test(`${HOSTS} hosts: every daemon lists the others by name, at their LAN addresses, within 5 s of the last start`, async () => {
    const hosts = lan!.hosts.slice(0, HOSTS)
    await Promise.all(hosts.map(async h => await lan!.startDaemon(h.index)))
    const lastStart = Math.max(...hosts.map(h => h.daemon!.startedAt))

    const seenAt = new Map<number, number>()
    const all = await waitFor(async () => {
      await Promise.all(hosts.filter(h => !seenAt.has(h.index)).map(async h => {
        const names = (await peersOf(lan!, h.index)).filter(p => p.reachable).map(p => p.name).sort()
        if (names.join(',') === othersOf(h.index, HOSTS).join(',')) seenAt.set(h.index, Date.now())
      }))
      return seenAt.size === HOSTS
    }, 15_000, 100)
    // Measured from the moment the last daemon had started (its API answered): from its spawn,
    // a loaded 2-core machine adds seconds of Node start-up that no design choice changes. The
    // polls spawn CLIs inside namespaces, so this is an upper bound. The daemons' own "peer
    // joined" log lines give the exact moment each host saw the last of the others.
    const lastReady = Math.max(...hosts.map(h => h.daemon!.readyAt))
    const elapsed = Math.max(...seenAt.values()) - lastReady
    const joins = hosts.map(h => peerJoinTimes(h.daemon!.output()))
    const lastJoin = joins.every((j, i) => othersOf(i + 1, HOSTS).every(name => j.has(name))) ? Math.max(...joins.flatMap(j => [...j.values()])) : NaN
    console.log(`# lan: ${HOSTS} hosts all list each other: ${all ? `${elapsed} ms` : 'NEVER (15 s)'} after the last daemon started (${lastReady - lastStart} ms after its spawn), by polling peers --json; ` +
      `last "peer joined" logged ${lastJoin - lastStart} ms after the last spawn, ${lastJoin - lastReady} ms after the last API came up`)
    for (const h of hosts) {
      const names = (await peersOf(lan!, h.index)).map(p => `${p.name}${p.reachable ? '' : '(unreachable)'}`).sort()
      assert.ok(seenAt.has(h.index), `${h.name} lists ${names.join(',')}, not ${othersOf(h.index, HOSTS).join(',')}`)
    }
    assert.ok(elapsed <= 5_000, `every host listed every other ${elapsed} ms after the last daemon started, over the 5 s bound`)

    // Peers are told only addresses that reach them: the 10.77.0.x of each host, never loopback.
    for (const h of hosts) {
      for (const peer of await peersOf(lan!, h.index)) {
        const index = Number(peer.name.replace('host-', ''))
        assert.ok(peer.addrs.length > 0, `${h.name} has addresses for ${peer.name}`)
        for (const addr of peer.addrs) {
          assert.doesNotMatch(addr, /\/ip4\/127\.|\/ip6\/::1\//, `${h.name} was told a loopback address for ${peer.name}: ${peer.addrs.join(' ')}`)
          assert.match(addr, new RegExp(`^/ip4/10\\.77\\.0\\.${index}/tcp/7421(/|$)`), `${h.name} lists ${peer.name} at ${addr}`)
        }
      }
    }
    for (const h of hosts) {
      const id = await lan!.cli(h.index, ['id', '--json'])
      assert.equal(id.code, 0, id.stderr)
      nodeIds.push(JSON.parse(id.stdout).peerId)
    }
  })

  test('from host 1, a task sent to host-3 by name streams its output and exits 0; host 3 shows the TASK RECEIVED box', async () => {
    const worker = lan!.hosts[2]
    assert.ok(worker.daemon != null, 'host 3 runs a daemon (the first test started it)')
    const started = Date.now()
    const result = await lan!.cli(1, ['task', 'host-3', IMAGE, '--', 'sh', '-c', 'hostname; echo done'], { timeoutMs: 90_000 })
    console.log(`# lan: task host-1 -> host-3 took ${Date.now() - started} ms (exit ${result.code})`)
    assert.equal(result.code, 0, `task exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`)
    assert.match(result.stdout, /^done$/m, `the container's output reaches host 1's terminal:\n${result.stdout}`)
    assert.match(result.stderr, /SENDING TASK TO WORKER/)
    const boxed = await waitFor(() => /TASK RECEIVED FROM MASTER/.test(worker.daemon!.output()), 5_000, 100)
    assert.ok(boxed, `host 3's log shows the TASK RECEIVED box:\n${worker.daemon!.output()}`)
    assert.match(worker.daemon!.output(), /host-1/, 'host 3 names the master')
    for (const other of [lan!.hosts[1], lan!.hosts[3]]) {
      assert.doesNotMatch(other.daemon!.output(), /TASK RECEIVED FROM MASTER/, `${other.name} did not run it`)
    }
  })

  test('host 3 killed mid-task and restarted 5 s later: UNREACHABLE, re-attached, SUCCEEDED with every line once, in order', async () => {
    const LINES = 20
    const following = lan!.spawnCli(1, ['task', 'host-3', IMAGE, '--', ...counting(LINES)], { timeoutMs: 120_000 })
    assert.ok(await following.waitForStdout(out => out.includes('line 3\n'), 60_000), `the task never printed line 3:\n${following.stderr()}`)
    const taskId = acceptedId(following.stderr())

    const killedAt = Date.now()
    await lan!.kill(3)
    const restart = (async () => {
      await delay(Math.max(0, killedAt + DOWN_MS - Date.now()))
      return await lan!.restartDaemon(3)
    })()
    const seen = await detection(lan!, 'host-3', taskId, killedAt)
    detections.push(`while restarting: status unreachableSince ${seen.statusExactMs} ms (first polled ${seen.statusMs} ms), peers unreachable ${seen.peersExactMs} ms (first polled ${seen.peersMs} ms)`)
    assert.ok(!Number.isNaN(seen.statusMs), 'host 1\'s status never showed unreachableSince for the task (20 s)')
    assert.ok(!Number.isNaN(seen.peersMs), 'host 1\'s peers never showed host-3 unreachable (20 s)')
    assert.ok(await following.waitForStderr(err => err.includes('unreachable since'), 10_000), `the following CLI never said host-3 was unreachable:\n${following.stderr()}`)
    const restarted = await restart
    const restartedAt = restarted.readyAt

    const code = await following.exited
    const reattached = following.stderr().includes('re-attached')
    console.log(`# lan: host-3 restarted ${restarted.startedAt - killedAt} ms after SIGKILL, API up ${restartedAt - restarted.startedAt} ms later; task ended ${Date.now() - restartedAt} ms after that`)
    assert.equal(code, 0, `the following CLI exited ${code}\nstderr:\n${following.stderr()}`)
    assert.ok(reattached, `the following CLI never said re-attached:\n${following.stderr()}`)
    assert.equal(following.stdout(), countingOutput(LINES), `the output is not complete and in order (${describeLines(following.stdout(), LINES)})`)
    const onMaster = await statusOn(lan!, 1, taskId)
    assert.equal(onMaster.state, 'SUCCEEDED')
    assert.equal(onMaster.unreachableSince, undefined, 'still shown as unreachable after it ended')
    assert.equal(onMaster.logBytes.stdout, countingOutput(LINES).length)
    const onWorker = await statusOn(lan!, 3, taskId)
    assert.equal(onWorker.state, 'SUCCEEDED')
    assert.equal(onWorker.role, 'executed')
  })

  test('host 2\'s link cut for 10 s mid-task, then restored: every line once and in order, re-attached if the master noticed, not LOST (default 30 s deadline)', async () => {
    const LINES = 25
    assert.ok(await untilListed(lan!, 1, 'host-2'), 'host 1 does not list host-2 as reachable before the cut')
    const following = lan!.spawnCli(1, ['task', 'host-2', IMAGE, '--', ...counting(LINES)], { timeoutMs: 120_000 })
    assert.ok(await following.waitForStdout(out => out.includes('line 3\n'), 60_000), `the task never printed line 3:\n${following.stderr()}`)
    const taskId = acceptedId(following.stderr())

    // The master notices a cut link only through its Status probes of the worker (every 5 s,
    // 5 s deadline, two failures in a row: docs/architecture.md, README "Following"), so between about
    // 5 and 15 s after the cut: a 10 s cut may end before it is noticed, and then the stream
    // simply carries on once TCP retransmits. Either way: nothing missing, nothing twice, not LOST,
    // and every "unreachable" is followed by a re-attach.
    await lan!.cut(2)
    const cutAt = Date.now()
    let restored = false
    try {
      const noticed = await following.waitForStderr(err => err.includes('unreachable since'), CUT_MS)
      const noticedMs = noticed ? Date.now() - cutAt : NaN
      await delay(Math.max(0, cutAt + CUT_MS - Date.now()))
      await lan!.restore(2)
      restored = true
      const restoredAt = Date.now()
      const reattached = noticed ? await following.waitForStderr(err => err.includes('re-attached'), 30_000) : false
      console.log(`# lan: link cut ${CUT_MS / 1000} s: the following CLI said unreachable ${noticed ? `${noticedMs} ms after the cut` : 'NOT during the cut (the stream carried on)'}` +
        (noticed ? `; re-attached ${reattached ? `${Date.now() - restoredAt} ms after the restore (polled)` : 'NEVER (30 s)'}` : ''))
      if (noticed) assert.ok(reattached, `host 1 said host-2 was unreachable but never re-attached after the link came back:\n${following.stderr()}`)
    } finally {
      if (!restored) await lan!.restore(2)
    }

    const code = await following.exited
    assert.equal(code, 0, `the following CLI exited ${code}\nstderr:\n${following.stderr()}`)
    assert.equal(following.stdout(), countingOutput(LINES), `the output is not complete and in order (${describeLines(following.stdout(), LINES)})`)
    const notices = (following.stderr().match(/unreachable since/g) ?? []).length
    const reattaches = (following.stderr().match(/re-attached/g) ?? []).length
    assert.equal(reattaches, notices, `every "unreachable" must be followed by "re-attached":\n${following.stderr()}`)
    const onMaster = await statusOn(lan!, 1, taskId)
    assert.equal(onMaster.state, 'SUCCEEDED', `host 1 recorded ${onMaster.state}: the cut must not make the task LOST`)
    assert.ok(!onMaster.events.some((event: any) => event.state === 'LOST'), 'a LOST event was recorded')
    assert.equal(onMaster.logBytes.stdout, countingOutput(LINES).length)
    assert.equal((await statusOn(lan!, 2, taskId)).state, 'SUCCEEDED')
  })

  test(`host 3 killed and left down: LOST after --lost-after ${LOST_AFTER_S}s (exit 125); when it returns its stale copy is cancelled, not SUCCEEDED`, async () => {
    // Host 1 again with a short loss deadline (its earlier tasks have all ended).
    await lan!.restartDaemon(1, ['--lost-after', `${LOST_AFTER_S}s`])
    assert.ok(await untilListed(lan!, 1, 'host-3'), 'the restarted host 1 never listed host-3')
    // Stops at SIGTERM as a well-behaved task does, so that the cancel does not wait for docker stop's 10 s grace.
    const following = lan!.spawnCli(1, ['task', 'host-3', IMAGE, '--', 'sh', '-c', 'trap "exit 143" TERM; echo started; sleep 120 & wait'], { timeoutMs: 120_000 })
    assert.ok(await following.waitForStdout(out => out.includes('started\n'), 60_000), `the task never started:\n${following.stderr()}`)
    const taskId = acceptedId(following.stderr())

    const killedAt = Date.now()
    await lan!.kill(3)
    const seen = await detection(lan!, 'host-3', taskId, killedAt)
    detections.push(`left down: status unreachableSince ${seen.statusExactMs} ms (first polled ${seen.statusMs} ms), peers unreachable ${seen.peersExactMs} ms (first polled ${seen.peersMs} ms)`)
    assert.ok(!Number.isNaN(seen.statusMs), 'host 1\'s status never showed unreachableSince for the task (20 s)')

    const code = await Promise.race([following.exited, delay(LOST_AFTER_S * 1000 + 30_000).then(() => 'still running')])
    const lostAfterMs = Date.now() - killedAt
    console.log(`# lan: LOST (the following CLI exited) ${lostAfterMs} ms after SIGKILL, with --lost-after ${LOST_AFTER_S}s`)
    assert.equal(code, 125, `the following CLI ended with ${code}, not 125\nstderr:\n${following.stderr()}`)
    assert.match(following.stderr(), /lost .*unreachable since/i)
    assert.ok(lostAfterMs >= LOST_AFTER_S * 1000, `LOST after ${lostAfterMs} ms, before the ${LOST_AFTER_S} s deadline`)
    assert.ok(lostAfterMs < LOST_AFTER_S * 1000 + 20_000, `LOST only after ${lostAfterMs} ms`)
    assert.equal((await statusOn(lan!, 1, taskId)).state, 'LOST')

    const back = await lan!.restartDaemon(3)
    const noted = await waitFor(async () => (await statusOn(lan!, 1, taskId)).note != null, 30_000, 250)
    const onMaster = await statusOn(lan!, 1, taskId)
    console.log(`# lan: stale copy dealt with ${noted ? `${Date.now() - back.readyAt} ms` : 'NEVER (30 s)'} after host-3's API came back: note ${JSON.stringify(onMaster.note)}`)
    assert.ok(noted, 'host 1 never noted what it did with the stale copy (30 s)')
    assert.match(onMaster.note, /stale copy .* cancelled/)
    assert.equal(onMaster.state, 'LOST', 'the master\'s record stays LOST')
    const cancelled = await waitFor(async () => (await statusOn(lan!, 3, taskId)).state === 'CANCELLED', 30_000, 250)
    const onWorker = await statusOn(lan!, 3, taskId)
    assert.ok(cancelled, `host 3's copy ended ${onWorker.state}, not CANCELLED`)
    assert.ok(await waitFor(async () => (await containersOfTask(taskId)).length === 0, 20_000, 250), 'the stale container is still there')
  })

  test('task auto --count 8 from host 1 spreads the copies over the hosts', async () => {
    const sent = await lan!.cli(1, ['task', 'auto', IMAGE, '--count', '8', '--', 'sh', '-c', 'hostname; sleep 2'], { timeoutMs: 120_000 })
    assert.equal(sent.code, 0, `exit ${sent.code}\n${sent.stderr}`)
    const taskIds = sent.stdout.split('\n').filter(line => line !== '')
    assert.equal(taskIds.length, 8, sent.stdout)
    const perHost = new Map<string, number>()
    for (const taskId of taskIds) {
      const task = await statusOn(lan!, 1, taskId)
      assert.equal(task.state, 'SUCCEEDED', `${taskId} on ${task.peerName}: ${task.state}`)
      perHost.set(task.peerName, (perHost.get(task.peerName) ?? 0) + 1)
    }
    console.log(`# lan: task auto --count 8 placed ${[...perHost].map(([name, n]) => `${name}:${n}`).sort().join(' ')}`)
    // Four hosts of 2 CPUs and eight 1-CPU copies: spread fills each, none takes three.
    assert.equal(perHost.size, HOSTS, `only ${[...perHost.keys()].join(', ')} ran the copies`)
    assert.ok(Math.max(...perHost.values()) <= 3, `one host ran ${Math.max(...perHost.values())} of 8`)
  })

  test('with --retries 1, a task whose host is killed and stays down finishes on another host', async () => {
    assert.ok(await untilListed(lan!, 1, 'host-3'), 'host 1 does not list host-3')
    const following = lan!.spawnCli(1, ['task', 'host-3', IMAGE, '--retries', '1', '--', 'sh', '-c', 'echo started; sleep 4; echo finished'], { timeoutMs: 120_000 })
    assert.ok(await following.waitForStdout(out => out.includes('started\n'), 60_000), `the task never started:\n${following.stderr()}`)
    const taskId = acceptedId(following.stderr())
    await lan!.kill(3)
    const code = await Promise.race([following.exited, delay(LOST_AFTER_S * 1000 + 60_000).then(() => 'still running')])
    assert.equal(code, 0, `the following CLI ended with ${code}\nstderr:\n${following.stderr()}`)
    assert.match(following.stderr(), /↻ attempt 2 on host-[124] /)
    assert.match(following.stdout(), /finished\n$/)
    const task = await statusOn(lan!, 1, taskId)
    assert.equal(task.state, 'SUCCEEDED')
    assert.deepEqual(task.attempts.map((attempt: any) => [attempt.attempt, attempt.state]), [[1, 'LOST'], [2, 'SUCCEEDED']])
    assert.equal(task.attempts[0].peerName, 'host-3')
    assert.notEqual(task.attempts[1].peerName, 'host-3')
    // Back for the tests that follow; its stale copy is cancelled when it returns.
    await lan!.restartDaemon(3)
    assert.ok(await untilListed(lan!, 1, 'host-3'), 'host 1 never listed the restarted host-3')
    assert.ok(await waitFor(async () => (await containersOfTask(taskId)).length === 0, 30_000, 250), 'a copy of the task is still there')
  })

  describe('a fifth host with another cluster key on the same bridge', () => {
    const STRANGER = HOSTS + 1

    before(async () => { await lan!.rekey(STRANGER) })

    test('without a daemon there: its task to host-1 fails, exit 125, with a message about the cluster key', async () => {
      const result = await lan!.cli(STRANGER, ['task', 'host-1', IMAGE, '--mdns-tag', lan!.tag, '--', 'echo', 'hi'], { timeoutMs: 60_000 })
      console.log(`# lan: host-5 (other key, no daemon) task host-1: exit ${result.code}, stderr ${JSON.stringify(result.stderr.split('\n').filter(line => line !== '' && !/[│┌└─]/.test(line)).join(' | '))}`)
      assert.notEqual(result.code, 0)
      assert.equal(result.code, 125, `exit ${result.code}: the task never ran\n${result.stderr}`)
      assert.doesNotMatch(result.stdout, /hi/)
      assert.match(result.stderr, /cluster key/, `host-${STRANGER} holds another cluster key and its daemon-less task to host-1 failed without saying so (it should say "wrong cluster key"); it said:\n${result.stderr}`)
    })

    test('with its daemon: no daemon of the four lists it, and its task to host-1 fails, exit 125, with a message about the cluster key', async () => {
      await lan!.startDaemon(STRANGER)
      // mDNS answers at once; give the candidates' probes (and their retries) time to fail.
      await delay(6_000)
      for (const h of lan!.hosts.slice(0, HOSTS)) {
        const names = (await peersOf(lan!, h.index)).map(p => p.name)
        assert.ok(!names.includes(`host-${STRANGER}`), `${h.name} lists host-${STRANGER}: ${names.join(',')}`)
        assert.deepEqual(names.sort(), othersOf(h.index, HOSTS).sort(), `${h.name} lists ${names.join(',')}`)
      }
      const theirs = (await peersOf(lan!, STRANGER)).map(p => p.name)
      assert.deepEqual(theirs, [], `host-${STRANGER} lists ${theirs.join(',')}`)
      const result = await lan!.cli(STRANGER, ['task', 'host-1', IMAGE, '--', 'echo', 'hi'], { timeoutMs: 60_000 })
      console.log(`# lan: host-5 (other key, own daemon) task host-1: exit ${result.code}, stderr ${JSON.stringify(result.stderr.split('\n').filter(line => line !== '' && !/[│┌└─]/.test(line)).join(' | '))}`)
      assert.notEqual(result.code, 0)
      assert.equal(result.code, 125, `exit ${result.code}: the task never ran\n${result.stderr}`)
      assert.doesNotMatch(result.stdout, /hi/)
      assert.match(result.stderr, /cluster key/, `host-${STRANGER} holds another cluster key and its task to host-1 through its daemon failed without saying so (it should say "wrong cluster key"); it said:\n${result.stderr}`)
    })
  })
})

describe('8 hosts', () => {
  const HOSTS = 8
  let lan: Lan | undefined

  before(async () => {
    const why = lanUnavailable()
    if (why != null) throw new Error(`cannot run the LAN suite: ${why}`)
    lan = await createLan(HOSTS)
  })

  after(async () => { await lan?.teardown() })

  test(`${HOSTS} hosts form the mesh: every daemon lists the other ${HOSTS - 1}`, async () => {
    const { complete } = await formMesh(lan!, HOSTS, 30_000)
    assert.ok(complete, 'the mesh never formed')
  })
})
