import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { CLI, type DaemonProcess, initNodes, runCli, startDaemonProcess } from '../helpers/cli.ts'
import { ensureTestImage, IMAGE } from '../helpers/docker.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'

/**
 * `cloudai shell` as a user types it, through a pseudo-terminal (`script` from util-linux
 * allocates one), so that readline runs as on a terminal: the prompt, tab completion, a task
 * with the original master prompt's flags streaming its output, lines pasted while it runs,
 * and `exit`. And as a script runner, with its input through a pipe.
 */

const BOUND_MS = 60_000
let dir: { path: string, remove: () => Promise<void> }
const daemons: DaemonProcess[] = []
const dataDirs: string[] = []

before(async () => {
  requireTestNamespace()
  await ensureTestImage()
  dir = await tempDir()
  const tag = mdnsTag()
  const nodes = await initNodes(dir.path, ['alpha', 'beta'] as const)
  dataDirs.push(nodes.dataDirs.alpha, nodes.dataDirs.beta)
  daemons.push(await startDaemonProcess(dataDirs[0], ['--name', 'alpha', '--mdns-tag', tag]))
  daemons.push(await startDaemonProcess(dataDirs[1], ['--name', 'beta', '--mdns-tag', tag]))
  const met = await waitFor(async () => {
    const peers = await runCli(['--data-dir', dataDirs[0], 'peers', '--json'])
    return peers.code === 0 && (JSON.parse(peers.stdout) as any[]).some(peer => peer.name === 'beta' && peer.reachable === true)
  }, 20_000, 250)
  assert.ok(met, 'alpha never saw beta')
})

after(async () => {
  for (const daemon of daemons) await daemon.stop('SIGKILL')
  await dir?.remove()
})

/** Type `keys` into a shell on a pseudo-terminal, each after the output so far satisfies its wait. */
async function session (steps: Array<{ keys: string, until?: (screen: string) => boolean }>): Promise<{ screen: string, code: number | null }> {
  // -e: script exits with the shell's code (else always 0).
  const child = spawn('script', ['-qefc', `${process.execPath} ${CLI} --data-dir ${dataDirs[0]} shell`, '/dev/null'], {
    env: { ...process.env, NO_COLOR: '1', TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let raw = ''
  // What a user would read: readline's cursor movements and line clears taken out.
  const text = (): string => raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { raw += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { raw += chunk })
  const closed = new Promise<number | null>(resolve => child.on('close', resolve))
  const timer = setTimeout(() => { child.kill('SIGKILL') }, BOUND_MS)
  try {
    for (const step of steps) {
      if (step.until != null) {
        const seen = await waitFor(() => step.until!(text()), 20_000)
        assert.ok(seen, `the shell never showed what was waited for before ${JSON.stringify(step.keys)}:\n${text()}`)
      }
      child.stdin.write(step.keys)
    }
    child.stdin.end()
    const code = await closed
    return { screen: text(), code }
  } finally {
    clearTimeout(timer)
    // A failed wait leaves the shell waiting for keys: it must not outlive the test.
    if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL')
  }
}

const prompts = (screen: string): number => screen.split('cloudai:alpha> ').length - 1

test('the shell: a prompt with the node name, peers, tab completion of a peer name, a task with the original flags, exit', async () => {
  const { screen, code } = await session([
    { keys: 'peers\r', until: s => prompts(s) >= 1 },
    { keys: 'task be\t', until: s => prompts(s) >= 2 && s.includes('beta') },
    { keys: ` ${IMAGE} -cpu_cores 0.5 -mem 0.25 -- sh -c 'echo from-the-shell'\r`, until: s => s.includes('task beta') },
    { keys: 'exit\r', until: s => s.includes('succeeded on beta') && prompts(s) >= 3 }
  ])
  assert.equal(code, 0, screen)
  assert.match(screen, /cloudai shell on alpha/)
  assert.match(screen, /│ beta +│ 12D3KooW/, 'peers lists beta')
  assert.match(screen, /task beta /, 'Tab completed "be" to the peer name beta')
  assert.match(screen, /CPU: 0\.5 cores/)
  assert.match(screen, /Memory: 256 MiB/)
  assert.match(screen, /^from-the-shell\r?$/m, 'the task\'s output streamed into the shell')
  const history = await readFile(join(dataDirs[0], 'shell_history'), 'utf8')
  assert.match(history, /^task beta .* -cpu_cores 0\.5 -mem 0\.25 /m, 'the line is in the history file')
})

test('the shell: a bad line says so and the prompt comes back; Ctrl-D leaves with the last line\'s code', async () => {
  const { screen, code } = await session([
    { keys: 'bogus\r', until: s => prompts(s) >= 1 },
    { keys: 'status "unclosed\r', until: s => s.includes("unknown command 'bogus'") },
    { keys: '\x04', until: s => s.includes('unclosed double quote') && prompts(s) >= 3 }
  ])
  assert.equal(code, 2, `a line that does not parse is a usage error (2), and it was the last:\n${screen}`)
  assert.match(screen, /\(exit 2\)/)
})

/** Whether each of `marks` appears in `text` after the one before. */
function inOrder (text: string, marks: RegExp[]): boolean {
  let rest = text
  for (const mark of marks) {
    const found = mark.exec(rest)
    if (found == null) return false
    rest = rest.slice(found.index + found[0].length)
  }
  return true
}

const ID_OUTPUT = /^Peer ID: /m

test('the shell: lines pasted while a task streams, then Ctrl-D, all run in order after it before the shell leaves', async () => {
  const streaming = `task self ${IMAGE} -- sh -c 'echo tick-1; sleep 3; echo tick-2'\r`
  const { screen, code } = await session([
    { keys: streaming, until: s => prompts(s) >= 1 },
    // One write, as a paste arrives, while the task is between its two lines.
    { keys: `id\rtask self ${IMAGE} -- echo pasted-task\rid\r`, until: s => /^tick-1\r?$/m.test(s) && !/^tick-2\r?$/m.test(s) },
    { keys: '\x04' }
  ])
  assert.equal(code, 0, screen)
  assert.ok(inOrder(screen, [/^tick-1\r?$/m, /^tick-2\r?$/m, /^cloudai:alpha> id\r?$/m, ID_OUTPUT, /^pasted-task\r?$/m, /^cloudai:alpha> id\r?$/m, ID_OUTPUT]),
    `the task's output, then each pasted line after a prompt and its output, in order:\n${screen}`)
})

test('the shell through a pipe: every line runs in order, a task\'s output before the next line, and it exits 0', async () => {
  const { stdout, stderr, code } = await runCli(['--data-dir', dataDirs[0], 'shell'], {
    input: `id\ntask self ${IMAGE} -- echo one\nid\n`,
    timeoutMs: BOUND_MS
  })
  assert.equal(code, 0, stderr)
  assert.ok(inOrder(stdout, [ID_OUTPUT, /^one$/m, ID_OUTPUT]), `id, the task's output, id again:\n${stdout}`)
  assert.match(stderr, /succeeded on alpha/)
  assert.doesNotMatch(stderr, /readline was closed/)
})

test('the shell through a pipe: it exits with the last command\'s code; "exit N" leaves with N at once', async () => {
  const failing = await runCli(['--data-dir', dataDirs[0], 'shell'], {
    input: `id\ntask self ${IMAGE} -- sh -c 'exit 3'\n`,
    timeoutMs: BOUND_MS
  })
  assert.equal(failing.code, 3, failing.stderr)
  assert.match(failing.stdout, ID_OUTPUT)
  assert.match(failing.stderr, /failed on alpha .*\(exit 3\)/)

  const leaving = await runCli(['--data-dir', dataDirs[0], 'shell'], {
    input: `task self ${IMAGE} -- sh -c 'exit 3'\nexit 4\nid\n`,
    timeoutMs: BOUND_MS
  })
  assert.equal(leaving.code, 4, leaving.stderr)
  assert.match(leaving.stderr, /\(exit 3\)/)
  assert.doesNotMatch(leaving.stdout, ID_OUTPUT, 'the line after "exit 4" did not run')
})
