import assert from 'node:assert/strict'
import { copyFile, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { runCli, startDaemonProcess, type DaemonProcess } from '../helpers/cli.ts'
import { docker, removeTaskContainers, runProcess } from '../helpers/docker.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'
import { startSecondEngine, type SecondEngine } from '../helpers/second-engine.ts'

/**
 * The README's quick start, walked as a newcomer follows it: every command of its
 * code block runs here, in order, and shows what the README says it shows. Two daemons on
 * this machine stand in for machines A and B; B's runs on a Docker engine of its own
 * (test/helpers/second-engine.ts) that holds nothing and reaches no registry, so the sample
 * image, built on A's engine and never pushed, can only reach B through cloudai. A command
 * added to the quick start without a step here fails this test.
 */

const ROOT = resolve(import.meta.dirname, '../../..')
const REGISTRY = 'local'
const STEP_MS = 180_000

let dir: { path: string, remove: () => Promise<void> }
const tag = mdnsTag()
const dataDirs: Record<string, string> = {}
const daemons: DaemonProcess[] = []
const nodeIds: string[] = []
const taskIds: string[] = []
let engineB: SecondEngine | undefined

/** The commands of the README's quick start block, comments and blank lines left out. */
async function quickStartCommands (): Promise<string[]> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Quick start'))
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1]
  assert.ok(block != null, 'the README has no quick start code block')
  return block.split('\n').map(line => line.replace(/\s+#.*$/, '').trim()).filter(line => line !== '' && !line.startsWith('#'))
}

async function cli (node: string, args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await runCli(['--data-dir', dataDirs[node], ...args], { timeoutMs: STEP_MS })
}

async function script (name: string, args: string[] = []): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const result = await runProcess('bash', [join(ROOT, 'sample-tasks/task1', name), ...args], { timeoutMs: STEP_MS, env: { REGISTRY } })
  return { code: result.code, stdout: result.stdout.toString(), stderr: result.stderr.toString() }
}

/** The sample's report ends with one JSON line. */
function report (stdout: string): { count: number } {
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')
}

/** What each quick start command does here, and what a user sees from it. */
const STEPS: Array<{ matches: RegExp, run: () => Promise<void> }> = [
  {
    matches: /^npm install$/,
    run: async () => { assert.ok((await stat(join(ROOT, 'node_modules'))).isDirectory(), 'npm install has run (the test runs from an installed checkout)') }
  },
  {
    matches: /^npx cloudai init$/,
    run: async () => {
      const init = await cli('A', ['init'])
      assert.equal(init.code, 0, init.stderr)
      assert.match(init.stdout, /Created this node's identity: 12D3KooW/)
      assert.match(init.stdout, /Created the cluster key .*swarm\.key \(fingerprint [0-9a-f:]+\)/)
      assert.match(init.stdout, /Copy it to each of them/)
      nodeIds.push(init.stdout.match(/identity: (\S+)/)![1])
    }
  },
  {
    matches: /^scp -p ~\/\.cloudai\/swarm\.key B:\.cloudai\/swarm\.key$/,
    run: async () => {
      const init = await cli('B', ['init', '--json'])
      assert.equal(init.code, 0, init.stderr)
      nodeIds.push(JSON.parse(init.stdout).peerId)
      await copyFile(join(dataDirs.A, 'swarm.key'), join(dataDirs.B, 'swarm.key'))
    }
  },
  {
    matches: /^npx cloudai start$/,
    run: async () => {
      // The first `start` in the block is A's, the second B's.
      const node = daemons.length === 0 ? 'A' : 'B'
      const env: Record<string, string> = node === 'B' && engineB != null ? { DOCKER_HOST: engineB.host } : {}
      daemons.push(await startDaemonProcess(dataDirs[node], ['--name', node, '--mdns-tag', tag], { env }))
    }
  },
  {
    matches: /^npx cloudai peers$/,
    run: async () => {
      const seen = await waitFor(async () => (await cli('A', ['peers'])).stdout.includes('│ B '), 20_000, 250)
      const peers = await cli('A', ['peers'])
      assert.ok(seen, `peers on A does not list B:\n${peers.stdout}${peers.stderr}`)
      assert.match(peers.stdout, /Health/)
      assert.match(peers.stdout, /│ ok /)
    }
  },
  {
    matches: /^REGISTRY=local bash sample-tasks\/task1\/build\.sh --no-push$/,
    run: async () => {
      const build = await script('build.sh', ['--no-push'])
      assert.equal(build.code, 0, `${build.stdout}\n${build.stderr}`)
      assert.match(build.stdout + build.stderr, /local\/cloudai-sample-task:1/)
      assert.doesNotMatch(build.stdout + build.stderr, /pushing/)
    }
  },
  {
    matches: /^REGISTRY=local bash sample-tasks\/task1\/test_local\.sh$/,
    run: async () => {
      const local = await script('test_local.sh')
      assert.equal(local.code, 0, `${local.stdout}\n${local.stderr}`)
    }
  },
  {
    matches: /^npx cloudai task B local\/cloudai-sample-task:1 --env POINTS=120$/,
    run: async () => {
      assert.equal(await engineB!.has(`${REGISTRY}/cloudai-sample-task:1`), false)
      const sent = await cli('A', ['task', 'B', `${REGISTRY}/cloudai-sample-task:1`, '--env', 'POINTS=120'])
      assert.equal(sent.code, 0, sent.stderr)
      assert.equal(report(sent.stdout).count, 120)
      assert.match(sent.stderr, /SENDING TASK TO WORKER/)
      assert.match(sent.stderr, /image fetched from peer/)
      assert.match(sent.stderr, /succeeded on B/)
      taskIds.push(sent.stderr.match(/task (\S+) accepted/)![1])
    }
  },
  {
    matches: /^npx cloudai task auto local\/cloudai-sample-task:1$/,
    run: async () => {
      const sent = await cli('A', ['task', 'auto', `${REGISTRY}/cloudai-sample-task:1`])
      assert.equal(sent.code, 0, sent.stderr)
      const { count } = report(sent.stdout)
      assert.ok(count >= 50 && count <= 150, `the sample made ${count} points without POINTS`)
      taskIds.push(sent.stderr.match(/task (\S+) accepted/)![1])
    }
  },
  {
    matches: /^npx cloudai task B \S+\/cloudai-sample-task:1 --input sample-tasks\/task1\/readings\.csv --output \/out$/,
    run: async () => {
      // As typed, but the results land in the test's own directory rather than the checkout.
      const results = join(dir.path, 'results')
      const sent = await cli('A', ['task', 'B', `${REGISTRY}/cloudai-sample-task:1`, '--input', join(ROOT, 'sample-tasks/task1/readings.csv'), '--output', `/out:${results}`])
      assert.equal(sent.code, 0, sent.stderr)
      const rows = (await readFile(join(ROOT, 'sample-tasks/task1/readings.csv'), 'utf8')).trim().split('\n').length - 1
      assert.equal(report(sent.stdout).count, rows)
      assert.equal(JSON.parse(await readFile(join(results, 'summary.json'), 'utf8')).count, rows)
      assert.match(await readFile(join(results, 'histogram.svg'), 'utf8'), /^<svg /)
      assert.match(sent.stderr, /✔ \/out → .*results \(2 files, /)
    }
  },
  {
    matches: /^npx cloudai tasks$/,
    run: async () => {
      const tasks = await cli('A', ['tasks'])
      assert.equal(tasks.code, 0, tasks.stderr)
      for (const taskId of taskIds) assert.match(tasks.stdout, new RegExp(`${taskId} .*SUCCEEDED`))
      // "then: cloudai logs <id>, cloudai status <id>"
      const logs = await cli('A', ['logs', taskIds[0]])
      assert.equal(logs.code, 0, logs.stderr)
      assert.equal(report(logs.stdout).count, 120)
      const status = await cli('A', ['status', taskIds[0].slice(0, 14)])
      assert.equal(status.code, 0, status.stderr)
      assert.match(status.stdout, /State: +SUCCEEDED/)
      assert.match(status.stdout, /Worker: +B /)
    }
  }
]

before(async () => {
  requireTestNamespace()
  engineB = await startSecondEngine()
  dir = await tempDir()
  for (const node of ['A', 'B']) dataDirs[node] = join(dir.path, node)
})

after(async () => {
  for (const daemon of daemons) await daemon.stop('SIGKILL')
  await removeTaskContainers(nodeIds)
  await engineB?.stop()
  await docker(['rmi', `${REGISTRY}/cloudai-sample-task:1`]).catch(() => '')
  await dir?.remove()
})

test('the README quick start, every command in order, shows what the README says', { timeout: 600_000 }, async () => {
  const commands = await quickStartCommands()
  assert.ok(commands.length >= 10, `the quick start has only ${commands.length} commands`)
  for (const command of commands) {
    const step = STEPS.find(candidate => candidate.matches.test(command))
    assert.ok(step != null, `the quick start command "${command}" has no step in this test: add one`)
    await step.run()
  }
  assert.equal(daemons.length, 2, 'the quick start starts a daemon on A and on B')
  assert.equal(taskIds.length, 2)
})
