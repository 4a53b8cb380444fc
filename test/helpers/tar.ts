import * as tar from 'tar-stream'

/** One entry of a hand-made tar: tar-stream's header, and its content. */
export type TarEntry = Parameters<tar.Pack['entry']>[0] & { content?: string | Buffer }

/** A tar written by tar-stream from entries a hostile writer chose (any name, type, size or link). */
export async function tarOf (entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = (async () => { for await (const chunk of pack) chunks.push(chunk as Buffer) })()
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => { pack.entry(header, content ?? '', err => { if (err != null) reject(err); else resolve() }) })
  }
  pack.finalize()
  await done
  return Buffer.concat(chunks)
}
