import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh directory under the system temp dir; remove it with the returned function. */
export async function tempDir (prefix = 'cloudai-test-'): Promise<{ path: string, remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: async () => { await rm(path, { recursive: true, force: true }) } }
}

/**
 * A unique mDNS service tag per test, so concurrent runs never see each other. mDNS runs
 * only inside the network namespace scripts/test.sh creates (CLOUDAI_TEST_NETNS=1).
 */
export function mdnsTag (): string {
  return `cloudai-test-${randomBytes(4).toString('hex')}`
}

/** Tests that start mDNS must run inside the test namespace: refuse loudly elsewhere. */
export function requireTestNamespace (): void {
  if (process.env.CLOUDAI_TEST_NETNS !== '1') {
    throw new Error('this test sends mDNS multicast: run it through "npm test" (scripts/test.sh), which isolates it in a network namespace')
  }
}

/** Poll `check` until it returns true or `timeoutMs` passes; returns whether it became true. */
export async function waitFor (check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
  return await check()
}
