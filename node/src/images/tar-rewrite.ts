import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { extract as tarExtract, pack as tarPack, type Header } from 'tar-stream'

type Headers = Header

/**
 * What to do with one entry of an archive being rewritten, decided from its header: pass it
 * through (`digest`: and hand its sha256 to `passed`), leave it out, or read it whole.
 */
export type EntryPlan = 'pass' | 'digest' | 'drop' | { read: number }

export interface TarRewriter {
  /** Pass the entry through, leave it out, or read it whole (at most `read` bytes) and hand it to `rewrite`. Throw to fail the archive. */
  plan(header: Headers): EntryPlan
  /** An entry read whole: the bytes to write in its place, or undefined to leave it out. Throw to fail the archive. */
  rewrite?(header: Headers, body: Buffer): Buffer | undefined
  /** An entry planned as `digest` has passed through whole: its sha256, in hex. Throw to fail the archive. */
  passed?(header: Headers, sha256: string): void
  /** After the last entry: throw to fail the archive (the output errors instead of ending). */
  finish?(): void
}

/** An archive entry larger than its plan allows to read whole. */
export class EntryTooLargeError extends Error {}

async function readWhole (entry: AsyncIterable<unknown>, limit: number, name: string): Promise<Buffer> {
  const parts: Buffer[] = []
  let size = 0
  for await (const chunk of entry) {
    const bytes = chunk as Buffer
    size += bytes.byteLength
    if (size > limit) throw new EntryTooLargeError(`the archive's entry "${name.slice(0, 120)}" is larger than ${limit} bytes`)
    parts.push(bytes)
  }
  return Buffer.concat(parts)
}

/**
 * Reads a tar archive from `source` and produces it again as `rewriter` says, entry by
 * entry, with flow control all the way: a slow reader of the output slows the reading of
 * `source`, so nothing is staged beyond the streams' own buffers (and an entry read whole,
 * which the plan bounds). A failure, of the source or the rewriter, destroys the output
 * with that error; it never ends as if complete.
 */
export function rewriteTar (source: AsyncIterable<Uint8Array>, rewriter: TarRewriter): Readable {
  const extract = tarExtract()
  const pack = tarPack()
  let failed = false
  const fail = (err: unknown): void => {
    if (failed) return
    failed = true
    extract.destroy()
    pack.destroy(err instanceof Error ? err : new Error(String(err)))
  }
  // Written by hand rather than piped: a pipe neither passes the source's errors on nor stops the source when the archive fails.
  const feed = async (): Promise<void> => {
    for await (const chunk of source) {
      if (failed) return
      if (!extract.write(chunk)) {
        await new Promise<void>(resolve => {
          const done = (): void => { extract.off('drain', done); extract.off('close', done); resolve() }
          extract.on('drain', done)
          extract.on('close', done)
        })
      }
    }
    if (!failed) extract.end(undefined)
  }
  const pump = async (): Promise<void> => {
    for await (const entry of extract) {
      const header = entry.header
      const plan = rewriter.plan(header)
      if (plan === 'drop') {
        for await (const chunk of entry) void chunk
        continue
      }
      if (plan === 'pass' || plan === 'digest') {
        const hash = plan === 'digest' ? createHash('sha256') : undefined
        let entryWritten!: (err?: Error | null) => void
        const written = new Promise<void>((resolve, reject) => { entryWritten = err => { if (err != null) reject(err); else resolve() } })
        written.catch(() => {})
        const out = pack.entry({ ...header }, err => { entryWritten(err) })
        // A destroyed archive fails its open entry too: that error is the callback's, not an unhandled one.
        out.on('error', err => { entryWritten(err) })
        // Copied by hand: the output's backpressure holds the entry (and so the source) back.
        for await (const chunk of entry) {
          hash?.update(chunk as Buffer)
          if (!out.write(chunk)) await new Promise<void>(resolve => { const go = (): void => { out.off('drain', go); out.off('close', go); resolve() }; out.on('drain', go); out.on('close', go) })
        }
        out.end(undefined)
        await written
        if (hash !== undefined) rewriter.passed?.(header, hash.digest('hex'))
        continue
      }
      const body = await readWhole(entry, plan.read, header.name)
      const replaced = rewriter.rewrite?.(header, body)
      if (replaced === undefined) continue
      await new Promise<void>((resolve, reject) => {
        pack.entry({ ...header, size: replaced.byteLength }, replaced, err => { if (err != null) reject(err); else resolve() }).on('error', reject)
      })
    }
    rewriter.finish?.()
    pack.finalize()
  }
  feed().catch(fail)
  pump().catch(fail)
  return pack as unknown as Readable
}
