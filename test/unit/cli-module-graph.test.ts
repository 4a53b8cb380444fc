import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { CLI } from '../helpers/cli.ts'

// What a process loads, read from its module graph (never timed): `cloudai task` through a
// daemon is a small HTTP client, and an idle daemon holds nothing it does not use yet.

const HOOK = resolve(import.meta.dirname, '../helpers/loaded-modules-hook.js')
const DIST = resolve(import.meta.dirname, '../..')

interface Loaded {
  code: number | null
  stderr: string
  /** Modules by URL, node_modules and the project's dist/ shortened to what follows them. */
  modules: string[]
  /** Node's built-ins, as `process.moduleLoadList` names them (`NativeModule internal/deps/undici/undici`). */
  builtins: string[]
}

async function loadedBy (args: string[]): Promise<Loaded> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudai-modules-'))
  try {
    const file = join(dir, 'loaded.json')
    const child = spawn(process.execPath, ['--import', HOOK, ...args], {
      env: { ...process.env, NO_COLOR: '1', LOADED_MODULES_FILE: file, CLOUDAI_API: '', CLOUDAI_HOME: join(dir, 'home') },
      stdio: ['ignore', 'ignore', 'pipe']
    })
    let stderr = ''
    child.stderr.on('data', chunk => { stderr += chunk })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, 20_000)
    const code = await new Promise<number | null>(resolve => child.once('close', resolve))
    clearTimeout(timer)
    const { urls, builtins } = JSON.parse(await readFile(file, 'utf8')) as { urls: string[], builtins: string[] }
    const modules = urls.map(url => url.replace(/^file:\/\/.*\/node_modules\//, 'node_modules/').replace(`file://${DIST}/`, 'dist/'))
    return { code, stderr, modules, builtins }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const packageOf = (module: string): string | undefined => /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(module)?.[1]

/** Node's fetch (undici), which an ES import of node:http loads as well. */
const UNDICI = 'NativeModule internal/deps/undici/undici'

test('cloudai task through a daemon loads an HTTP client and the output printer: no package at all (commander, libp2p, zod, dockerode, a CommonJS module), no store, logger or undici', async () => {
  // "auto" without a daemon stops (exit 2, "needs a running daemon") after the task path's
  // modules are loaded, and before any socket is opened.
  const run = await loadedBy([CLI, 'task', 'auto', '127.0.0.1:5000/cloudai/busybox:1', '--quiet', '--', 'true'])
  assert.equal(run.code, 2, run.stderr)
  assert.match(run.stderr, /"auto" needs a running daemon/)
  // The path was taken: the command, its client and its printer were loaded.
  for (const module of ['dist/cli/commands/task.js', 'dist/cli/client.js', 'dist/cli/task-source.js', 'dist/cli/task-output.js']) {
    assert.ok(run.modules.includes(module), `${module} was not loaded: ${run.modules.join(', ')}`)
  }
  assert.ok(run.builtins.includes('NativeModule _http_client'), 'node:http was not loaded')

  const packages = new Set(run.modules.map(packageOf).filter(name => name != null))
  assert.deepEqual([...packages], [])
  // Read by the option table, not by the command table.
  assert.ok(!run.modules.includes('dist/cli/main.js'), 'the command table (main.js) was loaded')
  const heavy = run.modules.filter(module => /^dist\/node\/src\/(store|mesh|master|worker|executor|images|files|metrics|tasks)\/|^dist\/node\/src\/(node|daemon|logger)\.js$|^dist\/protocols\//.test(module))
  assert.deepEqual(heavy, [])
  assert.ok(!run.builtins.includes(UNDICI), 'undici (fetch) was loaded')
  assert.ok(!run.builtins.includes('NativeModule crypto'), 'node:crypto was loaded')
})

test('a daemon\'s modules, loaded, bring no zod, pretty printer or undici: they come with their first use', async () => {
  const run = await loadedBy(['--input-type=module', '-e', `await import(${JSON.stringify(join(DIST, 'node/src/daemon.js'))})`])
  assert.equal(run.code, 0, run.stderr)
  assert.ok(run.modules.includes('dist/node/src/api/server.js'), 'the API server was not loaded')
  assert.ok(run.modules.some(module => packageOf(module) === 'libp2p'), 'libp2p was not loaded')
  const packages = new Set(run.modules.map(packageOf))
  for (const lazy of ['zod', 'pino-pretty']) assert.ok(!packages.has(lazy), `${lazy} was loaded`)
  assert.ok(!run.modules.includes('dist/node/src/api/request-schemas.js'))
  assert.ok(!run.modules.includes('dist/node/src/worker/policy-file.js'))
  assert.ok(!run.builtins.includes(UNDICI), 'undici was loaded')
})
