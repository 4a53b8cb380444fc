import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, afterEach, before } from 'node:test'
import { runCli, startDaemonProcess, type DaemonProcess } from './cli.ts'
import { ensureTestImage, removeTaskContainers, taskContainers } from './docker.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from './env.ts'

/** One daemon offering 2 CPUs on the real engine, as the test file's `before` made it. */
export interface SoloDaemon {
  dataDir: string
  nodeId: string
  process?: DaemonProcess
}

/**
 * Start one daemon ("solo", 2 CPUs) for a docker test file, check after each test that no
 * task container is left behind, and remove everything at the end. Call at the file's top
 * level: it registers the file's before/afterEach/after hooks; the fields are set in `before`.
 */
export function useSoloDaemon (): SoloDaemon {
  const solo: SoloDaemon = { dataDir: '', nodeId: '' }
  let dir: { path: string, remove: () => Promise<void> } | undefined
  before(async () => {
    requireTestNamespace()
    await ensureTestImage()
    dir = await tempDir()
    solo.dataDir = join(dir.path, 'solo')
    const init = await runCli(['--data-dir', solo.dataDir, 'init', '--json'])
    assert.equal(init.code, 0, init.stderr)
    solo.process = await startDaemonProcess(solo.dataDir, ['--name', 'solo', '--mdns-tag', mdnsTag(), '--cpu', '2'])
    const id = await runCli(['--data-dir', solo.dataDir, 'id', '--json'])
    assert.equal(id.code, 0, id.stderr)
    solo.nodeId = JSON.parse(id.stdout).peerId
  })
  afterEach(async () => {
    const gone = await waitFor(async () => (await taskContainers([solo.nodeId])).length === 0, 5_000, 200)
    assert.ok(gone, `no task container is left behind: ${(await taskContainers([solo.nodeId])).join(', ')}`)
  })
  after(async () => {
    if (solo.nodeId !== '') await removeTaskContainers([solo.nodeId])
    await solo.process?.stop('SIGKILL')
    await dir?.remove()
  })
  return solo
}
