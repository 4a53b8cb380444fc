import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { after, before, test } from 'node:test'
import { CLI, startDaemonProcess, type DaemonProcess } from '../helpers/cli.ts'
import { ensureTestImage, IMAGE, removeTaskContainers } from '../helpers/docker.ts'
import { tempDir } from '../helpers/env.ts'

const MiB = 1024 ** 2
const GiB = 1024 ** 3
/**
 * The suite sends 256 MiB (seconds); `CLOUDAI_OUTPUT_VOLUME_MIB=1024 npm test --
 * dist/test/docker/output-volume.test.js` sends the full gibibyte (about a minute at the
 * engine's speed here, minutes on a loaded machine: too long for every run of the suite).
 */
const VOLUME_BYTES = Number(process.env.CLOUDAI_OUTPUT_VOLUME_MIB ?? 256) * MiB
/** How long the volume may take on a loaded 2-core machine: a bound on a hang, not a speed. */
const RUN_LIMIT_MS = 300_000

let dir: { path: string, remove: () => Promise<void> }
let daemon: DaemonProcess | undefined
let nodeId: string | undefined

before(async () => {
  await ensureTestImage()
  dir = await tempDir()
  // All of it is kept: the default --log-limit (16 MiB) would end it early.
  daemon = await startDaemonProcess(dir.path, ['--open', '--no-mdns', '--log-limit', `${2 * GiB}`])
})

after(async () => {
  await daemon?.stop()
  if (nodeId != null) await removeTaskContainers([nodeId])
  await dir?.remove()
})

test(`${VOLUME_BYTES / MiB} MiB of random output reaches the CLI byte for byte: the checksum the container computed of what it wrote`, { timeout: RUN_LIMIT_MS }, async () => {
  // The container checksums its own output as it writes it (tee into md5sum, on stderr), so
  // the test holds neither the bytes nor a copy of them: it hashes what the CLI prints.
  const script = `mkfifo /tmp/copy; md5sum < /tmp/copy >&2 & head -c ${VOLUME_BYTES} /dev/urandom | tee /tmp/copy; wait`
  const child = spawn(process.execPath, [CLI, '--data-dir', dir.path, 'task', 'self', IMAGE, '--quiet', '--', 'sh', '-c', script], {
    env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe']
  })
  const killer = setTimeout(() => { child.kill('SIGKILL') }, RUN_LIMIT_MS - 5_000)
  const hash = createHash('md5')
  let bytes = 0
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { hash.update(chunk); bytes += chunk.length })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const started = Date.now()
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  clearTimeout(killer)
  console.log(`${VOLUME_BYTES / MiB} MiB through task self to the CLI in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  assert.equal(code, 0, stderr.slice(-2000))
  assert.equal(bytes, VOLUME_BYTES, 'every byte arrived')
  const written = /^([0-9a-f]{32}) {2}-$/m.exec(stderr)
  assert.ok(written != null, `the container's checksum is on stderr:\n${stderr.slice(-500)}`)
  assert.equal(hash.digest('hex'), written[1], 'the bytes the CLI printed are the bytes the container wrote, in order')
})
