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
 * with the original master prompt's flags streaming its output, and `exit`.
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
  const child = spawn('script', ['-qfc', `${process.execPath} ${CLI} --data-dir ${dataDirs[0]} shell`, '/dev/null'], {
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

test('the shell: a bad line says so and the prompt comes back; Ctrl-D leaves', async () => {
  const { screen, code } = await session([
    { keys: 'bogus\r', until: s => prompts(s) >= 1 },
    { keys: 'status "unclosed\r', until: s => s.includes("unknown command 'bogus'") },
    { keys: '\x04', until: s => s.includes('unclosed double quote') && prompts(s) >= 3 }
  ])
  assert.equal(code, 0, screen)
  assert.match(screen, /\(exit 2\)/)
})
