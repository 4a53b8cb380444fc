import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { after, before, test } from 'node:test'
import { runCli } from '../helpers/cli.ts'
import { docker, ensureTestImage, IMAGE, removeTaskContainers, runCliBytes, runProcess, taskContainers, type ProcessResult } from '../helpers/docker.ts'
import { tempDir } from '../helpers/env.ts'

/**
 * Parity with `docker run`, the reference: for each command, `cloudai task self
 * IMAGE --quiet -- …` on an embedded node (no daemon) and `docker run --rm --network none
 * IMAGE …` give the same stdout bytes, the same stderr bytes and the same exit code. Where
 * the engine refuses to start the command, docker prints its own error and we print ours,
 * so only the exit codes are compared.
 */

interface Case {
  name: string
  command: string[]
  /** Extra `cloudai task` options, and the `docker run` options that mean the same. */
  cloudaiOptions?: string[]
  dockerOptions?: string[]
  code: number
  /** What the container writes, where it is worth pinning beyond "the same as docker". */
  stdout?: Buffer
  stderr?: Buffer
  /** docker's and our messages differ by design: compare exit codes only. */
  onlyExitCode?: boolean
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
const seqText = (n: number): string => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('')

const CASES: Case[] = [
  { name: 'text', command: ['echo', 'hello, world'], code: 0, stdout: Buffer.from('hello, world\n'), stderr: Buffer.alloc(0) },
  { name: 'every byte value 0-255', command: ['printf', [...ALL_BYTES].map(b => `\\${b.toString(8).padStart(3, '0')}`).join('')], code: 0, stdout: ALL_BYTES },
  { name: 'gzip output (binary, 40+ KB)', command: ['sh', '-c', 'seq 1 20000 | gzip -c'], code: 0 },
  { name: 'binary on stderr', command: ['sh', '-c', 'printf "\\377\\000\\200end" >&2'], code: 0, stdout: Buffer.alloc(0), stderr: Buffer.from([0xff, 0x00, 0x80, ...Buffer.from('end')]) },
  { name: 'output without a final newline', command: ['printf', 'abc'], code: 0, stdout: Buffer.from('abc') },
  { name: '200,000 lines', command: ['seq', '1', '200000'], code: 0, stdout: Buffer.from(seqText(200_000)) },
  { name: 'both streams, 50,000 lines each', command: ['sh', '-c', 'seq 1 50000; seq 1 50000 >&2'], code: 0, stdout: Buffer.from(seqText(50_000)), stderr: Buffer.from(seqText(50_000)) },
  { name: 'stderr only', command: ['sh', '-c', 'echo oops >&2'], code: 0, stdout: Buffer.alloc(0), stderr: Buffer.from('oops\n') },
  { name: 'exit 3 after output', command: ['sh', '-c', 'echo before; echo failing >&2; exit 3'], code: 3, stdout: Buffer.from('before\n'), stderr: Buffer.from('failing\n') },
  { name: 'an environment variable', command: ['sh', '-c', 'echo "$FOO"'], cloudaiOptions: ['--env', 'FOO=bar baz'], dockerOptions: ['-e', 'FOO=bar baz'], code: 0, stdout: Buffer.from('bar baz\n') },
  {
    name: 'several environment variables, one empty, one with "="',
    command: ['sh', '-c', 'echo "[$A] [$B] [${C-unset}]"'],
    cloudaiOptions: ['--env', 'A=x=y', '--env', 'B=', '--env', 'C=3'],
    dockerOptions: ['-e', 'A=x=y', '-e', 'B=', '-e', 'C=3'],
    code: 0,
    stdout: Buffer.from('[x=y] [] [3]\n')
  },
  { name: 'arguments with spaces, quotes and an empty one', command: ['sh', '-c', 'printf "%s|" "$@"', 'x', 'a b', '', 'c"d', '$HOME'], code: 0, stdout: Buffer.from('a b||c"d|$HOME|') },
  { name: 'user, working directory, PATH and HOME', command: ['sh', '-c', 'id -u; id -g; pwd; echo "$PATH"; echo "$HOME"'], code: 0 },
  { name: 'the image\'s default command (sh, no stdin)', command: [], code: 0, stdout: Buffer.alloc(0) },
  { name: 'a command reading stdin gets end of file', command: ['cat'], code: 0, stdout: Buffer.alloc(0) },
  { name: 'a 1 MB line without a newline', command: ['sh', '-c', 'head -c 1000000 /dev/zero | tr "\\0" a'], code: 0, stdout: Buffer.alloc(1_000_000, 'a') },
  { name: 'UTF-8 text cut in the middle of a character', command: ['sh', '-c', "yes 'é€😀' | head -c 300001"], code: 0, stdout: Buffer.from('é€😀\n'.repeat(30_001)).subarray(0, 300_001) },
  // PID 1 ignores signals it has no handler for, so a child is killed and its status returned.
  // The shell may or may not print "Killed" for the job, depending on when it notices (with
  // docker run as with us): its own stderr goes nowhere, so both compare the same bytes.
  { name: 'a process killed by SIGKILL (exit 137)', command: ['sh', '-c', 'echo going; exec 2>/dev/null; sleep 30 & kill -9 $!; wait $!'], code: 137, stdout: Buffer.from('going\n') },
  { name: 'exit 255', command: ['sh', '-c', 'exit 255'], code: 255 },
  { name: 'a missing command', command: ['no-such-command', '--flag'], code: 127, onlyExitCode: true },
  { name: 'a missing absolute path', command: ['/opt/nothing/here'], code: 127, onlyExitCode: true },
  { name: 'a non-executable path', command: ['/etc/passwd'], code: 126, onlyExitCode: true }
]

/** Marks this file's `docker run` containers, to check that none is left. */
const DOCKER_RUN_LABEL = `cloudai-parity-test=${randomBytes(4).toString('hex')}`

let dir: { path: string, remove: () => Promise<void> }
let nodeId: string | undefined

function show (bytes: Buffer): string {
  return bytes.length > 200 ? `${bytes.length} bytes: ${JSON.stringify(bytes.subarray(0, 100).toString('latin1'))}…` : JSON.stringify(bytes.toString('latin1'))
}

/** Where two byte strings first differ, for a readable failure. */
function assertSameBytes (actual: Buffer, expected: Buffer, what: string): void {
  if (actual.equals(expected)) return
  let i = 0
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++
  assert.fail(`${what} differs at byte ${i} (ours ${actual.length} bytes, docker's ${expected.length}):\n ours:   ${show(actual.subarray(i, i + 80))}\n docker: ${show(expected.subarray(i, i + 80))}`)
}

async function cloudai (c: Case): Promise<ProcessResult> {
  return await runCliBytes(['--data-dir', dir.path, 'task', 'self', IMAGE, '--quiet', ...(c.cloudaiOptions ?? []), '--', ...c.command], { timeoutMs: 60_000 })
}

async function dockerRun (c: Case): Promise<ProcessResult> {
  return await runProcess('docker', ['run', '--rm', '--network', 'none', '--label', DOCKER_RUN_LABEL, ...(c.dockerOptions ?? []), IMAGE, ...c.command], { timeoutMs: 60_000 })
}

before(async () => {
  await ensureTestImage()
  dir = await tempDir()
})

after(async () => {
  if (nodeId != null) await removeTaskContainers([nodeId])
  await dir?.remove()
})

for (const c of CASES) {
  test(`parity with docker run: ${c.name}`, async () => {
    const [ours, theirs] = await Promise.all([cloudai(c), dockerRun(c)])
    assert.equal(theirs.code, c.code, `docker run exits ${c.code}: ${theirs.stderr.toString()}`)
    assert.equal(ours.code, theirs.code, `same exit code as docker run; our stderr:\n${ours.stderr.toString()}`)
    if (c.onlyExitCode !== true) {
      assertSameBytes(ours.stdout, theirs.stdout, 'stdout')
      assertSameBytes(ours.stderr, theirs.stderr, 'stderr')
    }
    if (c.stdout != null) assertSameBytes(ours.stdout, c.stdout, 'stdout (against the expected bytes)')
    if (c.stderr != null) assertSameBytes(ours.stderr, c.stderr, 'stderr (against the expected bytes)')
  })
}

test('the gzip case really is binary and complete', async () => {
  const ours = await cloudai(CASES.find(c => c.name.startsWith('gzip'))!)
  assert.equal(ours.code, 0)
  assert.equal(gunzipSync(ours.stdout).toString(), seqText(20_000))
})

test('no container is left behind by the embedded node, nor by docker run --rm', async () => {
  const id = await runCli(['--data-dir', dir.path, 'id', '--json'])
  assert.equal(id.code, 0, id.stderr)
  nodeId = JSON.parse(id.stdout).peerId as string
  assert.deepEqual(await taskContainers([nodeId]), [])
  assert.equal((await docker(['ps', '-a', '--filter', `label=${DOCKER_RUN_LABEL}`, '--format', '{{.Names}}'])).trim(), '')
})
