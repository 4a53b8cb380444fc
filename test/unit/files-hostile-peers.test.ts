import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { lstat, mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { after, before, test } from 'node:test'
import * as tar from 'tar-stream'
import { downloadOutputs } from '../../cli/results-download.ts'
import { ArchiveRefusedError } from '../../node/src/errors.ts'
import { ChecksumMismatchError } from '../../node/src/files/archive-extract.ts'
import { SHA256_PAX_KEY } from '../../node/src/files/archive-reader.ts'
import { setDigest } from '../../node/src/files/files-digest.ts'
import { OutputStore } from '../../node/src/files/output-store.ts'
import type { ContainerFiles } from '../../node/src/executor/executor.ts'
import { fetchInputsFromPeer, fetchOutputsFromPeer, registerFilesProtocol } from '../../node/src/protocol/files-protocol.ts'
import { TaskState, type TaskSpec } from '../../node/src/protocol/task-messages.ts'
import type { OutputSetSummary } from '../../protocols/files.ts'
import { putInputs } from '../../node/src/worker/task-files.ts'
import { WorkerTask } from '../../node/src/worker/worker-task.ts'
import { tempDir } from '../helpers/env.ts'
import { MemoryNetwork, type MemoryPeer } from '../helpers/memory-peers.ts'
import { storedSpec, tempStore } from '../helpers/store.ts'
import { tarOf, type TarEntry } from '../helpers/tar.ts'

/**
 * A hostile peer on the real files protocol (two peers joined by in-memory streams): a
 * submitter that serves a worker hostile inputs, and a worker that serves its submitter
 * hostile outputs. Whatever the archive holds (traversal, absolute names, links out, a size
 * bomb, a cut-off tar, wrong or missing digests), the receiving side refuses it with a
 * message naming the entry, nothing lands outside where it belongs, and a refused download
 * leaves nothing where the results go.
 */

const MiB = 1024 * 1024
const TASK = 'mx00hostile-0123456789ab'

function sha256 (content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex')
}

/** A file entry carrying its digest, as a worker's store writes it. */
function digested (name: string, content: string): TarEntry {
  return { name, content, pax: { [SHA256_PAX_KEY]: sha256(content) } }
}

/** The bytes as a peer's archive stream: chunks of the size a disk gives. */
function served (bytes: Buffer): Readable {
  return Readable.from((function * () { for (let at = 0; at < bytes.length; at += 64 * 1024) yield bytes.subarray(at, at + 64 * 1024) })())
}

let network: MemoryNetwork
let submitter: MemoryPeer
let worker: MemoryPeer
let dir: { path: string, remove: () => Promise<void> }
/** What the hostile peer serves next. */
let hostileInputs: Buffer = Buffer.alloc(0)
let hostileOutputs: { sets: OutputSetSummary[], archive: Buffer } = { sets: [], archive: Buffer.alloc(0) }

before(async () => {
  network = new MemoryNetwork()
  submitter = await network.peer()
  worker = await network.peer()
  dir = await tempDir('cloudai-hostile-files-')
  // Each peer answers as the hostile party does: anything asked, with the archive it chose.
  await registerFilesProtocol(submitter, {
    inputs: async () => served(hostileInputs),
    outputs: async () => { throw new Error('not asked of a submitter') }
  })
  await registerFilesProtocol(worker, {
    inputs: async () => { throw new Error('not asked of a worker') },
    outputs: async () => ({ sets: hostileOutputs.sets, archive: served(hostileOutputs.archive) })
  })
})

after(async () => { await dir?.remove() })

/** The engine's side of putArchive: the names of the entries that reached it. */
function engineRecorder (): { container: ContainerFiles, received: string[] } {
  const received: string[] = []
  return {
    received,
    container: {
      put: async archive => {
        const extract = tar.extract()
        const reading = (async () => {
          for await (const entry of extract) {
            received.push(entry.header.name)
            for await (const chunk of entry) void chunk
          }
        })()
        await Promise.all([pipeline(archive, extract as unknown as NodeJS.WritableStream), reading])
      },
      get: async () => undefined
    }
  }
}

let tasks = 0
/** A task this worker runs for the hostile submitter, its input under /in (within a 4 MiB cap). */
async function inputsOf (archive: Buffer): Promise<{ problem: Awaited<ReturnType<typeof putInputs>>, received: string[] }> {
  hostileInputs = archive
  const store = tempStore()
  const spec: TaskSpec = storedSpec(`${TASK}-${tasks++}`, { files: { inputs: [{ target: '/in' }], outputs: [], outputLimitBytes: 0 } })
  store.createTask({ spec, role: 'executed', peerId: submitter.peerId.toString(), peerName: '' })
  const task = new WorkerTask(spec, submitter.peerId.toString(), store, { logLimitBytes: MiB })
  task.append({ state: TaskState.STARTING })
  const { container, received } = engineRecorder()
  const problem = await putInputs(task, {
    store: new OutputStore(join(dir.path, 'unused-outputs')),
    fetchInputs: async ({ taskId, attempt }) => await fetchInputsFromPeer(worker, submitter.peerId, taskId, attempt),
    maxInputBytes: 4 * MiB
  }, container)
  return { problem, received }
}

test('a hostile submitter\'s inputs are refused before the engine gets what breaks the rules; the task ends ARCHIVE_REFUSED', async () => {
  // Large enough that the engine may already be taking it when the hostile entry comes.
  const good = { name: 'in/ok.bin', content: Buffer.alloc(MiB, 1) }
  const cases: Array<[string, TarEntry[] | Buffer, RegExp, string?]> = [
    ['traversal', [good, { name: 'in/../../etc/cron.d/evil', content: 'x' }], /entry "in\/\.\.\/\.\.\/etc\/cron\.d\/evil" climbs out with "\.\."/, 'etc/cron.d/evil'],
    ['an absolute name', [good, { name: '/etc/passwd', content: 'root::0:0' }], /entry "\/etc\/passwd" has an absolute path/, '/etc/passwd'],
    ['a link out of the root', [good, { name: 'in/etc', type: 'symlink', linkname: '/etc' }], /symbolic link "in\/etc" points to the absolute path "\/etc", outside the target/, 'in/etc'],
    ['a path outside the input targets', [good, { name: 'etc/passwd', content: 'root::0:0' }], /"etc\/passwd" is outside every input target \(\/in\)/, 'etc/passwd'],
    ['a size bomb', await bombOf([good], 'in/bomb', 0o77777777777), /larger than this worker accepts: 8(\.0)? GiB or more, at most 4(\.0)? MiB/, 'in/bomb']
  ]
  for (const [what, entries, message, never] of cases) {
    const archive = Buffer.isBuffer(entries) ? entries : await tarOf(entries)
    const { problem, received } = await inputsOf(archive)
    assert.equal(problem?.code, 'ARCHIVE_REFUSED', `${what}: ${JSON.stringify(problem)}`)
    assert.match(problem.message, message, what)
    if (never !== undefined) assert.ok(!received.some(name => name.includes(never)), `${what}: the engine never got ${never} (got ${received.join(', ')})`)
  }
})

/**
 * `entries`, then a file whose header declares `size` bytes (octal, so below 8 GiB), of which
 * only a block follows: tar-stream will not write such a header, so the size is patched in.
 */
async function bombOf (entries: TarEntry[], name: string, size: number): Promise<Buffer> {
  const bytes = await tarOf([...entries, { name, content: Buffer.alloc(512) }])
  const at = bytes.length - 1024 - 1024 // the bomb's header: before its block and the two end blocks
  const header = bytes.subarray(at, at + 512)
  assert.equal(header.subarray(0, name.length).toString(), name)
  header.write(size.toString(8).padStart(11, '0') + '\0', 124, 12, 'ascii')
  header.fill(' ', 148, 156)
  let sum = 0
  for (const byte of header) sum += byte
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii')
  return bytes.subarray(0, at + 1024)
}

test('a hostile submitter\'s cut-off archive is refused as cut short, and an endless one is cut off', async () => {
  const whole = await tarOf([{ name: 'in/data.bin', content: Buffer.alloc(MiB, 7) }])
  const truncated = await inputsOf(whole.subarray(0, 300 * 1024))
  assert.equal(truncated.problem?.code, 'ARCHIVE_REFUSED')
  assert.match(truncated.problem.message, /the inputs: the archive is malformed or cut short/)
  const endless = await inputsOf(Buffer.concat([await tarOf([{ name: 'in/a', content: 'a' }]).then(bytes => bytes.subarray(0, 1024)), Buffer.alloc(3 * MiB)]))
  assert.equal(endless.problem?.code, 'ARCHIVE_REFUSED', JSON.stringify(endless.problem))
  assert.match(endless.problem.message, /the inputs: the archive goes on past its entries \(.* sent for 1 entries of 512 B\): refused as endless/)
})

/** The submitter's download of the hostile worker's outputs into `dest`, as `cloudai results` does it. */
async function downloadFrom (sets: OutputSetSummary[], archive: Buffer, dest: string): Promise<unknown> {
  hostileOutputs = { sets, archive }
  const fetched = await fetchOutputsFromPeer(submitter, worker.peerId, TASK)
  return await downloadOutputs({ taskId: TASK, sets: fetched.outputs, archive: fetched.archive }, [dest])
}

function summaryOf (files: Array<{ path: string, content: string }>, extra: Partial<OutputSetSummary> = {}): OutputSetSummary {
  const records = files.map(file => ({ path: file.path, kind: 'file' as const, size: Buffer.byteLength(file.content), sha256: sha256(file.content) }))
  return { path: '/out', bytes: records.reduce((sum, record) => sum + record.size, 0), files: records.length, sha256: setDigest([{ path: 'out', kind: 'directory', size: 0 }, ...records.map(record => ({ ...record, path: `out/${record.path}` }))]), complete: true, note: '', ...extra }
}

test('a hostile worker\'s outputs are refused by the submitter, and nothing lands where the results go or outside', async () => {
  const root = join(dir.path, 'download')
  await mkdir(root)
  const ok = { path: 'ok.txt', content: 'fine' }
  const set = summaryOf([ok])
  const cases: Array<[string, OutputSetSummary[], TarEntry[], new (...args: any[]) => Error, RegExp]> = [
    ['traversal', [set], [{ name: '0/out', type: 'directory' }, digested('0/../../escaped', 'x')], ArchiveRefusedError, /entry "0\/\.\.\/\.\.\/escaped" climbs out with "\.\."/],
    ['an absolute name', [set], [digested('/tmp/escaped', 'x')], ArchiveRefusedError, /entry "\/tmp\/escaped" has an absolute path/],
    ['a link out of the root', [set], [{ name: '0/out', type: 'directory' }, { name: '0/out/l', type: 'symlink', linkname: '/tmp' }], ArchiveRefusedError, /symbolic link "0\/out\/l" points to the absolute path "\/tmp"/],
    ['writing through a link', [set], [{ name: '0/out', type: 'directory' }, { name: '0/out/l', type: 'symlink', linkname: '.' }, digested('0/out/l/x', 'x')], ArchiveRefusedError, /through "0\/out\/l", which is not a directory/],
    ['more than the summary says', [set], [{ name: '0/out', type: 'directory' }, digested('0/out/big', 'y'.repeat(64 * 1024))], ArchiveRefusedError, /larger than the 4 B allowed: "0\/out\/big" \(64 KiB\)/],
    ['a set it never announced', [set], [digested('7/out/x', 'x')], ArchiveRefusedError, /"7\/out\/x" belongs to no output/],
    ['a file without its digest', [set], [{ name: '0/out', type: 'directory' }, { name: '0/out/ok.txt', content: 'fine' }], ArchiveRefusedError, /"0\/out\/ok\.txt" arrived without its checksum/],
    ['a digest that does not match', [set], [{ name: '0/out', type: 'directory' }, { name: '0/out/ok.txt', content: 'FINE', pax: { [SHA256_PAX_KEY]: sha256('fine') } }], ChecksumMismatchError, /"0\/out\/ok\.txt" arrived with SHA-256 [0-9a-f]{64}, not the/],
    ['a set digest that lies', [{ ...set, sha256: sha256('another tree') }], [{ name: '0/out', type: 'directory' }, digested('0/out/ok.txt', 'fine')], ChecksumMismatchError, /the results of \/out differ from what the worker kept/]
  ]
  for (const [index, [what, sets, entries, kind, message]] of cases.entries()) {
    const dest = join(root, `case${index}`, 'out')
    await assert.rejects(downloadFrom(sets, await tarOf(entries), dest), (err: Error) => {
      assert.ok(err instanceof kind, `${what}: ${err.constructor.name}: ${err.message}`)
      assert.match(err.message, message, what)
      return true
    })
    assert.equal(await lstat(dest).then(() => 'there', () => 'absent'), 'absent', `${what}: nothing where the results go`)
    // Only the staging directory (for the next download to replace) is beside it; nothing escaped.
    assert.deepEqual(await readdir(join(root, `case${index}`)), [`.cloudai-partial-${TASK}`], what)
  }
  assert.deepEqual((await readdir(root)).sort(), cases.map((_case, index) => `case${index}`).sort(), 'nothing landed beside the cases')
  assert.equal(await lstat(join(dir.path, 'escaped')).then(() => 'there', () => 'absent'), 'absent')
  // The same worker, honest this time: the same download lands whole.
  const dest = join(root, 'honest', 'out')
  await downloadFrom([set], await tarOf([{ name: '0/out', type: 'directory' }, digested('0/out/ok.txt', 'fine')]), dest)
  assert.deepEqual(await readdir(dest), ['ok.txt'])
})

test('a hostile worker\'s cut-off archive is refused as cut short; nothing lands', async () => {
  const content = 'z'.repeat(MiB)
  const set = summaryOf([{ path: 'big', content }])
  const whole = await tarOf([{ name: '0/out', type: 'directory' }, digested('0/out/big', content)])
  const dest = join(dir.path, 'cut', 'out')
  await assert.rejects(downloadFrom([set], whole.subarray(0, 200 * 1024), dest), (err: Error) => {
    assert.ok(err instanceof ArchiveRefusedError, err.message)
    assert.match(err.message, /the results: the archive is malformed or cut short/)
    return true
  })
  assert.equal(await lstat(dest).then(() => 'there', () => 'absent'), 'absent')
})
