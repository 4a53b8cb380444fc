import assert from 'node:assert/strict'
import { jsonOutputPieces } from '../../node/src/protocol/output-json.ts'
import { OUTPUT_DELAY_MS } from '../../node/src/worker/output-batch.ts'
import { copyFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, afterEach, before, test } from 'node:test'
import { dataDirWithIdentity, runCli, startDaemonProcess, type DaemonProcess } from '../helpers/cli.ts'
import { containersOfTask, docker, ensureRegistryImage, ensureTestImage, IMAGE, MISSING_IMAGE, removeTaskContainers, runCliBytes, spawnCli, taskContainers, type ProcessResult } from '../helpers/docker.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'

/**
 * `cloudai task` as a user types it: two daemons on loopback that found each other
 * with mDNS, the CLI run against one of them, and the same command with no daemon at all.
 * What is asserted is what a user sees: exit codes, stdout and stderr bytes, messages, and
 * the containers the engine shows.
 */

/** Only in the local registry, with a layer of its own: pulling it after `docker rmi` moves real bytes. */
const PULL_IMAGE = '127.0.0.1:5000/cloudai/pull-test-cli:1'
const PULL_BLOB_BYTES = 2_000_000

let dir: { path: string, remove: () => Promise<void> }
const daemons: DaemonProcess[] = []
const tag = mdnsTag()
let alphaDir: string
let betaDir: string
let soloDir: string
let beta: DaemonProcess
const nodeIds: { alpha?: string, beta?: string, solo?: string } = {}
/** The embedded nodes that ran `task self` beside each other. */
const extraNodeIds: string[] = []

/**
 * A task that runs until the test lets it end: a file made in its container by `release`. The
 * container is then surely there while the test looks at it, however slowly a CLI started.
 */
const UNTIL_RELEASED = ['sh', '-c', 'while [ ! -e /released ]; do sleep 0.1; done']

async function release (containerId: string): Promise<void> {
  // `exec` reaches the container once it runs; the task then sees the file and ends by itself.
  const released = await waitFor(async () => await docker(['exec', containerId, 'touch', '/released']).then(() => true, () => false), 10_000, 100)
  assert.ok(released, `could not reach the running container ${containerId}`)
}

/** `cloudai --data-dir <alpha> …`: the master side, talking to alpha's daemon. */
function alpha (...args: string[]): string[] {
  return ['--data-dir', alphaDir, ...args]
}

function knownNodeIds (): string[] {
  return [...Object.values(nodeIds).filter((id): id is string => id != null), ...extraNodeIds]
}

async function peerId (dataDir: string): Promise<string> {
  const result = await runCli(['--data-dir', dataDir, 'id', '--json'])
  assert.equal(result.code, 0, result.stderr)
  return JSON.parse(result.stdout).peerId
}

async function reachablePeers (dataDir: string): Promise<string[]> {
  const result = await runCli(['--data-dir', dataDir, 'peers', '--json'])
  if (result.code !== 0) return []
  return JSON.parse(result.stdout).filter((peer: any) => peer.reachable).map((peer: any) => peer.name)
}

/** The task id from the CLI's "task <id> accepted by <peer> (<peer id>)" line on stderr. */
function acceptedTaskId (stderr: string, peerName: string): string {
  const match = new RegExp(`task (\\S+) accepted by ${peerName} \\(`).exec(stderr)
  assert.ok(match != null, `stderr names the accepted task:\n${stderr}`)
  return match[1]
}

function parseEvents (stdout: string): any[] {
  return stdout.split('\n').filter(line => line !== '').map(line => JSON.parse(line))
}

function logBytes (events: any[], stream: 'stdout' | 'stderr'): string {
  return Buffer.concat(events.filter(e => e.log != null).flatMap(e => jsonOutputPieces(e.log)).filter(piece => piece.stream === stream).map(piece => piece.data)).toString()
}

before(async () => {
  requireTestNamespace()
  await ensureTestImage()
  dir = await tempDir()
  alphaDir = join(dir.path, 'alpha')
  betaDir = join(dir.path, 'beta')
  soloDir = join(dir.path, 'solo')
  const init = await runCli(['--data-dir', alphaDir, 'init', '--json'])
  assert.equal(init.code, 0, init.stderr)
  await mkdir(betaDir, { recursive: true, mode: 0o700 })
  await copyFile(join(alphaDir, 'swarm.key'), join(betaDir, 'swarm.key'))
  const started = await Promise.all(['alpha', 'beta'].map(async name => await startDaemonProcess(join(dir.path, name), ['--name', name, '--mdns-tag', tag])))
  daemons.push(...started)
  beta = started[1]
  nodeIds.alpha = await peerId(alphaDir)
  nodeIds.beta = await peerId(betaDir)
  assert.ok(await waitFor(async () => (await reachablePeers(alphaDir)).includes('beta'), 15_000, 200), 'alpha finds beta with mDNS')
})

afterEach(async () => {
  // The container is removed before the terminal event is sent: once the CLI returned, it is gone.
  const gone = await waitFor(async () => (await taskContainers(knownNodeIds())).length === 0, 5_000, 200)
  assert.ok(gone, `no task container is left behind: ${(await taskContainers(knownNodeIds())).join(', ')}`)
})

after(async () => {
  if (knownNodeIds().length > 0) await removeTaskContainers(knownNodeIds())
  await Promise.all(daemons.map(async d => await d.stop('SIGKILL')))
  await docker(['rmi', PULL_IMAGE]).catch(() => '')
  await dir?.remove()
})

test('task beta prints the preview box on stderr, the output on stdout, and exits with the container\'s code; beta shows the received box', async () => {
  const result = await runCliBytes(alpha('task', 'beta', IMAGE, '--', 'sh', '-c', 'echo hi; exit 7'))
  const stderr = result.stderr.toString()
  assert.equal(result.code, 7, stderr)
  assert.equal(result.stdout.toString(), 'hi\n', 'stdout is exactly what the container wrote')
  assert.match(stderr, /SENDING TASK TO WORKER/)
  assert.match(stderr, /Target: beta/)
  assert.match(stderr, /Command: sh -c echo hi; exit 7/)
  const taskId = acceptedTaskId(stderr, 'beta')
  assert.match(stderr, new RegExp(`task ${taskId} failed on beta .*\\(exit 7\\)`))

  const shown = await waitFor(() => beta.output().includes(taskId), 5_000)
  assert.ok(shown, `beta's terminal names task ${taskId}:\n${beta.output()}`)
  const received = beta.output().slice(beta.output().lastIndexOf('TASK RECEIVED FROM MASTER'))
  assert.match(beta.output(), /TASK RECEIVED FROM MASTER/)
  assert.match(received, new RegExp(`Task: ${taskId}`))
  assert.match(received, new RegExp(`From: ${nodeIds.alpha}`))
  assert.match(received, /Image: 127\.0\.0\.1:5000\/cloudai\/busybox:1/)
  assert.ok(await waitFor(() => beta.output().includes(`task ${taskId}: FAILED`), 5_000), 'beta shows the state changes up to the end')
})

test('exit codes 0 and 3 propagate (to beta, and to the daemon\'s own node as "self")', async () => {
  const ok = await runCliBytes(alpha('task', 'beta', IMAGE, '--', 'true'))
  assert.equal(ok.code, 0, ok.stderr.toString())
  assert.equal(ok.stdout.length, 0)
  assert.match(ok.stderr.toString(), /succeeded on beta .*\(exit 0\)/)

  const three = await runCliBytes(alpha('task', 'beta', IMAGE, '--', 'sh', '-c', 'exit 3'))
  assert.equal(three.code, 3, three.stderr.toString())
  assert.equal(three.stdout.length, 0)

  const self = await runCliBytes(alpha('task', 'self', IMAGE, '--', 'sh', '-c', 'echo local; exit 3'))
  assert.equal(self.code, 3, self.stderr.toString())
  assert.equal(self.stdout.toString(), 'local\n')
  assert.match(self.stderr.toString(), new RegExp(`accepted by alpha \\(${nodeIds.alpha}\\)`))
})

test('50,000 numbered lines arrive on stdout complete and in order, stderr separately', async () => {
  const script = 'BEGIN { for (i = 1; i <= 50000; i++) { print "line " i; if (i % 5000 == 0) print "progress " i > "/dev/stderr" } }'
  const result = await runCliBytes(alpha('task', 'beta', IMAGE, '--', 'awk', script))
  assert.equal(result.code, 0, result.stderr.toString().slice(-2000))
  const lines = result.stdout.toString().split('\n')
  assert.equal(lines.pop(), '', 'stdout ends with the last newline')
  assert.equal(lines.length, 50_000)
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== `line ${i + 1}`) assert.fail(`stdout line ${i + 1} is "${lines[i]}"`)
  }
  const progress = result.stderr.toString().split('\n').filter(line => line.startsWith('progress '))
  assert.deepEqual(progress, Array.from({ length: 10 }, (_, i) => `progress ${(i + 1) * 5000}`), 'stderr carries the container\'s stderr, in order')
  assert.doesNotMatch(result.stdout.toString(), /progress|SENDING/, 'nothing but the container\'s stdout on stdout')
})

test('binary output, and output without a final newline, arrive from beta byte for byte', async () => {
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  const format = [...allBytes].map(b => `\\${b.toString(8).padStart(3, '0')}`).join('')
  const result = await runCliBytes(alpha('task', 'beta', IMAGE, '--', 'sh', '-c', 'printf "$1"; printf "\\377tail" >&2', 'sh', format))
  assert.equal(result.code, 0, result.stderr.toString())
  assert.ok(result.stdout.equals(allBytes), `stdout is the 256 byte values: ${result.stdout.toString('hex')}`)
  assert.ok(result.stderr.includes(Buffer.from([0xff, ...Buffer.from('tail')])), 'stderr carries the container\'s bytes')
})

test('a container switching between stdout and stderr at every byte makes few events on both nodes, and each stream arrives byte for byte, in order', async () => {
  const BYTES = 20_000
  // ash's printf is a builtin: one write, so one frame of the engine's stream, per byte.
  const script = `i=0; while [ $i -lt ${BYTES} ]; do printf "$((i % 10))"; printf "$((i % 7))" >&2; i=$((i+1)); done`
  const result = await runCliBytes(alpha('task', 'beta', IMAGE, '--quiet', '--', 'sh', '-c', script))
  assert.equal(result.code, 0, result.stderr.toString().slice(-2000))
  assert.equal(result.stdout.toString(), Array.from({ length: BYTES }, (_, i) => i % 10).join(''), 'stdout, byte for byte')
  assert.equal(result.stderr.toString(), Array.from({ length: BYTES }, (_, i) => i % 7).join(''), 'stderr, byte for byte')
  const listed = await runCli(alpha('tasks', '--json'))
  const taskId: string = JSON.parse(listed.stdout)[0].taskId
  for (const dataDir of [alphaDir, betaDir]) {
    const logs = await runCli(['--data-dir', dataDir, 'logs', taskId, '--json'])
    assert.equal(logs.code, 0, logs.stderr)
    const events = parseEvents(logs.stdout).filter(event => event.log != null)
    console.log(`${2 * BYTES} bytes alternating stdout/stderr: ${events.length} output events in ${dataDir === alphaDir ? 'the master' : 'the worker'}'s store`)
    // Output is recorded at most once per OUTPUT_DELAY_MS (sooner only when 64 KiB or another
    // event is due), so the count follows how long the container took to write, whatever the
    // machine's load; one event per byte (before batching) would be 40,000.
    const batchesAtMost = Math.ceil(result.ms / OUTPUT_DELAY_MS) + 5
    assert.ok(events.length <= batchesAtMost, `${events.length} output events for ${2 * BYTES} bytes written in ${result.ms} ms`)
    assert.ok(events.length <= (2 * BYTES) / 10, `${events.length} output events for ${2 * BYTES} bytes: fewer than 10 bytes each`)
    assert.equal(logBytes(events, 'stdout'), result.stdout.toString(), 'the stored output is what the CLI showed')
    assert.equal(logBytes(events, 'stderr'), result.stderr.toString())
  }
})

test('--memory 32m: a task that allocates past it ends FAILED, out of memory, exit 137', async () => {
  const result = await runCliBytes(alpha('task', 'beta', IMAGE, '--memory', '32m', '--', 'tail', '/dev/zero'))
  const stderr = result.stderr.toString()
  assert.equal(result.code, 137, stderr)
  assert.match(stderr, /Memory: 32 MiB/)
  assert.match(stderr, /failed on beta .*\(exit 137, out of memory\)/)
  assert.match(stderr, /more than its memory limit \(32 MiB\).*--memory/)
})

test('--timeout 2s on sleep 60 fails within seconds with a timeout message', async () => {
  const result = await runCliBytes(alpha('task', 'beta', IMAGE, '--timeout', '2s', '--', 'sleep', '60'), { timeoutMs: 30_000 })
  const stderr = result.stderr.toString()
  assert.ok(result.ms < 10_000, `took ${result.ms} ms`)
  assert.notEqual(result.code, 0, stderr)
  assert.equal(result.code, 137, 'killed, as docker reports it')
  assert.match(stderr, /failed on beta .*timed out/)
  assert.match(stderr, /longer than its timeout.*--timeout/)
})

test('a nonexistent image exits 125 with a message naming it', async () => {
  const result = await runCliBytes(alpha('task', 'beta', MISSING_IMAGE, '--', 'true'))
  const stderr = result.stderr.toString()
  assert.equal(result.code, 125, stderr)
  assert.equal(result.stdout.length, 0)
  assert.match(stderr, /image "127\.0\.0\.1:5000\/cloudai\/does-not-exist:1" was not found.*Check the name and tag/)
})

test('a missing command exits 127, a non-executable one 126, each saying why', async () => {
  const missing = await runCliBytes(alpha('task', 'beta', IMAGE, '--', 'no-such-command'))
  assert.equal(missing.code, 127, missing.stderr.toString())
  assert.match(missing.stderr.toString(), /command was not found .*no-such-command/)

  const notExecutable = await runCliBytes(alpha('task', 'beta', IMAGE, '--', '/etc/passwd'))
  assert.equal(notExecutable.code, 126, notExecutable.stderr.toString())
  assert.match(notExecutable.stderr.toString(), /cannot be executed .*\/etc\/passwd.*permission denied/)
})

test('an unknown peer name exits 125 and lists the known peers', async () => {
  const result = await runCliBytes(alpha('task', 'gamma', IMAGE, '--', 'true'))
  const stderr = result.stderr.toString()
  assert.equal(result.code, 125, stderr)
  assert.match(stderr, /no peer matches "gamma"/)
  assert.match(stderr, new RegExp(`beta\\s+${nodeIds.beta}`), 'beta is listed with its peer ID')
})

test('the original spellings -cpu_cores 0.5 -mem 0.25 set the running container\'s limits', async () => {
  const live = spawnCli(alpha('task', 'beta', IMAGE, '-cpu_cores', '0.5', '-mem', '0.25', '--json', '--', ...UNTIL_RELEASED), { timeoutMs: 30_000 })
  try {
    const started = await live.waitForStdout(out => /"containerId"/.test(out), 15_000)
    assert.ok(started, `a RUNNING event names the container:\n${live.stdout()}\n${live.stderr()}`)
    const running = parseEvents(live.stdout()).find(e => e.containerId != null)
    const [byLabel] = await containersOfTask(running.taskId)
    assert.ok(byLabel != null && running.containerId.startsWith(byLabel), 'the container carries the task id label')
    const [info] = JSON.parse(await docker(['inspect', running.containerId]))
    assert.equal(info.State.Running, true)
    assert.equal(info.HostConfig.NanoCpus, 500_000_000)
    assert.equal(info.HostConfig.Memory, 268_435_456)
    assert.equal(info.HostConfig.MemorySwap, 268_435_456, 'no swap on top of the limit')
    assert.ok(info.HostConfig.PidsLimit > 0, 'a PIDs limit is set')
    assert.ok((info.HostConfig.SecurityOpt ?? []).includes('no-new-privileges'))
    assert.equal(info.HostConfig.Privileged, false)
    assert.equal(info.HostConfig.NetworkMode, 'none')
    assert.equal(info.Config.Labels['cloudai.task-id'], running.taskId)
    assert.equal(info.Config.Labels['cloudai.node'], nodeIds.beta)
    assert.equal(info.Config.Labels['cloudai.submitter'], nodeIds.alpha)
    await release(running.containerId)
  } finally {
    await live.exited
  }
  assert.equal(await live.exited, 0, live.stderr())
})

test('--json prints one event per line with taskId, seq, time and state, and nothing else', async () => {
  const result = await runCliBytes(alpha('task', 'beta', IMAGE, '--json', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'))
  assert.equal(result.code, 3, result.stderr.toString())
  assert.equal(result.stderr.toString(), '', 'no box, state lines or container stderr outside the events')
  const text = result.stdout.toString()
  assert.ok(text.endsWith('\n'))
  const events = parseEvents(text)
  assert.ok(events.length >= 4, text)
  const taskId = events[0].taskId
  assert.match(taskId, /^[A-Za-z0-9][A-Za-z0-9_.-]+$/)
  events.forEach((event, i) => {
    assert.equal(event.taskId, taskId)
    assert.equal(event.seq, i + 1, 'seq counts from 1 without gaps')
    assert.ok(!Number.isNaN(Date.parse(event.time)) && event.time.endsWith('Z'), `time is ISO 8601: ${event.time}`)
    assert.equal(typeof event.state, 'string')
  })
  const states = events.map(e => e.state)
  assert.ok(states.includes('RUNNING'), states.join(','))
  const last = events.at(-1)
  assert.equal(last.state, 'FAILED')
  assert.deepEqual(last.exit, { code: 3, oomKilled: false, timedOut: false })
  assert.equal(logBytes(events, 'stdout'), 'out\n')
  assert.equal(logBytes(events, 'stderr'), 'err\n')
})

test('the RUNNING event naming the container comes before the container\'s first output', async () => {
  // A --json reader (or the "→ running (container …)" line) learns the container before its output.
  const result = await runCliBytes(alpha('task', 'beta', IMAGE, '--json', '--', 'echo', 'first'))
  assert.equal(result.code, 0, result.stderr.toString())
  const events = parseEvents(result.stdout.toString())
  const started = events.findIndex(e => e.containerId != null)
  const firstLog = events.findIndex(e => e.log != null)
  assert.ok(started >= 0 && firstLog >= 0, result.stdout.toString())
  assert.ok(started < firstLog, `events in order: ${events.map(e => `${e.seq}:${e.state}${e.containerId != null ? '(container)' : ''}${e.log != null ? '(log)' : ''}`).join(' ')}`)
  assert.equal(events.findIndex(e => e.state === 'RUNNING'), started, 'the first RUNNING event is the one naming the container')
})

test('--detach prints only the task id and exits 0 while the task runs on', async () => {
  const result = await runCliBytes(alpha('task', 'beta', IMAGE, '--detach', '--', ...UNTIL_RELEASED))
  assert.equal(result.code, 0, result.stderr.toString())
  const stdout = result.stdout.toString()
  assert.match(stdout, /^[A-Za-z0-9][A-Za-z0-9_.-]+\n$/, `stdout is one task id: ${JSON.stringify(stdout)}`)
  const taskId = stdout.trim()
  assert.ok(result.ms < 8_000, `returned before the task ended (${result.ms} ms)`)
  const appeared = await waitFor(async () => (await containersOfTask(taskId)).length === 1, 10_000, 100)
  assert.ok(appeared, `the task's container appears after the CLI returned:\n${beta.output().slice(-2000)}`)
  const [containerId] = await containersOfTask(taskId)
  await release(containerId)
  assert.ok(await waitFor(() => beta.output().includes(`task ${taskId}: SUCCEEDED`), 25_000, 200), 'the detached task runs to its end on beta')
  assert.ok(await waitFor(async () => (await containersOfTask(taskId)).length === 0, 5_000, 100), 'and its container is removed')
})

test('Ctrl-C detaches: the CLI exits 130 saying the task runs on, and it does', async () => {
  const live = spawnCli(alpha('task', 'beta', IMAGE, '--', 'sh', '-c', 'echo started; while [ ! -e /released ]; do sleep 0.1; done; echo finished'), { timeoutMs: 30_000 })
  const running = await live.waitForStdout(out => out.includes('started'), 15_000)
  assert.ok(running, `the task started:\n${live.stderr()}`)
  const taskId = acceptedTaskId(live.stderr(), 'beta')
  live.child.kill('SIGINT')
  const code = await live.exited
  assert.equal(code, 130, live.stderr())
  assert.match(live.stderr(), new RegExp(`task ${taskId} keeps running`))
  assert.equal(live.stdout(), 'started\n')
  const containers = await containersOfTask(taskId)
  assert.equal(containers.length, 1, 'its container still runs after the CLI left')
  await release(containers[0])
  assert.ok(await waitFor(() => beta.output().includes(`task ${taskId}: SUCCEEDED`), 15_000, 200), 'the task runs to its end on beta')
  assert.ok(await waitFor(async () => (await containersOfTask(taskId)).length === 0, 5_000, 100), 'and its container is removed')
})

test('without a daemon, an embedded node holding the cluster key finds beta with mDNS and sends it the task', async () => {
  const keyed = join(dir.path, 'keyed')
  await mkdir(keyed, { recursive: true, mode: 0o700 })
  await copyFile(join(alphaDir, 'swarm.key'), join(keyed, 'swarm.key'))
  const result = await runCliBytes(['--data-dir', keyed, 'task', 'beta', IMAGE, '--mdns-tag', tag, '--', 'sh', '-c', 'echo remote; exit 4'], { timeoutMs: 30_000 })
  const stderr = result.stderr.toString()
  assert.equal(result.code, 4, stderr)
  assert.equal(result.stdout.toString(), 'remote\n')
  const taskId = acceptedTaskId(stderr, 'beta')
  assert.ok(await waitFor(() => beta.output().includes(`Task: ${taskId}`), 5_000), 'beta shows the received box')
})

test('--quiet prints no box or state lines: stdout and stderr are the container\'s', async () => {
  const result = await runCliBytes(alpha('task', 'beta', IMAGE, '--quiet', '--', 'sh', '-c', 'echo out; echo err >&2; exit 5'))
  assert.equal(result.code, 5)
  assert.equal(result.stdout.toString(), 'out\n')
  assert.equal(result.stderr.toString(), 'err\n')
})

test('--quiet still says why a task could not run', async () => {
  // docker run prints the engine's reason for a missing command; an exit 127 with an empty
  // stderr leaves the user guessing (docs/architecture.md: every error names what went wrong).
  const missing = await runCliBytes(alpha('task', 'beta', IMAGE, '--quiet', '--', 'no-such-command'))
  assert.equal(missing.code, 127)
  assert.equal(missing.stdout.length, 0)
  assert.match(missing.stderr.toString(), /no-such-command/)

  const image = await runCliBytes(alpha('task', 'beta', MISSING_IMAGE, '--quiet', '--', 'true'))
  assert.equal(image.code, 125)
  assert.match(image.stderr.toString(), /does-not-exist:1.*not found/)
})

/**
 * The worker records a task's end before it removes the container (so a crash between the two
 * loses no result): the CLI may return while the removal is still under way.
 */
async function removeImageOnceUnused (image: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (true) {
    try {
      await docker(['rmi', image])
      return
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }
}

test('an image only in the local registry is pulled, with progress events and progress lines', async () => {
  await ensureRegistryImage(PULL_IMAGE, PULL_BLOB_BYTES)
  await docker(['rmi', PULL_IMAGE])

  const json = await runCliBytes(alpha('task', 'beta', PULL_IMAGE, '--json', '--', 'sh', '-c', 'wc -c < /blob'), { timeoutMs: 60_000 })
  assert.equal(json.code, 0, json.stderr.toString())
  const events = parseEvents(json.stdout.toString())
  const pulls = events.filter(e => e.state === 'PULLING' && e.pull != null)
  assert.ok(pulls.length >= 1, `PULLING events with progress: ${json.stdout.toString()}`)
  const last = pulls.at(-1).pull
  assert.ok(last.totalBytes >= PULL_BLOB_BYTES, `the blob's bytes are counted: ${JSON.stringify(last)}`)
  assert.equal(last.doneBytes, last.totalBytes, 'the last report is complete')
  for (let i = 1; i < pulls.length; i++) assert.ok(pulls[i].pull.doneBytes >= pulls[i - 1].pull.doneBytes, 'progress never goes back')
  assert.ok(events.indexOf(pulls.at(-1)) < events.findIndex(e => e.state === 'RUNNING'), 'pulled before it ran')
  assert.equal(logBytes(events, 'stdout').trim(), String(PULL_BLOB_BYTES))

  await removeImageOnceUnused(PULL_IMAGE)
  const text = await runCliBytes(alpha('task', 'beta', PULL_IMAGE, '--', 'true'), { timeoutMs: 60_000 })
  assert.equal(text.code, 0, text.stderr.toString())
  assert.match(text.stderr.toString(), /pulling [\d.]+ [KM]iB \/ [\d.]+ [KM]iB/, 'a human sees the pull progress on stderr')
})

test('without a daemon, task self runs on an embedded node: same box, output and exit code', async () => {
  const seven = await runCliBytes(['--data-dir', soloDir, 'task', 'self', IMAGE, '--', 'sh', '-c', 'echo hi; exit 7'])
  const stderr = seven.stderr.toString()
  assert.equal(seven.code, 7, stderr)
  assert.equal(seven.stdout.toString(), 'hi\n')
  assert.match(stderr, /SENDING TASK TO WORKER/)
  assert.match(stderr, /Target: self/)
  nodeIds.solo = await peerId(soloDir)
  assert.match(stderr, new RegExp(`accepted by \\S+ \\(${nodeIds.solo}\\)`), 'the embedded node ran it itself')

  // The rest at once, each on an embedded node with a data dir and an identity of its own.
  const selfTask = async (name: string, args: string[]): Promise<ProcessResult> => {
    const dataDir = join(dir.path, `solo-${name}`)
    extraNodeIds.push(await dataDirWithIdentity(dataDir))
    return await runCliBytes(['--data-dir', dataDir, 'task', 'self', IMAGE, ...args])
  }
  const [ok, three, missing, json] = await Promise.all([
    selfTask('ok', ['--', 'echo', 'fine']),
    selfTask('three', ['--', 'sh', '-c', 'exit 3']),
    selfTask('missing', ['--', 'no-such-command']),
    selfTask('json', ['--json', '--', 'echo', 'x'])
  ])
  assert.equal(ok.code, 0, ok.stderr.toString())
  assert.equal(ok.stdout.toString(), 'fine\n')
  assert.equal(three.code, 3)
  assert.equal(missing.code, 127)
  assert.equal(json.code, 0)
  assert.equal(parseEvents(json.stdout.toString()).at(-1).state, 'SUCCEEDED')
})

test('no container with a cloudai.task-id label is left for these nodes', async () => {
  assert.deepEqual(await taskContainers(knownNodeIds()), [])
})
